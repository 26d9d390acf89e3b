// Port of the reference's internal/policy/dims_test.go (every case), plus Node's latin1 header delivery.
import { type DimsPolicy, formatDims, MSG_DIMS_REQUIRED, parseDims, parseDimsHeader } from './dims';

const inv = 'Invalid X-ASO-Dims: ';

/** A dims policy with the reference's zero values (0 / [] = the default). */
function dp(p: Partial<DimsPolicy> = {}): DimsPolicy {
  return {
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

const anyKey = dp({ dims_allowed: ['*'] });
const required = dp({ dims_required: true });
const pinned = dp({ dims_pinned: { 'cost-center': 'cc-42' } });
const defaults = dp({ dims_default: { env: 'prod', owner: 'platform' } });

const e = (n: number) => 'é'.repeat(n);
const k = (n: number) => 'k'.repeat(n);
const v = (n: number) => 'v'.repeat(n);
const letters = (n: number) => Array.from({ length: n }, (_, i) => 'k' + String.fromCharCode(97 + i));
const pairs = (n: number) =>
  letters(n)
    .map((x) => x + '=v')
    .join(',');
const jsonPairs = (n: number) =>
  '{' +
  letters(n)
    .map((x) => `"${x}":"v"`)
    .join(',') +
  '}';
const eightV = Object.fromEntries(letters(8).map((x) => [x, 'v']));
const m = (...kv: string[]) => {
  const out: Record<string, string> = {};
  for (let i = 0; i < kv.length; i += 2) out[kv[i]] = kv[i + 1];
  return out;
};

interface Case {
  name: string;
  values?: string[];
  pol?: DimsPolicy;
  want?: Record<string, string>;
  err?: string;
}

const cases: Case[] = [
  // Presence.
  { name: 'absent' },
  { name: 'empty value is absent', values: [''] },
  { name: 'blank value is absent', values: [' \t '] },
  { name: 'only commas', values: [' , ,'] },
  { name: 'empty JSON object', values: ['{}'] },
  { name: 'required absent', pol: required, err: MSG_DIMS_REQUIRED },
  { name: 'required empty', values: [''], pol: required, err: MSG_DIMS_REQUIRED },
  { name: 'required empty object', values: ['{ }'], pol: required, err: MSG_DIMS_REQUIRED },
  { name: 'required commas', values: [',,'], pol: required, err: MSG_DIMS_REQUIRED },
  { name: 'required satisfied', values: ['team=a'], pol: required, want: m('team', 'a') },
  { name: 'header repeated', values: ['team=a', 'env=b'], err: inv + 'header sent more than once' },
  { name: 'header repeated empty', values: ['team=a', ''], err: inv + 'header sent more than once' },

  // Simple form.
  {
    name: 'docs example',
    values: ['team=search,app=product-search,env=prod'],
    want: m('team', 'search', 'app', 'product-search', 'env', 'prod'),
  },
  {
    name: 'spaces trimmed',
    values: ['  team = search , env=prod  '],
    want: m('team', 'search', 'env', 'prod'),
  },
  { name: 'tabs trimmed', values: ['team\t=\tsearch'], want: m('team', 'search') },
  { name: 'no-break space trimmed', values: ['\u00a0team=search\u00a0'], want: m('team', 'search') },
  { name: 'trailing comma', values: ['team=a,'], want: m('team', 'a') },
  { name: 'empty element', values: ['team=a,,env=b'], want: m('team', 'a', 'env', 'b') },
  { name: 'key lower-cased', values: ['Team=a,ENV=b'], want: m('team', 'a', 'env', 'b') },
  { name: 'value case kept', values: ['team=Search'], want: m('team', 'Search') },
  { name: 'inner spaces kept', values: ['team=search  team'], want: m('team', 'search  team') },
  { name: 'unicode value', values: ['team=équipe'], want: m('team', 'équipe') },
  { name: 'emoji value', values: ['team=🚀'], want: m('team', '🚀') },
  { name: 'colon slash braces in value', values: ['app=svc:v2/{x}'], want: m('app', 'svc:v2/{x}') },
  { name: 'percent not decoded', values: ['app=a%2Cb'], want: m('app', 'a%2Cb') },
  { name: 'no equals', values: ['team'], err: inv + '"team" has no "=" (want key=value)' },
  { name: 'no equals second', values: ['team=a,env'], err: inv + '"env" has no "=" (want key=value)' },
  { name: 'empty key', values: ['=a'], err: inv + 'empty dimension key' },
  { name: 'empty value', values: ['team='], err: inv + 'empty value for dimension "team"' },
  { name: 'blank value', values: ['team=  ,env=b'], err: inv + 'empty value for dimension "team"' },
  {
    name: 'equals in value',
    values: ['team=a=b'],
    err: inv + 'value of "team" contains "=" (use the JSON form)',
  },
  {
    name: 'quote in value',
    values: ['team="a"'],
    err: inv + `value of "team" contains '"' (use the JSON form)`,
  },
  {
    name: 'space in key',
    values: ['te am=a'],
    err:
      inv + `dimension key "te am" must be letters, digits, '_', '.' or '-', starting with a letter or digit`,
  },
  {
    name: 'leading dash key',
    values: ['-team=a'],
    err:
      inv + `dimension key "-team" must be letters, digits, '_', '.' or '-', starting with a letter or digit`,
  },
  {
    name: 'unicode key',
    values: ['tëam=a'],
    err:
      inv + `dimension key "tëam" must be letters, digits, '_', '.' or '-', starting with a letter or digit`,
  },
  {
    name: 'long bad key cut',
    values: [k(50) + '!=a'],
    err:
      inv +
      `dimension key "${k(40)}"… must be letters, digits, '_', '.' or '-', starting with a letter or digit`,
  },
  {
    name: 'control char in key quoted the Go way',
    values: ['te\x01am=a'],
    err:
      inv +
      `dimension key "te\\x01am" must be letters, digits, '_', '.' or '-', starting with a letter or digit`,
  },
  {
    name: 'key punctuation ok',
    values: ['a.b_c-d=1,9lives=x'],
    pol: anyKey,
    want: m('a.b_c-d', '1', '9lives', 'x'),
  },
  { name: 'duplicate', values: ['team=a,team=b'], err: inv + 'duplicate dimension key "team"' },
  { name: 'duplicate by case', values: ['team=a,TEAM=a'], err: inv + 'duplicate dimension key "team"' },
  {
    name: 'control char',
    values: ['team=a\x01b'],
    err: inv + 'value of dimension "team" has a control or invisible character',
  },
  {
    name: 'DEL',
    values: ['team=a\x7fb'],
    err: inv + 'value of dimension "team" has a control or invisible character',
  },
  {
    name: 'inner tab',
    values: ['team=a\tb'],
    err: inv + 'value of dimension "team" has a control or invisible character',
  },
  {
    name: 'zero width space',
    values: ['team=a\u200bb'],
    err: inv + 'value of dimension "team" has a control or invisible character',
  },
  {
    name: 'bidi override',
    values: ['team=a\u202eb'],
    err: inv + 'value of dimension "team" has a control or invisible character',
  },
  {
    name: 'C1 control',
    values: ['team=a\u0085b'],
    err: inv + 'value of dimension "team" has a control or invisible character',
  },
  {
    name: 'private use',
    values: ['team=\ue000'],
    err: inv + 'value of dimension "team" has a control or invisible character',
  },
  { name: 'lone surrogate', values: ['team=\ud800'], err: inv + 'not valid UTF-8' },
  {
    name: 'JSON array is not an object',
    values: ['["team"]'],
    err: inv + '"[\\"team\\"]" has no "=" (want key=value)',
  },

  // Policy: allowed keys.
  { name: 'key not allowed', values: ['department=x'], err: 'Dimension key "department" not allowed' },
  {
    name: 'key not allowed lower-cased',
    values: ['Department=x'],
    err: 'Dimension key "department" not allowed',
  },
  { name: 'any key', values: ['department=x'], pol: anyKey, want: m('department', 'x') },
  {
    name: 'custom allowed',
    values: ['cost-center=1'],
    pol: dp({ dims_allowed: ['cost-center'] }),
    want: m('cost-center', '1'),
  },
  {
    name: 'custom allowed replaces default',
    values: ['team=a'],
    pol: dp({ dims_allowed: ['cost-center'] }),
    err: 'Dimension key "team" not allowed',
  },

  // Policy: limits at their boundaries.
  { name: '8 pairs', values: [pairs(8)], pol: anyKey, want: eightV },
  { name: '9 pairs', values: [pairs(9)], pol: anyKey, err: 'Too many dimension pairs (max 8)' },
  {
    name: '9 pairs checked before syntax',
    values: [pairs(8) + ',bad'],
    pol: anyKey,
    err: 'Too many dimension pairs (max 8)',
  },
  {
    name: 'max 2',
    values: ['team=a,env=b,app=c'],
    pol: dp({ max_dims: 2 }),
    err: 'Too many dimension pairs (max 2)',
  },
  { name: 'key 32', values: [k(32) + '=a'], pol: anyKey, want: m(k(32), 'a') },
  { name: 'key 33', values: [k(33) + '=a'], pol: anyKey, err: 'Dimension key too long' },
  { name: 'key too long before not allowed', values: [k(33) + '=a'], err: 'Dimension key too long' },
  {
    name: 'key 40 allowed by max_key_len',
    values: [k(40) + '=a'],
    pol: dp({ dims_allowed: ['*'], max_key_len: 40 }),
    want: m(k(40), 'a'),
  },
  { name: 'value 64', values: ['team=' + v(64)], want: m('team', v(64)) },
  { name: 'value 65', values: ['team=' + v(65)], err: 'Dimension value too long' },
  { name: 'value 64 runes', values: ['team=' + e(64)], want: m('team', e(64)) },
  { name: 'value 65 runes', values: ['team=' + e(65)], err: 'Dimension value too long' },
  { name: 'value 64 astral runes', values: ['team=' + '🚀'.repeat(64)], want: m('team', '🚀'.repeat(64)) },
  { name: 'value length after trim', values: ['team=  ' + v(64) + '  '], want: m('team', v(64)) },
  {
    name: 'value 10 custom',
    values: ['team=' + v(11)],
    pol: dp({ max_value_len: 10 }),
    err: 'Dimension value too long',
  },

  // JSON form.
  {
    name: 'JSON docs example',
    values: ['{"team":"search","app":"product-search","env":"prod"}'],
    want: m('team', 'search', 'app', 'product-search', 'env', 'prod'),
  },
  { name: 'JSON whitespace', values: [' { "team" : "a" , "env":"b" } '], want: m('team', 'a', 'env', 'b') },
  { name: 'JSON holds comma and equals', values: ['{"team":"a,b=c"}'], want: m('team', 'a,b=c') },
  { name: 'JSON holds quotes', values: ['{"team":"say \\"hi\\""}'], want: m('team', 'say "hi"') },
  { name: 'JSON unicode escape', values: ['{"team":"\\u00e9quipe"}'], want: m('team', 'équipe') },
  { name: 'JSON surrogate pair', values: ['{"team":"\\ud83d\\ude80"}'], want: m('team', '🚀') },
  { name: 'JSON escaped key', values: ['{"\\u0074eam":"a"}'], want: m('team', 'a') },
  { name: 'JSON key case', values: ['{"TEAM":"a"}'], want: m('team', 'a') },
  { name: 'JSON value trimmed', values: ['{"team":" a "}'], want: m('team', 'a') },
  { name: 'JSON number', values: ['{"team":1}'], err: inv + 'value of "team" must be a string' },
  { name: 'JSON null', values: ['{"team":null}'], err: inv + 'value of "team" must be a string' },
  { name: 'JSON bool', values: ['{"team":true}'], err: inv + 'value of "team" must be a string' },
  { name: 'JSON nested', values: ['{"team":{"a":"b"}}'], err: inv + 'value of "team" must be a string' },
  { name: 'JSON array value', values: ['{"team":["a"]}'], err: inv + 'value of "team" must be a string' },
  { name: 'JSON unterminated', values: ['{"team":"a"'], err: inv + 'malformed JSON object' },
  { name: 'JSON trailing data', values: ['{"team":"a"} x'], err: inv + 'malformed JSON object' },
  { name: 'JSON two objects', values: ['{"team":"a"}{"env":"b"}'], err: inv + 'malformed JSON object' },
  { name: 'JSON trailing comma', values: ['{"team":"a",}'], err: inv + 'malformed JSON object' },
  { name: 'JSON single quotes', values: ["{'team':'a'}"], err: inv + 'malformed JSON object' },
  { name: 'JSON bad escape', values: ['{"team":"\\x"}'], err: inv + 'malformed JSON object' },
  { name: 'JSON bare key', values: ['{team:"a"}'], err: inv + 'malformed JSON object' },
  {
    name: 'JSON duplicate',
    values: ['{"team":"a","team":"b"}'],
    err: inv + 'duplicate dimension key "team"',
  },
  {
    name: 'JSON duplicate by case',
    values: ['{"team":"a","Team":"a"}'],
    err: inv + 'duplicate dimension key "team"',
  },
  { name: 'JSON empty key', values: ['{"":"a"}'], err: inv + 'empty dimension key' },
  { name: 'JSON empty value', values: ['{"team":""}'], err: inv + 'empty value for dimension "team"' },
  { name: 'JSON blank value', values: ['{"team":"  "}'], err: inv + 'empty value for dimension "team"' },
  {
    name: 'JSON NUL escape',
    values: ['{"team":"a\\u0000"}'],
    err: inv + 'value of dimension "team" has a control or invisible character',
  },
  {
    name: 'JSON newline escape',
    values: ['{"team":"a\\nb"}'],
    err: inv + 'value of dimension "team" has a control or invisible character',
  },
  {
    name: 'JSON lone surrogate escape becomes U+FFFD',
    values: ['{"team":"a\\ud800"}'],
    want: m('team', 'a\ufffd'),
  },
  {
    name: 'JSON key with space',
    values: ['{"my team":"a"}'],
    err:
      inv +
      `dimension key "my team" must be letters, digits, '_', '.' or '-', starting with a letter or digit`,
  },
  { name: 'JSON not allowed', values: ['{"department":"x"}'], err: 'Dimension key "department" not allowed' },
  { name: 'JSON 8 pairs', values: [jsonPairs(8)], pol: anyKey, want: eightV },
  { name: 'JSON 9 pairs', values: [jsonPairs(9)], pol: anyKey, err: 'Too many dimension pairs (max 8)' },
  { name: 'JSON value 65', values: [`{"team":"${v(65)}"}`], err: 'Dimension value too long' },
  { name: 'JSON key 33', values: [`{"${k(33)}":"a"}`], pol: anyKey, err: 'Dimension key too long' },

  // Pinned and default dimensions.
  { name: 'pinned recorded', pol: pinned, want: m('cost-center', 'cc-42') },
  {
    name: 'pinned with request dims',
    values: ['team=a'],
    pol: pinned,
    want: m('cost-center', 'cc-42', 'team', 'a'),
  },
  {
    name: 'pinned same value sent',
    values: ['cost-center=cc-42'],
    pol: pinned,
    want: m('cost-center', 'cc-42'),
  },
  {
    name: 'pinned other value',
    values: ['cost-center=cc-1'],
    pol: pinned,
    err: 'Dimension "cost-center" is pinned by API key policy and cannot be changed',
  },
  {
    name: 'pinned other value JSON',
    values: ['{"Cost-Center":"x"}'],
    pol: pinned,
    err: 'Dimension "cost-center" is pinned by API key policy and cannot be changed',
  },
  { name: 'defaults recorded', pol: defaults, want: m('env', 'prod', 'owner', 'platform') },
  {
    name: 'default overridden',
    values: ['env=dev'],
    pol: defaults,
    want: m('env', 'dev', 'owner', 'platform'),
  },
  {
    name: 'default key outside allowed list may be overridden',
    values: ['owner=search'],
    pol: defaults,
    want: m('env', 'prod', 'owner', 'search'),
  },
  {
    name: 'pinned and defaults do not count toward max pairs',
    values: ['team=a'],
    pol: dp({ max_dims: 1, dims_pinned: { 'cost-center': '1' }, dims_default: { env: 'prod' } }),
    want: m('team', 'a', 'cost-center', '1', 'env', 'prod'),
  },
  {
    name: 'sent pinned key counts',
    values: ['team=a,cost-center=1'],
    pol: dp({ max_dims: 1, dims_pinned: { 'cost-center': '1' } }),
    err: 'Too many dimension pairs (max 1)',
  },
  {
    name: 'required is not met by pinned',
    pol: dp({ dims_required: true, dims_pinned: { team: 'a' } }),
    err: MSG_DIMS_REQUIRED,
  },
  {
    name: 'prototype keys are not allowed keys',
    values: ['constructor=x'],
    err: 'Dimension key "constructor" not allowed',
  },
];

describe('parseDims (reference dims_test.go)', () => {
  it('has at least the reference number of cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(110);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const got = parseDims(c.values ?? [], c.pol ?? dp());
    if (c.err !== undefined) {
      expect(got.ok).toBe(false);
      if (got.ok) return;
      expect(got.denial).toEqual({ type: 'dimension_validation', status: 400, message: c.err });
      return;
    }
    if (!got.ok) throw new Error(`unexpected denial ${got.denial.message}`);
    expect(got.dims).toEqual(c.want ?? {});
  });
});

describe('parseDimsHeader (raw header values as Node delivers them)', () => {
  const wire = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
  it('decodes UTF-8 bytes', () => {
    expect(parseDimsHeader([wire('team=équipe 🚀')], dp())).toEqual({
      ok: true,
      dims: { team: 'équipe 🚀' },
    });
  });
  it.each([
    ['non UTF-8', 'team=\xff'],
    ['latin-1 byte', 'team=caf\xe9'],
  ])('%s is rejected', (_n, raw) => {
    const got = parseDimsHeader([raw], dp());
    expect(got).toEqual({
      ok: false,
      denial: { type: 'dimension_validation', status: 400, message: inv + 'not valid UTF-8' },
    });
  });
  it('repeated header wins over bad bytes', () => {
    const got = parseDimsHeader(['team=\xff', 'env=b'], dp());
    expect(!got.ok && got.denial.message).toBe(inv + 'header sent more than once');
  });
});

describe('formatDims', () => {
  const tests: Array<[Record<string, string>, string]> = [
    [{}, ''],
    [{ team: 'search', app: 'x', env: 'prod' }, 'app=x,env=prod,team=search'],
    [{ team: 'a,b' }, '{"team":"a,b"}'],
    [{ team: 'a=b', env: 'p' }, '{"env":"p","team":"a=b"}'],
    [{ team: 'say "hi"' }, '{"team":"say \\"hi\\""}'],
    [{ team: 'équipe 🚀' }, 'team=équipe 🚀'],
  ];
  it.each(tests)('%j → %s, and back', (dims, want) => {
    const got = formatDims(dims);
    expect(got).toBe(want);
    expect(parseDims([got], anyKey)).toEqual({ ok: true, dims });
  });

  it('does not alias the policy maps', () => {
    const p = dp({ dims_default: { env: 'prod' } });
    const got = parseDims(['env=dev'], p);
    if (!got.ok) throw new Error('denied');
    got.dims['x'] = 'y';
    expect(p.dims_default).toEqual({ env: 'prod' });
  });

  it('round-trips random valid dims through the canonical form', () => {
    const big = dp({ dims_allowed: ['*'], max_dims: 64, max_key_len: 128, max_value_len: 1024 });
    const alphabet = ['a', 'Z', '9', '-', ' ', ',', '=', '"', 'é', '🚀', '{', '\\', ':'];
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 500; i++) {
      const dims: Record<string, string> = {};
      for (let j = 0; j < 1 + rnd(5); j++) {
        let val = '';
        for (let c = 0; c < 1 + rnd(12); c++) val += alphabet[rnd(alphabet.length)];
        val = val.trim();
        if (val !== '') dims['k' + j] = val;
      }
      const canon = formatDims(dims);
      const back = parseDims([canon], big);
      expect(back).toEqual({ ok: true, dims });
      if (back.ok) expect(formatDims(back.dims)).toBe(canon);
    }
  });
});
