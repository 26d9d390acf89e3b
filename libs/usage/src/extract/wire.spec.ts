import { isObject, looksLikeObject, parseExact, stringifyExact } from '../json/exact-json';
import { satAdd, wireNum } from '../json/numbers';
import { compactJson } from './anthropic/anthropic-extractor';
import { TextTally } from './text-tally';
import { CappedBody, contentMode, sniff } from './wire';

describe('wire helpers', () => {
  it.each([
    ['text/event-stream', 'sse'],
    ['text/event-stream; charset=utf-8', 'sse'],
    ['application/json', 'json'],
    ['application/json; charset=UTF-8', 'json'],
    ['application/problem+json', 'json'],
    ['text/plain', 'unknown'],
    ['', 'unknown'],
    [';;', 'unknown'],
  ])('contentMode(%j) = %s', (ct, want) => {
    expect(contentMode(ct)).toBe(want);
  });

  it.each([
    [' \r\n\t{"a":1}', '{', 'json', '{"a":1}'],
    ['[{}]', '{', 'sse', '[{}]'],
    ['[{}]', '{[', 'json', '[{}]'],
    ['\ndata: {}', '{[', 'sse', 'data: {}'],
    [' \r\n', '{', 'unknown', ''],
    ['', '{', 'unknown', ''],
  ])('sniff(%j, %j)', (input, openers, mode, rest) => {
    const [m, r] = sniff(Buffer.from(input), openers);
    expect([m, r.toString()]).toEqual([mode, rest]);
  });

  it('CappedBody abandons a body over the cap', () => {
    const c = new CappedBody(5);
    c.write(Buffer.from('abc'));
    c.write(Buffer.from('de'));
    expect([c.over, c.text()]).toEqual([false, 'abcde']);
    c.write(Buffer.from('f'));
    c.write(Buffer.from(''));
    expect([c.over, c.text()]).toEqual([true, '']);
  });

  it.each([
    ['{"n":12}', { v: 12, ok: true }],
    ['{"n":0}', { v: 0, ok: true }],
    ['{"n":9223372036854775807}', { v: Number.MAX_SAFE_INTEGER, ok: true }],
    ['{"n":9223372036854775808}', { v: 0, ok: false }],
    ['{"n":-3}', { v: 0, ok: false }],
    ['{"n":1.5}', { v: 0, ok: false }],
    ['{"n":1e3}', { v: 0, ok: false }],
    ['{"n":"12"}', { v: 0, ok: false }],
    ['{"n":null}', { v: 0, ok: false }],
    ['{}', { v: 0, ok: false }],
  ])('count %s', (json, want) => {
    const o = parseExact(json);
    expect(isObject(o) && wireNum(o.n)).toEqual(want);
  });

  it('adds saturating', () => {
    expect(satAdd(1, 2)).toBe(3);
    expect(satAdd(Number.MAX_SAFE_INTEGER, 1)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('parses exactly, tolerates nothing malformed', () => {
    expect(parseExact('{"a":')).toBeUndefined();
    expect(parseExact('{"a":1} x')).toBeUndefined();
    expect(stringifyExact(parseExact('{"c": 4.1400000000000003e-05, "s":"\\u00e9"}')!)).toBe(
      '{"c":4.1400000000000003e-05,"s":"é"}',
    );
    for (const [input, want] of [
      [' \n{}', true],
      ['[{}]', false],
      ['', false],
      ['  ', false],
      ['null', false],
    ] as const) {
      expect(looksLikeObject(input)).toBe(want);
    }
  });

  it('compacts tool input for counting', () => {
    expect(compactJson(parseExact('{ "city" : "Paris" }'))).toBe('{"city":"Paris"}');
    expect(compactJson(null)).toBe('');
    expect(compactJson(undefined)).toBe('');
  });
});

describe('TextTally', () => {
  it('without a counter: characters (code points, not bytes) and chars/4', () => {
    const t = new TextTally();
    t.add('héllo');
    t.add('');
    t.add(' wörld');
    expect(t.outputChars()).toBe(11);
    expect(t.estimate()).toBe(3);
  });

  it('hands long text to the counter in batches cut at whitespace', () => {
    let calls = 0;
    const t = new TextTally({
      count: (s) => {
        calls++;
        return s.split(/\s+/).filter(Boolean).length;
      },
    });
    for (let i = 0; i < 10000; i++) t.add('lorem ipsum dolor ');
    expect(t.estimate()).toBe(30000);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(t.outputChars()).toBe('lorem ipsum dolor '.length * 10000);
  });

  it('flushes text without whitespace too (bounded memory)', () => {
    let seen = 0;
    const t = new TextTally({
      count: (s) => {
        seen += s.length;
        return 1;
      },
    });
    for (let i = 0; i < 48; i++) t.add('x'.repeat(1024));
    expect(seen).toBeGreaterThanOrEqual(32 << 10);
    expect(t.estimate()).toBeGreaterThan(0);
    expect(seen).toBe(48 * 1024);
  });
});
