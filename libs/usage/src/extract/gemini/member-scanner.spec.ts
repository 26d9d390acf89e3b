import { randomChunks, readFixture, rng } from '../testkit';
import { MemberScanner } from './member-scanner';

type Member = [key: string, value: string];

function scan(max: number, ...chunks: Buffer[]): Member[] {
  const out: Member[] = [];
  const s = new MemberScanner(
    max,
    () => true,
    (k, v) => out.push([k, v.toString('utf8')]),
  );
  for (const c of chunks) s.write(c);
  return out;
}

describe('MemberScanner', () => {
  it.each([
    [
      'object',
      '{"a": 1, "b" : {"c":[1,2]} ,"d":"x"}',
      [
        ['a', '1'],
        ['b', '{"c":[1,2]}'],
        ['d', '"x"'],
      ],
    ],
    [
      'array stream crlf',
      '[{"a":1}\r\n,{"a":2\n}\r\n]',
      [
        ['a', '1'],
        ['a', '2'],
      ],
    ],
    [
      'strings with structure',
      '{"t":"a\\"},{\\\\","u":"]"}',
      [
        ['t', '"a\\"},{\\\\"'],
        ['u', '"]"'],
      ],
    ],
    ['escaped key kept raw', '{"k\\"ey":true}', [['k\\"ey', 'true']]],
    ['empty', '{} [] [{}]', []],
    ['non-object elements skipped', '[1,"x",[{"a":1}],{"b":2}]', [['b', '2']]],
    [
      'concatenated values',
      '{"a":1}{"b":2}',
      [
        ['a', '1'],
        ['b', '2'],
      ],
    ],
    ['cut mid value', '[{"a":1,"b":{"c":', [['a', '1']]],
    ['stray closers', ']]}}{"a":1}', [['a', '1']]],
    ['nested record-like objects ignored', '{"a":{"b":{"c":1}}}', [['a', '{"b":{"c":1}}']]],
  ] as [string, string, Member[]][])('%s', (_name, input, want) => {
    expect(scan(1 << 20, Buffer.from(input))).toEqual(want);
  });

  it('skips a member over the cap and goes on', () => {
    const input = `[{"big":"${'x'.repeat(100)}","small":1},{"small":2}]`;
    expect(scan(50, Buffer.from(input))).toEqual([
      ['small', '1'],
      ['small', '2'],
    ]);
  });

  it.each([
    'stream_array.json',
    'stream_array_cut.json',
    'generate_grounding.json',
    'generate_multimodal.json',
  ])('chunking never changes the members, and no member exceeds the cap (%s)', (name) => {
    const data = readFixture(__dirname, name);
    for (const limit of [1 << 20, 201, 17]) {
      const whole = scan(limit, data);
      const next = rng(limit);
      for (let round = 0; round < 5; round++) expect(scan(limit, ...randomChunks(next, data))).toEqual(whole);
      for (const [, v] of whole) expect(Buffer.byteLength(v)).toBeLessThanOrEqual(limit);
    }
  });

  it('on valid JSON the members are exactly what a JSON parser sees (values as in the source)', () => {
    const data = readFixture(__dirname, 'stream_array.json');
    const parsed = JSON.parse(data.toString('utf8')) as Record<string, unknown>[];
    const want = parsed.flatMap((rec) => Object.entries(rec));
    const got = scan(1 << 20, data).map(([k, v]) => [k, JSON.parse(v) as unknown]);
    expect(got).toEqual(want);
  });
});
