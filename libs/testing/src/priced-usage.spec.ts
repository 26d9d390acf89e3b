import { pricedUsage } from './priced-usage';

describe('pricedUsage', () => {
  it('merges usage and cost overrides field by field, keeping the other defaults', () => {
    const p = pricedUsage({
      tenant_id: 't1',
      usage: { prompt_tokens: 7, total_tokens: 7 },
      cost: { total_cost_usd: '0.5' },
    });
    expect(p.tenant_id).toBe('t1');
    expect(p.request_id).toBe('req-1');
    expect(p.usage).toMatchObject({
      prompt_tokens: 7,
      total_tokens: 7,
      completion_tokens: 0,
      model: 'gpt-4o',
    });
    expect(p.usage.usage_source).toBe('provider');
    expect(p.cost).toMatchObject({ total_cost_usd: '0.5', calculated_cost: null, cost_source: 'standard' });
  });

  it("takes the usage's model from an overridden request_model unless the usage names one", () => {
    expect(pricedUsage({ request_model: 'claude-x' }).usage.model).toBe('claude-x');
    expect(pricedUsage({ request_model: 'claude-x', usage: { model: 'other' } }).usage.model).toBe('other');
  });

  it('builds a fresh object each call (a spec may mutate what it gets)', () => {
    const a = pricedUsage();
    a.usage.prompt_tokens = 99;
    a.dims.team = 'x';
    const b = pricedUsage();
    expect(b.usage.prompt_tokens).toBe(0);
    expect(b.dims).toEqual({});
  });
});
