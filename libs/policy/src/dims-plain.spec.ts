// The plain fast path must give exactly what the general parser gives. A leading space sends a header down the
// general path without changing its meaning (values are trimmed), so the two can be compared on any input.
import { parseDims } from './dims';
import { plainDimsPairs } from './dims-plain';
import { withDefaults } from './policy-defaults';

describe('X-ASO-Dims plain fast path', () => {
  const policies = [
    withDefaults({}),
    withDefaults({ dims_allowed: ['*'], max_dims: 2, max_key_len: 4, max_value_len: 3 }),
    withDefaults({ dims_pinned: { team: 'a' }, dims_default: { 'cost-center': 'x' }, dims_required: true }),
  ];
  const parts = [
    'team',
    'Env',
    'app',
    'a',
    'B1',
    '_x',
    'x.y-z',
    '=',
    ',',
    ' ',
    '"',
    'é',
    '\t',
    '{',
    ':',
    'v',
    '-',
    '\u00a0',
    '',
  ];

  it('agrees with the general parser on generated headers', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed >>> 12) % n;
    };
    let fast = 0;
    let checked = 0;
    for (let i = 0; i < 30000; i++) {
      let v = '';
      for (let j = rnd(9); j > 0; j--) v += parts[rnd(parts.length)];
      // Bias toward well-formed pairs so the fast path is taken often.
      if (rnd(2)) v = Array.from({ length: 1 + rnd(4) }, () => `${parts[rnd(7)]}=${parts[rnd(7)]}`).join(',');
      const p = policies[rnd(policies.length)];
      if (plainDimsPairs(v, 8) !== null) fast++;
      const got = parseDims([v], p);
      const want = parseDims([' ' + v], p);
      // expect() only on a difference: 30 000 deep comparisons would dominate the suite's time.
      if (JSON.stringify(got) !== JSON.stringify(want)) expect([v, got]).toEqual([v, want]);
      checked++;
    }
    expect(checked).toBe(30000);
    expect(fast).toBeGreaterThan(3000);
  });

  it('takes only plain headers, leaving the rest (and every error) to the general parser', () => {
    expect(plainDimsPairs('Team=search,app=product-search,env=prod', 8)).toEqual([
      ['team', 'search'],
      ['app', 'product-search'],
      ['env', 'prod'],
    ]);
    for (const v of [
      '',
      'a',
      'a=',
      '=b',
      'a=b,',
      ',a=b',
      'a=b,,c=d',
      'a=b c',
      'a =b',
      'a=b=c',
      'a="b"',
      'a=é',
    ]) {
      expect([v, plainDimsPairs(v, 8)]).toEqual([v, null]);
    }
    expect(plainDimsPairs('a=1,A=2', 8)).toBeNull(); // duplicate: the general parser names it
    expect(plainDimsPairs('a=1,b=2', 1)).toBeNull(); // too many: likewise
    expect(plainDimsPairs('{"a":"b"}', 8)).toBeNull();
  });
});
