// AMQP topic matching: words separated by '.', '*' matches exactly one word, '#' zero or more. The in-process
// transport uses it so that both transports route the same keys the same way.
export function topicMatches(pattern: string, routingKey: string): boolean {
  return matchWords(pattern.split('.'), 0, routingKey.split('.'), 0);
}

function matchWords(pattern: string[], p: number, key: string[], k: number): boolean {
  while (p < pattern.length) {
    const word = pattern[p];
    if (word === '#') {
      // '#' swallows any number of words: try every split point.
      for (let skip = k; skip <= key.length; skip++) {
        if (matchWords(pattern, p + 1, key, skip)) return true;
      }
      return false;
    }
    if (k >= key.length) return false;
    if (word !== '*' && word !== key[k]) return false;
    p++;
    k++;
  }
  return k === key.length;
}
