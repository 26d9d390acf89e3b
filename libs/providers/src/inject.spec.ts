import { clientAskedUsage, injectIncludeUsage, InjectError, isInjectablePath } from './inject';

const STREAM_OPTIONS = '"stream_options":{"include_usage":true}';

type Row = { name: string; input: string; want?: string; injected: boolean; error?: InjectError };

const rows: Row[] = [
  {
    name: 'adds stream_options',
    input: '{"model":"gpt-4o","stream":true,"messages":[]}',
    want: '{"model":"gpt-4o","stream":true,"messages":[],"stream_options":{"include_usage":true}}',
    injected: true,
  },
  {
    name: 'keeps whitespace and layout',
    input: '{\n  "model": "gpt-4o",\n  "stream" : true\n}\n',
    want: '{\n  "model": "gpt-4o",\n  "stream" : true,"stream_options":{"include_usage":true}\n}\n',
    injected: true,
  },
  { name: 'not streaming', input: '{"model":"gpt-4o","stream":false}', injected: false },
  { name: 'no stream key', input: '{"model":"gpt-4o"}', injected: false },
  { name: 'stream is a string', input: '{"stream":"true"}', injected: false },
  {
    name: 'already asked',
    input: '{"stream":true,"stream_options":{"include_usage":true}}',
    injected: false,
  },
  {
    name: 'empty stream_options',
    input: '{"stream":true,"stream_options":{ }}',
    want: '{"stream":true,"stream_options":{"include_usage":true }}',
    injected: true,
  },
  {
    name: 'other stream_options member',
    input: '{"stream":true,"stream_options":{"include_obfuscation":false}}',
    want: '{"stream":true,"stream_options":{"include_obfuscation":false,"include_usage":true}}',
    injected: true,
  },
  {
    name: 'explicit false is flipped',
    input: '{"stream":true,"stream_options":{"include_usage":false}}',
    want: '{"stream":true,"stream_options":{"include_usage":true}}',
    injected: true,
  },
  {
    name: 'null include_usage',
    input: '{"stream":true,"stream_options":{"include_usage":null}}',
    want: '{"stream":true,"stream_options":{"include_usage":true}}',
    injected: true,
  },
  {
    name: 'null stream_options',
    input: '{"stream":true,"stream_options":null}',
    want: '{"stream":true,"stream_options":{"include_usage":true}}',
    injected: true,
  },
  {
    name: 'words inside strings and nested objects',
    input:
      '{"messages":[{"role":"user","content":"\\"stream\\":true, \\"stream_options\\": {}"}],"metadata":{"stream":false,"stream_options":1},"stream":true}',
    want: '{"messages":[{"role":"user","content":"\\"stream\\":true, \\"stream_options\\": {}"}],"metadata":{"stream":false,"stream_options":1},"stream":true,"stream_options":{"include_usage":true}}',
    injected: true,
  },
  { name: 'nested stream true only', input: '{"metadata":{"stream":true}}', injected: false },
  {
    name: 'escaped key is the same key',
    input: '{"stre\\u0061m":true}',
    want: '{"stre\\u0061m":true,"stream_options":{"include_usage":true}}',
    injected: true,
  },
  {
    name: 'duplicate stream',
    input: '{"stream":false,"stream":true}',
    injected: false,
    error: 'duplicate_key',
  },
  {
    name: 'duplicate stream_options',
    input: '{"stream":true,"stream_options":{},"stream_options":{}}',
    injected: false,
    error: 'duplicate_key',
  },
  {
    name: 'escaped duplicate',
    input: '{"stream":true,"stream_\\u006fptions":{},"stream_options":{}}',
    injected: false,
    error: 'duplicate_key',
  },
  {
    name: 'duplicate include_usage',
    input: '{"stream":true,"stream_options":{"include_usage":false,"include_usage":true}}',
    injected: false,
    error: 'duplicate_key',
  },
  {
    name: 'stream_options not an object',
    input: '{"stream":true,"stream_options":[1]}',
    injected: false,
    error: 'stream_options_not_object',
  },
  { name: 'array body', input: '[{"stream":true}]', injected: false },
  { name: 'string body', input: '"stream"', injected: false },
  { name: 'invalid json', input: '{"stream":true,', injected: false, error: 'invalid_json' },
  { name: 'empty body', input: '', injected: false, error: 'invalid_json' },
  {
    name: 'unicode and numbers kept',
    input: '{"stream":true,"temperature":1.0e0,"x":"é😀"}',
    want: '{"stream":true,"temperature":1.0e0,"x":"é😀","stream_options":{"include_usage":true}}',
    injected: true,
  },
];

