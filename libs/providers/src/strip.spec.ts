import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dropNullUsage, MAX_HELD_EVENT, UsageChunkStripper, usageOnly } from './strip';

const USAGE_CHUNK =
  'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}';

function strip(pieces: Buffer[], provider = ''): string {
  const s = new UsageChunkStripper(provider);
  const out: Buffer[] = [];
  for (const p of pieces) out.push(s.write(p));
  out.push(s.end());
  return Buffer.concat(out).toString('utf8');
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('UsageChunkStripper', () => {
  const content =
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}';
  const finishWithUsage =
    'data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}';
  const rows: Array<[string, string, string]> = [
    [
      'drops usage-only chunk',
      `${content}\n\n${USAGE_CHUNK}\n\ndata: [DONE]\n\n`,
      `${content}\n\ndata: [DONE]\n\n`,
    ],
    [
      'crlf',
      `${content}\r\n\r\n${USAGE_CHUNK}\r\n\r\ndata: [DONE]\r\n\r\n`,
      `${content}\r\n\r\ndata: [DONE]\r\n\r\n`,
    ],
    ['cr', `${content}\r\r${USAGE_CHUNK}\r\rdata: [DONE]\r\r`, `${content}\r\rdata: [DONE]\r\r`],
    [
      'comments kept, data without space',
      `: OPENROUTER PROCESSING\n\n${content}\n\n${USAGE_CHUNK.replace('data: ', 'data:')}\n\n`,
      `: OPENROUTER PROCESSING\n\n${content}\n\n`,
    ],
    [
      'usage on a chunk with choices is left alone',
      `${content}\n\n${finishWithUsage}\n\ndata: [DONE]\n\n`,
      `${content}\n\n${finishWithUsage}\n\ndata: [DONE]\n\n`,
    ],
    [
      'null usage with empty choices kept',
      'data: {"object":"chat.completion.chunk","choices":[],"usage":null}\n\n',
      'data: {"object":"chat.completion.chunk","choices":[],"usage":null}\n\n',
    ],
    [
      'other object kept',
      'data: {"object":"response","choices":[],"usage":{"input_tokens":1}}\n\n',
      'data: {"object":"response","choices":[],"usage":{"input_tokens":1}}\n\n',
    ],
    [
      'legacy completions usage chunk dropped',
      'data: {"object":"text_completion","choices":[],"usage":{"prompt_tokens":1}}\n\ndata: [DONE]\n\n',
      'data: [DONE]\n\n',
    ],
    [
      'multi-line data joined',
      'data: {"object":"chat.completion.chunk",\ndata: "choices":[],"usage":{"prompt_tokens":1}}\n\ndata: [DONE]\n\n',
      'data: [DONE]\n\n',
    ],
    [
      'unterminated trailing event flushed on end',
      `${content}\n\n${USAGE_CHUNK}`,
      `${content}\n\n${USAGE_CHUNK}`,
    ],
    ['extra blank lines kept', `\n\n${content}\n\n\n`, `\n\n${content}\n\n\n`],
    ['invalid json kept', 'data: {"choices":[],"usage":{\n\n', 'data: {"choices":[],"usage":{\n\n'],
  ];

  it.each(rows.map(([name, input, want]) => ({ name, input, want })))(
    '$name (whole, every split, byte by byte)',
    ({ input, want }) => {
      const bytes = b(input);
      expect(strip([bytes])).toBe(want);
      for (let i = 0; i <= bytes.length; i++) {
        const got = strip([bytes.subarray(0, i), bytes.subarray(i)]);
        if (got !== want) throw new Error(`split at ${i}: ${JSON.stringify(got)}`);
      }
      const pieces = [...bytes].map((c) => Buffer.from([c]));
      expect(strip(pieces)).toBe(want);
    },
  );

  it('forwards each complete event at its blank line, not later', () => {
    const s = new UsageChunkStripper();
    const ev = 'data: {"choices":[{"delta":{"content":"a"}}]}\n\n';
    expect(s.write(b(ev.slice(0, 10))).length).toBe(0);
    expect(s.write(b(ev.slice(10, ev.length - 1))).length).toBe(0);
    expect(s.write(b(ev.slice(ev.length - 1))).toString()).toBe(ev);
    // CRLF: the event is complete at the blank line's CR; its LF follows at once.
    expect(s.write(b('data: x\r\n\r')).toString()).toBe('data: x\r\n\r');
    expect(s.write(b('\n')).toString()).toBe('\n');
  });

  it('forwards an event past the cap as it arrives, byte-exact', () => {
    const big = `data: {"choices":[],"usage":{},"pad":"${'x'.repeat(MAX_HELD_EVENT)}"}\n\n`;
    const s = new UsageChunkStripper();
    const first = s.write(b(big.slice(0, MAX_HELD_EVENT + 10)));
    expect(first.length).toBeGreaterThanOrEqual(MAX_HELD_EVENT);
    const rest = s.write(b(big.slice(MAX_HELD_EVENT + 10) + USAGE_CHUNK + '\n\n'));
    const tail = s.end();
    expect(Buffer.concat([first, rest, tail]).toString()).toBe(big);
  });

  it('does not keep references to the caller chunk', () => {
    const s = new UsageChunkStripper();
    const chunk = b('data: {"a":1}');
    s.write(chunk);
    chunk.fill(0x20);
    expect(s.write(b('\n\n')).toString()).toBe('data: {"a":1}\n\n');
  });

  describe('recorded streams (fixtures)', () => {
    const dir = join(__dirname, 'fixtures');
    const files = readdirSync(dir).filter((f) => f.endsWith('.sse'));
    const withUsageChunk = new Set([
      'openai_chat_stream_usage.sse',
      'openai_completions_stream.sse',
      'openrouter_stream.sse',
      'fireworks_stream.sse',
    ]);
    it.each(files.map((file) => ({ file })))(
      '$file: output = input minus the usage-only events',
      ({ file }) => {
        const input = readFileSync(join(dir, file));
        const want = input
          .toString('utf8')
          .split(/(?<=\n\n)/)
          .filter((ev) => !usageOnly(b(ev)))
          .join('');
        let seed = file.length;
        const rand = (n: number): number => {
          // mulberry32: low bits usable, unlike a plain LCG's
          seed = (seed + 0x6d2b79f5) | 0;
          let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
          t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
          return ((t ^ (t >>> 14)) >>> 0) % n;
        };
        const chunks: Buffer[] = [];
        for (let rest = input; rest.length > 0;) {
          const n = 1 + rand(Math.min(rest.length, 300));
          chunks.push(rest.subarray(0, n));
          rest = rest.subarray(n);
        }
        const got = strip(chunks);
        expect(got).toBe(want);
        const dropped = input.length - Buffer.byteLength(got);
        if (withUsageChunk.has(file)) {
          expect(dropped).toBeGreaterThan(0);
          expect(got).not.toMatch(/"choices":\[\],"usage":\{/);
        } else {
          expect(dropped).toBe(0);
        }
      },
    );
  });

  it('is independent of chunking and never lengthens a stream (fuzz)', () => {
    const atoms = [
      USAGE_CHUNK,
      'data: {"usage":null,"choices":[]}',
      'data: x',
      ': c',
      '\r',
      '\n',
      '\r\n',
      'event: e',
      '"usage"',
      'data: [DONE]',
    ];
    let seed = 3;
    const rand = (n: number): number => {
      // mulberry32: low bits usable, unlike a plain LCG's
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    for (let round = 0; round < 1500; round++) {
      let s = '';
      for (let k = rand(12); k >= 0; k--) s += atoms[rand(atoms.length)];
      const input = b(s);
      const whole = strip([input], 'openai');
      const step = 1 + rand(64);
      const chunks: Buffer[] = [];
      for (let i = 0; i < input.length; i += step) chunks.push(input.subarray(i, i + step));
      expect(strip(chunks, 'openai')).toBe(whole);
      expect(Buffer.byteLength(whole)).toBeLessThanOrEqual(input.length);
      if (!s.includes('"usage"')) expect(whole).toBe(s);
    }
  });
});

describe('dropNullUsage', () => {
  const rows: Array<[string, string | null]> = [
    [
      'data: {"id":"c","choices":[{"delta":{"content":"hi"}}],"usage":null}\n\n',
      'data: {"id":"c","choices":[{"delta":{"content":"hi"}}]}\n\n',
    ],
    ['data: {"usage":null,"id":"c","choices":[]}\n\n', 'data: {"id":"c","choices":[]}\n\n'],
    ['data: {"id":"c", "usage": null, "choices":[]}\r\n\r\n', 'data: {"id":"c", "choices":[]}\r\n\r\n'],
    ['data: {"usage":null}\n\n', 'data: {}\n\n'],
    // Not top level, inside a string, not null, invalid JSON, several data lines: untouched.
    ['data: {"x":{"usage":null}}\n\n', null],
    ['data: {"c":"a,\\"usage\\":null}"}\n\n', null],
    ['data: {"usage":{"prompt_tokens":1}}\n\n', null],
    ['data: {"usage":null\n\n', null],
    ['data: {"a":1,\ndata: "usage":null}\n\n', null],
    ['data: [DONE]\n\n', null],
  ];
  it.each(rows.map(([input, want]) => ({ input, want })))('$input', ({ input, want }) => {
    expect(dropNullUsage(b(input)).toString()).toBe(want ?? input);
  });

  it('with OpenAI, the stripper gives the bytes the provider sends without the option', () => {
    const withOption =
      'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}\n\n' +
      'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}\n\n' +
      'data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}\n\n' +
      'data: [DONE]\n\n';
    const without =
      'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n' +
      'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n' +
      'data: [DONE]\n\n';
    for (let split = 1; split < withOption.length; split += 7) {
      expect(strip([b(withOption.slice(0, split)), b(withOption.slice(split))], 'openai')).toBe(without);
    }
  });

  it('keeps "usage":null for hosts not known to add it only with the option', () => {
    const input = 'data: {"object":"chat.completion.chunk","choices":[{"delta":{}}],"usage":null}\n\n';
    for (const p of ['deepseek', 'groq', '']) expect(strip([b(input)], p)).toBe(input);
  });
});
