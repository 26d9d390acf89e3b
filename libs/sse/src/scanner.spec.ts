import { SseEvent, SseScanner } from './scanner';

type Got = [event: string, data: string, oversized: boolean];

function scanAll(chunks: Buffer[], maxEventBytes = 0): Got[] {
  const scanner = new SseScanner({ maxEventBytes });
  const events: SseEvent[] = [];
  for (const c of chunks) events.push(...scanner.push(c));
  events.push(...scanner.end());
  return events.map((e) => [e.event, e.data, e.oversized === true]);
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('SseScanner', () => {
  const cases: Array<[name: string, input: string, want: Got[], max?: number]> = [
    [
      'lf',
      'data: a\n\ndata: b\n\n',
      [
        ['', 'a', false],
        ['', 'b', false],
      ],
    ],
    ['crlf', 'event: x\r\ndata: a\r\n\r\n', [['x', 'a', false]]],
    [
      'cr',
      'data: a\r\rdata: b\r\r',
      [
        ['', 'a', false],
        ['', 'b', false],
      ],
    ],
    ['multi data', 'data: a\ndata: b\n\n', [['', 'a\nb', false]]],
    ['comment and no space', ': ping\ndata:x\n\n', [['', 'x', false]]],
    [
      'unterminated last',
      'data: a\n\ndata: tail',
      [
        ['', 'a', false],
        ['', 'tail', false],
      ],
    ],
    ['no data no event', 'event: e\n\n', []],
    ['done', 'data: [DONE]\n\n', [['', '[DONE]', false]]],
    ['overflow', 'data: 0123456789\n\n', [['', '01234', true]], 5],
    ['only one space stripped', 'data:  two\n\n', [['', ' two', false]]],
    ['field without colon', 'data\n\n', [['', '', false]]],
    ['unknown field ignored', 'retry: 5\nfoo: bar\ndata: x\n\n', [['', 'x', false]]],
    [
      'overlong line',
      `data: ${'x'.repeat(200)}\n\ndata: ok\n\n`,
      [
        ['', 'x'.repeat(10), true],
        ['', 'ok', false],
      ],
      10,
    ],
    ['utf8 data', 'data: héllo ✓\n\n', [['', 'héllo ✓', false]]],
  ];
  it.each(cases.map(([name, input, want, max]) => ({ name, input, want, max })))(
    '$name',
    ({ input, want, max }) => {
      expect(scanAll([b(input)], max)).toEqual(want);
    },
  );

  it('keeps the id of an event', () => {
    const s = new SseScanner();
    expect(s.push(b('id: 7\nevent: e\ndata: x\n\ndata: y\n\n'))).toEqual([
      { event: 'e', data: 'x', id: '7' },
      { event: '', data: 'y' },
    ]);
  });

  it('returns events as soon as their blank line arrives', () => {
    const s = new SseScanner();
    expect(s.push(b('data: a\n'))).toEqual([]);
    expect(s.push(b('\n'))).toEqual([{ event: '', data: 'a' }]);
    expect(s.end()).toEqual([]);
  });

  it('does not double-count a CRLF split across chunks', () => {
    const s = new SseScanner();
    expect(s.push(b('data: a\r'))).toEqual([]);
    // The LF completes the CRLF; only the next CR dispatches.
    expect(s.push(b('\n'))).toEqual([]);
    expect(s.push(b('\r\n'))).toEqual([{ event: '', data: 'a' }]);
  });

  it('gives the same events whatever the split (every two-cut split)', () => {
    const input = 'event: message_start\r\ndata: {"a":1}\r\n\r\n: c\ndata: x\ndata: y\n\ndata: z\r\r';
    const bytes = b(input);
    const want = scanAll([bytes]);
    expect(want).toHaveLength(3);
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const got = scanAll([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]);
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          throw new Error(`split ${i},${j}: ${JSON.stringify(got)}`);
        }
      }
    }
  });

  it('gives the same events for random chunkings of random streams (fuzz)', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      // mulberry32: low bits usable, unlike a plain LCG's
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const alphabet = ['data: ', 'event: ', ':c', 'id: ', 'x', 'é', '\r', '\n', '\r\n', ' ', ':', 'data:'];
    for (let round = 0; round < 500; round++) {
      let input = '';
      const parts = 1 + rand(40);
      for (let k = 0; k < parts; k++) input += alphabet[rand(alphabet.length)];
      const bytes = b(input);
      const want = scanAll([bytes], 16);
      const chunks: Buffer[] = [];
      for (let rest = bytes; rest.length > 0;) {
        const n = 1 + rand(rest.length);
        chunks.push(rest.subarray(0, n));
        rest = rest.subarray(n);
      }
      expect(scanAll(chunks, 16)).toEqual(want);
    }
  });

  it('does not keep references to the caller chunk', () => {
    const s = new SseScanner();
    const chunk = b('data: abc');
    s.push(chunk);
    chunk.fill(0x7a);
    expect(s.push(b('\n\n'))).toEqual([{ event: '', data: 'abc' }]);
  });
});
