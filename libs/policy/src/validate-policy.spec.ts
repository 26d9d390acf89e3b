// Port of the reference's internal/policy/validate_test.go.
import type { KeyPolicy } from '@spendops/contracts';
import { formatDims, parseDims } from './dims';
import { validatePolicy } from './validate-policy';

/** A policy with the reference's zero values. */
function zp(p: Partial<KeyPolicy> = {}): KeyPolicy {
  return {
    providers: [],
    models: [],
    dims_required: false,
    dims_allowed: [],
    max_dims: 0,
    max_key_len: 0,
    max_value_len: 0,
    dims_pinned: {},
    dims_default: {},
    ...p,
  };
}

describe('validatePolicy', () => {
  it.each<[string, KeyPolicy, string[]]>([
    ['zero', zp(), []],
    [
      'full',
      zp({
        providers: ['openai', 'anthropic', 'google-ai-studio', '*'],
        models: ['*', 'openai:gpt-4.1', 'openai:gpt-4*', 'anthropic:*', 'openrouter:openai/gpt-4o:online'],
        dims_required: true,
        dims_allowed: ['team', 'cost-center', '*'],
        max_dims: 64,
        max_key_len: 128,
        max_value_len: 1024,
        dims_pinned: { tenant: 'acme, inc.' },
        dims_default: { env: 'prod' },
      }),
      [],
    ],
    ['bad provider', zp({ providers: ['OpenAI', ''] }), ['providers[0]: "OpenAI"', 'providers[1]: ""']],
    [
      'bad patterns',
      zp({
        models: ['gpt-4', 'openai:', 'openai:gpt*4', 'open ai:x', ':x', 'openai: gpt-4', 'openai:gpt\x00'],
      }),
      [
        'models[0]: "gpt-4": want "*"',
        'models[1]',
        'models[2]: "openai:gpt*4": "*" is allowed only at the end',
        'models[3]',
        'models[4]',
        'models[5]',
        'models[6]: "openai:gpt\\x00": control or invisible character',
      ],
    ],
    [
      'limits',
      zp({ max_dims: -1, max_key_len: 129, max_value_len: -5 }),
      ['max_dims: -1', 'max_key_len: 129', 'max_value_len: -5'],
    ],
    [
      'allowed keys',
      zp({ dims_allowed: ['Team', 'my team', 'k'.repeat(33)] }),
      ['key "Team" must be lower-case', 'key "my team" must be letters', 'longer than 32'],
    ],
    [
      'pinned and defaults',
      zp({
        dims_pinned: { team: '', app: ' x', env: 'a\x01', x: 'v'.repeat(65) },
        dims_default: { team: 'a', 'Bad!': 'v' },
      }),
      [
        'dims_pinned["app"]: value must be non-empty',
        'dims_pinned["env"]: value has a control',
        'dims_pinned["team"]: value must be non-empty',
        'dims_pinned["x"]: value is longer than 64',
        'dims_default: key "Bad!"',
        'key "team" is both pinned and defaulted',
      ],
    ],
    ['pinned within raised limit', zp({ max_value_len: 100, dims_pinned: { team: 'v'.repeat(100) } }), []],
    [
      'too many presets',
      zp({
        dims_allowed: ['*'],
        dims_default: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])),
      }),
      ['65 pinned and default dimensions, at most 64'],
    ],
  ])('%s', (_n, p, want) => {
    const errs = validatePolicy(p);
    expect(errs).toHaveLength(want.length);
    for (const w of want) expect(errs.some((e) => e.includes(w))).toBe(true);
  });

  it('every pinned value it accepts can be sent back by a client (canonical form)', () => {
    const pinned = { team: 'a,b=c', app: 'say "hi"', env: 'prod' };
    const p = zp({ dims_pinned: pinned });
    expect(validatePolicy(p)).toEqual([]);
    expect(parseDims([formatDims(pinned)], p)).toEqual({ ok: true, dims: pinned });
  });
});

describe('validatePolicy: rate_limits', () => {
  it.each<[string, unknown, string[]]>([
    ['absent', undefined, []],
    ['null (none)', null, []],
    ['empty (none)', {}, []],
    [
      'full',
      {
        requests_per_minute: 60,
        tokens_per_minute: 100_000,
        usd_per_hour: '12.50',
        per_dimension: { team: { requests_per_minute: 10 }, 'cost-center': { usd_per_hour: '0.000001' } },
      },
      [],
    ],
    ['not an object', [1], ['rate_limits: must be an object']],
    [
      'bad numbers',
      { requests_per_minute: 0, tokens_per_minute: 1.5 },
      ['rate_limits.requests_per_minute: 0 must be a positive integer', 'rate_limits.tokens_per_minute: 1.5'],
    ],
    ['number as a string', { requests_per_minute: '10' }, ['rate_limits.requests_per_minute: "10"']],
    ['too large', { tokens_per_minute: 1e13 }, ['rate_limits.tokens_per_minute: 10000000000000']],
    [
      'bad usd',
      { usd_per_hour: 5 },
      ['rate_limits.usd_per_hour: 5 must be a positive decimal string of USD'],
    ],
    ['usd zero', { usd_per_hour: '0.00' }, ['rate_limits.usd_per_hour: "0.00"']],
    ['usd negative', { usd_per_hour: '-1' }, ['rate_limits.usd_per_hour: "-1"']],
    ['usd too precise', { usd_per_hour: '0.0000001' }, ['rate_limits.usd_per_hour: "0.0000001"']],
    ['usd exponent', { usd_per_hour: '1e3' }, ['rate_limits.usd_per_hour: "1e3"']],
    ['unknown field', { requests_per_hour: 5 }, ['rate_limits.requests_per_hour: unknown field']],
    [
      'per_dimension problems',
      {
        per_dimension: {
          Team: { requests_per_minute: 1 },
          env: { requests_per_minute: -1, per_dimension: {} },
          app: 7,
        },
      },
      [
        'rate_limits.per_dimension["Team"]: key must be a lower-case dimension key',
        'rate_limits.per_dimension["env"].requests_per_minute: -1',
        'rate_limits.per_dimension["env"].per_dimension: unknown field',
        'rate_limits.per_dimension["app"]: must be an object of limits',
      ],
    ],
    [
      'per_dimension not an object',
      { per_dimension: 'team' },
      ['rate_limits.per_dimension: must be an object'],
    ],
    [
      'too many dimension keys',
      { per_dimension: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, {}])) },
      ['17 dimension keys, at most 16'],
    ],
  ])('%s', (_n, rl, want) => {
    const errs = validatePolicy(zp({ rate_limits: rl as KeyPolicy['rate_limits'] }));
    expect(errs).toHaveLength(want.length);
    for (const w of want) expect(errs.some((e) => e.includes(w))).toBe(true);
  });
});
