// The fast path for the common X-ASO-Dims form: `key=value,key=value` in plain ASCII, no spaces, no empty
// parts. One pass, no trimming or Unicode checks; anything else (including every error) is left to the
// general parser, which gives the same pairs for what this accepts.

type Pair = [key: string, value: string];

function isAlnum(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
}

/**
 * The pairs of a plain header (keys lower-cased), or null to take the general path: keys
 * `[A-Za-z0-9][A-Za-z0-9_.-]*`, values of printable ASCII without space, ',', '=' or '"', no empty element,
 * no duplicate key, at most `maxPairs` pairs.
 */
export function plainDimsPairs(v: string, maxPairs: number): Pair[] | null {
  const n = v.length;
  const pairs: Pair[] = [];
  let i = 0;
  for (;;) {
    const keyStart = i;
    if (i >= n || !isAlnum(v.charCodeAt(i))) return null;
    i++;
    let c = 0;
    while (i < n && (c = v.charCodeAt(i)) !== 0x3d) {
      if (!isAlnum(c) && c !== 0x5f && c !== 0x2e && c !== 0x2d) return null;
      i++;
    }
    if (i >= n) return null; // no '='
    const keyEnd = i++;
    const valueStart = i;
    while (i < n && (c = v.charCodeAt(i)) !== 0x2c) {
      if (c <= 0x20 || c >= 0x7f || c === 0x3d || c === 0x22) return null;
      i++;
    }
    if (i === valueStart || pairs.length === maxPairs) return null;
    const k = v.slice(keyStart, keyEnd).toLowerCase();
    for (const p of pairs) if (p[0] === k) return null;
    pairs.push([k, v.slice(valueStart, i)]);
    if (i === n) return pairs;
    i++; // the ','; an element must follow
  }
}
