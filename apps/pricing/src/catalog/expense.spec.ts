import { Decimal } from '@spendops/money';
import { rankExpense, type ExpenseTier } from './expense';
import { loadBuiltinCatalog } from './load';

describe('expense tiers', () => {
  const c = loadBuiltinCatalog();
  const at = new Date(Date.UTC(2026, 7, 1, 12));
  const rk = rankExpense(c, at);
  const tierOf = (provider: string, model: string) => rk.of(c.lookup(provider, model, at)!.model);

  it('cuts the ranked models into thirds, with warnings only for outliers', () => {
    expect(new Decimal(rk.bounds.budget_max).lessThan(rk.bounds.premium_min)).toBe(true);
    const counts: Record<ExpenseTier, number> = { $: 0, $$: 0, $$$: 0 };
    let warn = 0;
    for (const { model } of c.models()) {
      const e = rk.of(model);
      if (!e) continue;
      counts[e.tier]++;
      if (e.warn) warn++;
    }
    const total = counts.$ + counts.$$ + counts.$$$;
    for (const n of Object.values(counts)) {
      expect(n).toBeGreaterThanOrEqual(Math.floor(total / 4));
      expect(n).toBeLessThanOrEqual(Math.floor(total / 2));
    }
    expect(warn).toBeGreaterThan(0);
    expect(warn).toBeLessThanOrEqual(Math.floor(total / 10));
  });

  it('places known models', () => {
    expect(tierOf('groq', 'llama-3.1-8b-instant')).toMatchObject({ tier: '$' });
    expect(tierOf('openai', 'o1-pro')).toMatchObject({ tier: '$$$', warn: true });
    expect(tierOf('anthropic', 'claude-sonnet-4-5')).toMatchObject({ tier: '$$$', warn: false });
  });

  it('gives models without token prices no tier', () => {
    expect(tierOf('openai', 'dall-e-3')).toBeUndefined();
  });
});
