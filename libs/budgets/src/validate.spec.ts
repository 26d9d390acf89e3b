import { applyBudgetPatch, changedFields, describeErrors, validateBudgetSpec } from './validate';

const base = { name: 'search team', period: 'month', amount_usd: '100.00' };

describe('validateBudgetSpec', () => {
  it('fills the defaults', () => {
    expect(validateBudgetSpec(base)).toEqual({
      ok: true,
      spec: {
        name: 'search team',
        scope: {},
        period: 'month',
        time_zone: 'UTC',
        amount_usd: '100.00',
        thresholds: [50, 75, 90, 100],
        enforce: false,
      },
    });
  });

  it('a week starts on Monday unless told', () => {
    const r = validateBudgetSpec({ ...base, period: 'week' });
    expect(r.ok && r.spec.start_day).toBe(1);
  });

  it('keeps every valid field', () => {
    const input = {
      ...base,
      scope: {
        tenant: 'acme',
        key_id: 'key_1',
        provider: 'openai',
        model: 'gpt-4o',
        dims: { team: 'search' },
      },
      period: 'fiscal_month',
      start_day: 28,
      time_zone: 'Europe/Paris',
      thresholds: [10, 50.5, 100, 1000],
      enforce: true,
      owner: 'finops@corp.example',
      webhook_url: 'https://hooks.example.com/budget?x=1',
      slack_webhook_url: 'https://hooks.slack.com/services/T/B/X',
      email: ['finops@corp.example', 'a.b+c@sub.example.org'],
    };
    expect(validateBudgetSpec(input)).toEqual({ ok: true, spec: input });
  });

  it('spells the time zone as Intl does', () => {
    const r = validateBudgetSpec({ ...base, time_zone: 'europe/paris' });
    expect(r.ok && r.spec.time_zone).toBe('Europe/Paris');
  });

  it('normalises a custom range to UTC', () => {
    const r = validateBudgetSpec({
      ...base,
      period: 'custom',
      from: '2026-12-01T00:00:00+01:00',
      to: '2026-12-31T00:00Z',
    });
    expect(r.ok && [r.spec.from, r.spec.to]).toEqual([
      '2026-11-30T23:00:00.000Z',
      '2026-12-31T00:00:00.000Z',
    ]);
  });

  it('accepts an amount given as a JSON number that prints exactly', () => {
    const r = validateBudgetSpec({ ...base, amount_usd: 250.5 });
    expect(r.ok && r.spec.amount_usd).toBe('250.5');
  });

  it('allows http webhooks only to loopback hosts', () => {
    for (const url of ['http://127.0.0.1:8080/hook', 'http://localhost/hook', 'http://[::1]:9/x'])
      expect(validateBudgetSpec({ ...base, webhook_url: url }).ok).toBe(true);
  });

  // [case, input, field named]
  const bad: [string, Record<string, unknown>, string][] = [
    ['negative amount', { ...base, amount_usd: '-5.00' }, 'amount_usd'],
    ['zero amount', { ...base, amount_usd: '0.00' }, 'amount_usd'],
    ['zero amount as a number', { ...base, amount_usd: 0 }, 'amount_usd'],
    ['amount in exponent notation', { ...base, amount_usd: '1e3' }, 'amount_usd'],
    ['amount with a currency sign', { ...base, amount_usd: '$100' }, 'amount_usd'],
    ['amount with 11 decimals', { ...base, amount_usd: '1.00000000001' }, 'amount_usd'],
    ['amount with a comma', { ...base, amount_usd: '1,000.00' }, 'amount_usd'],
    ['amount empty', { ...base, amount_usd: '' }, 'amount_usd'],
    ['amount as a float that lost digits', { ...base, amount_usd: 0.1 + 0.2 }, 'amount_usd'],
    ['amount missing', { name: 'x', period: 'day' }, 'amount_usd'],
    ['name missing', { period: 'day', amount_usd: '1' }, 'name'],
    ['name blank', { ...base, name: '  ' }, 'name'],
    ['period missing', { name: 'x', amount_usd: '1' }, 'period'],
    ['unknown period', { ...base, period: 'quarter' }, 'period'],
    ['unknown field', { ...base, budget: 5 }, 'budget'],
    ['unknown scope field', { ...base, scope: { team: 'search' } }, 'scope.team'],
    ['scope not an object', { ...base, scope: 'acme' }, 'scope'],
    ['empty scope value', { ...base, scope: { tenant: '' } }, 'scope.tenant'],
    ['dims not an object', { ...base, scope: { dims: ['team'] } }, 'scope.dims'],
    ['dimension value not a string', { ...base, scope: { dims: { team: 5 } } }, 'scope.dims.team'],
    ['dimension value empty', { ...base, scope: { dims: { team: '' } } }, 'scope.dims.team'],
    ['unknown time zone', { ...base, time_zone: 'Mars/Olympus' }, 'time_zone'],
    ['time zone as an offset', { ...base, time_zone: '+02:00' }, 'time_zone'],
    ['fiscal month without start_day', { ...base, period: 'fiscal_month' }, 'start_day'],
    ['fiscal start_day 0', { ...base, period: 'fiscal_month', start_day: 0 }, 'start_day'],
    ['fiscal start_day 29', { ...base, period: 'fiscal_month', start_day: 29 }, 'start_day'],
    ['fiscal start_day 31', { ...base, period: 'fiscal_month', start_day: 31 }, 'start_day'],
    ['fiscal start_day not an integer', { ...base, period: 'fiscal_month', start_day: 1.5 }, 'start_day'],
    ['week start_day 8', { ...base, period: 'week', start_day: 8 }, 'start_day'],
    ['start_day on a month', { ...base, start_day: 3 }, 'start_day'],
    ['custom without from', { ...base, period: 'custom', to: '2026-12-31T00:00:00Z' }, 'from'],
    ['custom without to', { ...base, period: 'custom', from: '2026-12-01T00:00:00Z' }, 'to'],
    [
      'custom from = to',
      { ...base, period: 'custom', from: '2026-12-01T00:00:00Z', to: '2026-12-01T00:00:00Z' },
      'to',
    ],
    [
      'custom from after to',
      { ...base, period: 'custom', from: '2026-12-02T00:00:00Z', to: '2026-12-01T00:00:00Z' },
      'to',
    ],
    [
      'custom from without a zone',
      { ...base, period: 'custom', from: '2026-12-01T00:00:00', to: '2026-12-31T00:00:00Z' },
      'from',
    ],
    [
      'custom from not a date',
      { ...base, period: 'custom', from: 'yesterday', to: '2026-12-31T00:00:00Z' },
      'from',
    ],
    [
      'custom impossible date',
      { ...base, period: 'custom', from: '2026-02-30T00:00:00Z', to: '2026-12-31T00:00:00Z' },
      'from',
    ],
    ['from on a month', { ...base, from: '2026-12-01T00:00:00Z' }, 'from'],
    ['thresholds not ascending', { ...base, thresholds: [50, 90, 75] }, 'thresholds[2]'],
    ['thresholds duplicated', { ...base, thresholds: [50, 50] }, 'thresholds[1]'],
    ['threshold zero', { ...base, thresholds: [0, 50] }, 'thresholds[0]'],
    ['threshold negative', { ...base, thresholds: [-10] }, 'thresholds[0]'],
    ['threshold over 1000', { ...base, thresholds: [50, 1001] }, 'thresholds[1]'],
    ['threshold a string', { ...base, thresholds: ['50'] }, 'thresholds[0]'],
    ['thresholds empty', { ...base, thresholds: [] }, 'thresholds'],
    ['thresholds not an array', { ...base, thresholds: 50 }, 'thresholds'],
    ['enforce not a boolean', { ...base, enforce: 'yes' }, 'enforce'],
    ['http webhook to a remote host', { ...base, webhook_url: 'http://hooks.example.com/x' }, 'webhook_url'],
    ['webhook not a URL', { ...base, webhook_url: 'hooks.example.com/x' }, 'webhook_url'],
    ['ftp webhook', { ...base, webhook_url: 'ftp://example.com/x' }, 'webhook_url'],
    ['http slack webhook', { ...base, slack_webhook_url: 'http://hooks.slack.com/x' }, 'slack_webhook_url'],
    ['malformed email', { ...base, email: ['finops'] }, 'email[0]'],
    ['email with a space', { ...base, email: ['ok@example.com', 'a b@example.com'] }, 'email[1]'],
    ['email without a domain dot', { ...base, email: ['a@localhost'] }, 'email[0]'],
    ['email as a string', { ...base, email: 'a@example.com' }, 'email'],
    ['null name', { ...base, name: null }, 'name'],
  ];

  it.each(bad)('%s', (_name, input, field) => {
    const r = validateBudgetSpec(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.map((e) => e.field)).toContain(field);
      for (const e of r.errors) expect(e.message).not.toBe('');
    }
  });

  it('reports every bad field at once', () => {
    const r = validateBudgetSpec({
      name: 'x',
      period: 'month',
      amount_usd: '-1',
      time_zone: 'Nowhere',
      thresholds: [5, 5],
    });
    expect(r.ok ? [] : r.errors.map((e) => e.field)).toEqual(['amount_usd', 'time_zone', 'thresholds[1]']);
    expect(r.ok ? '' : describeErrors(r.errors)).toMatch(
      /^amount_usd: .*; time_zone: .*; thresholds\[1\]: duplicate threshold$/,
    );
  });

  it('refuses what is not an object', () => {
    for (const input of [null, 'x', 5, []]) expect(validateBudgetSpec(input).ok).toBe(false);
  });
});