/**
 * The invariants of an injection: valid JSON that asks for usage and differs from the input by one contiguous
 * change no larger than the splice, and semantically equal to the input with include_usage set to true.
 */
function checkInjected(input: Buffer, out: Buffer): void {
  JSON.parse(out.toString('utf8'));
  let p = 0;
  while (p < input.length && p < out.length && input[p] === out[p]) p++;
  let s = 0;
  while (
    s < input.length - p &&
    s < out.length - p &&
    input[input.length - 1 - s] === out[out.length - 1 - s]
  )
    s++;
  const removed = input.subarray(p, input.length - s);
  const added = out.subarray(p, out.length - s);
  expect(removed.length).toBeLessThanOrEqual('false'.length);
  expect(added.length).toBeLessThanOrEqual(`,${STREAM_OPTIONS}`.length);
  const a = JSON.parse(input.toString('utf8')) as Record<string, unknown>;
  const b = JSON.parse(out.toString('utf8')) as Record<string, unknown>;
  const so = (typeof a.stream_options === 'object' && a.stream_options) || {};
  a.stream_options = { ...(so as object), include_usage: true };
  expect(b).toEqual(a);
  expect(clientAskedUsage(out)).toBe(true);
}

describe('injectIncludeUsage', () => {
  it.each(rows)('$name', ({ input, want, injected, error }) => {
    const body = Buffer.from(input, 'utf8');
    const res = injectIncludeUsage(body);
    expect(res.error).toBe(error);
    expect(res.injected).toBe(injected);
    expect(res.body.toString('utf8')).toBe(want ?? input);
    if (injected) checkInjected(body, res.body);
    else expect(res.body).toBe(body);
  });

  it('keeps every invariant for mutated bodies, and a second injection changes nothing (fuzz)', () => {
    const seeds = [
      '{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}',
      '{"stream":true,"stream_options":{}}',
      '{"stream":true,"stream_options":{"include_usage":false}}',
      '{"stream":true,"stream_options":null}',
      '{ "stream" : true , "n" : [1, {"stream_options":2}] }',
      '{"stre\\u0061m":true}',
      '[true]',
      '{}',
      '{"stream":true,"stream":true}',
    ];
    const alphabet = '{}[]":,\\ tnrue01stream_opinclud\n';
    let seed = 99;
    const rand = (n: number): number => {
      // mulberry32: low bits usable, unlike a plain LCG's
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    let injectedCount = 0;
    for (let round = 0; round < 5000; round++) {
      let s = seeds[rand(seeds.length)];
      for (let k = rand(3); k > 0; k--) {
        const at = rand(s.length + 1);
        const op = rand(3);
        const ch = alphabet[rand(alphabet.length)];
        if (op === 0) s = s.slice(0, at) + ch + s.slice(at);
        else if (op === 1) s = s.slice(0, at) + s.slice(at + 1);
        else s = s.slice(0, at) + ch + s.slice(at + 1);
      }
      const body = Buffer.from(s, 'utf8');
      const res = injectIncludeUsage(body);
      if (!res.injected) {
        expect(res.body.equals(body)).toBe(true);
        continue;
      }
      injectedCount++;
      checkInjected(body, res.body);
      const again = injectIncludeUsage(res.body);
      expect(again.injected).toBe(false);
      expect(again.error).toBeUndefined();
      expect(again.body.equals(res.body)).toBe(true);
    }
    expect(injectedCount).toBeGreaterThan(100);
  });
});

describe('clientAskedUsage', () => {
  const table: Array<[string, boolean]> = [
    ['{"stream":true,"stream_options":{"include_usage":true}}', true],
    ['{"stream":true,"stream_options":{"include_usage":false}}', false],
    ['{"stream":true}', false],
    ['{"stream":true,"stream_options":null}', false],
    ['not json', false],
  ];
  it.each(table.map(([body, want]) => ({ body, want })))('$body', ({ body, want }) => {
    expect(clientAskedUsage(Buffer.from(body))).toBe(want);
  });
});

describe('isInjectablePath', () => {
  it('accepts chat completions and legacy completions only', () => {
    expect(isInjectablePath('/v1/chat/completions')).toBe(true);
    expect(isInjectablePath('/v1beta/openai/chat/completions')).toBe(true);
    expect(isInjectablePath('/v1/completions')).toBe(true);
    expect(isInjectablePath('/v1/responses')).toBe(false);
    expect(isInjectablePath('/v1/embeddings')).toBe(false);
  });
});
