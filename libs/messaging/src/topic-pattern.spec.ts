import { topicMatches } from './topic-pattern';

describe('topicMatches (AMQP topic rules)', () => {
  it.each([
    ['usage.captured.v1', 'usage.captured.v1', true],
    ['usage.captured.v1', 'usage.captured.v2', false],
    ['usage.*.v1', 'usage.priced.v1', true],
    ['usage.*.v1', 'usage.a.b.v1', false],
    ['usage.*', 'usage', false],
    ['usage.#', 'usage', true],
    ['usage.#', 'usage.a.b.c', true],
    ['#', 'anything.at.all', true],
    ['#', '', true],
    ['#.v1', 'auth.key.changed.v1', true],
    ['#.v1', 'auth.key.changed.v2', false],
    ['a.#.z', 'a.z', true],
    ['a.#.z', 'a.b.c.z', true],
    ['a.#.z', 'a.b.c', false],
    ['*.*', 'a.b', true],
    ['*.*', 'a', false],
    ['a.#.#.b', 'a.b', true],
  ])('%s matches %s: %s', (pattern, key, expected) => {
    expect(topicMatches(pattern, key)).toBe(expected);
  });
});