describe('partial validation and patches', () => {
  const spec = (() => {
    const r = validateBudgetSpec({ ...base, webhook_url: 'https://h.example/x', owner: 'me' });
    if (!r.ok) throw new Error('base');
    return r.spec;
  })();

  it('validates only the given fields, without defaults or required ones', () => {
    expect(validateBudgetSpec({ amount_usd: '5' }, true)).toEqual({ ok: true, spec: { amount_usd: '5' } });
    const r = validateBudgetSpec({ amount_usd: '-5', scope: { team: 'x' } }, true);
    expect(r.ok ? [] : r.errors.map((e) => e.field)).toEqual(['amount_usd', 'scope.team']);
  });

  it('applies a patch and checks the result as a whole', () => {
    const r = applyBudgetPatch(spec, { amount_usd: '50', scope: { tenant: 'acme' }, owner: null });
    expect(r.ok && r.spec).toEqual({
      ...spec,
      amount_usd: '50',
      scope: { tenant: 'acme' },
      owner: undefined,
    });
    expect(r.ok && 'owner' in r.spec).toBe(false);
    const bad = applyBudgetPatch(spec, { period: 'fiscal_month' });
    expect(bad.ok ? [] : bad.errors.map((e) => e.field)).toEqual(['start_day']);
  });

  it('changing the period drops the old period fields', () => {
    const custom = applyBudgetPatch(spec, {
      period: 'custom',
      from: '2026-01-01T00:00:00Z',
      to: '2026-02-01T00:00:00Z',
    });
    expect(custom.ok).toBe(true);
    const back = applyBudgetPatch(custom.ok ? custom.spec : spec, { period: 'week' });
    expect(back.ok && back.spec).toMatchObject({ period: 'week', start_day: 1 });
    expect(back.ok && ('from' in back.spec || 'to' in back.spec)).toBe(false);
  });

  it('null may clear only optional fields', () => {
    const r = applyBudgetPatch(spec, { amount_usd: null });
    expect(r.ok ? [] : r.errors.map((e) => e.field)).toEqual(['amount_usd']);
  });

  it('names the changed fields', () => {
    const r = applyBudgetPatch(spec, { amount_usd: '10', thresholds: [50, 100], webhook_url: null });
    expect(r.ok && changedFields(spec, r.spec)).toEqual(['amount_usd', 'thresholds', 'webhook_url']);
  });
});
