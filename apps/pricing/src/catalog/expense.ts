// Expense tiers $, $$, $$$ (docs/pricing.md §7): cost_score = max(input, output) of the standard tier, base
// context tier, period in force; sorted scores cut into thirds. Warn = at least WARN_FACTOR × the median
// score of the $$$ tier (the premium tier's own median: its lower bound sits low among cheap open models).
import { Decimal, formatDecimal } from '@spendops/money';
import { periodAt, type Catalog } from './catalog';
import { compileModel } from './compiled';
import type { CatalogModel } from './schema';

export type ExpenseTier = '$' | '$$' | '$$$';
export const WARN_FACTOR = new Decimal(4);

export interface Expense {
  cost_score: string;
  tier: ExpenseTier;
  warn: boolean;
}

export interface ExpenseRanking {
  /** Largest score of the bottom third, smallest of the top third, the score from which premium models warn. */
  bounds: { budget_max: string; premium_min: string; warn_from: string; warn_factor: string };
  of(model: CatalogModel): Expense | undefined;
}

export function rankExpense(catalog: Catalog, at: Date): ExpenseRanking {
  const scored: { model: CatalogModel; score: Decimal }[] = [];
  for (const { model } of catalog.models()) {
    const r = periodAt(compileModel(model), at).rates;
    const candidates = [r.input, r.output].filter((v): v is Decimal => v !== undefined);
    if (candidates.length === 0) continue;
    const score = Decimal.max(...candidates);
    if (score.greaterThan(0)) scored.push({ model, score });
  }
  const byModel = new Map<CatalogModel, Expense>();
  const zero = { budget_max: '0', premium_min: '0', warn_from: '0', warn_factor: formatDecimal(WARN_FACTOR) };
  if (scored.length === 0) return { bounds: zero, of: () => undefined };
  scored.sort((a, b) => a.score.comparedTo(b.score)); // stable
  const n = scored.length;
  const lower = scored[Math.floor((n - 1) / 3)].score;
  const upperAt = Math.min(Math.floor((2 * n) / 3), n - 1);
  const upper = scored[upperAt].score;
  const top = scored.slice(upperAt);
  const warnAt = top[Math.floor(top.length / 2)].score.times(WARN_FACTOR);
  for (const { model, score } of scored) {
    let tier: ExpenseTier = '$$';
    let warn = false;
    if (score.lessThanOrEqualTo(lower)) tier = '$';
    else if (score.greaterThanOrEqualTo(upper)) {
      tier = '$$$';
      warn = score.greaterThanOrEqualTo(warnAt);
    }
    byModel.set(model, { cost_score: formatDecimal(score), tier, warn });
  }
  return {
    bounds: {
      budget_max: formatDecimal(lower),
      premium_min: formatDecimal(upper),
      warn_from: formatDecimal(warnAt),
      warn_factor: formatDecimal(WARN_FACTOR),
    },
    of: (m) => byModel.get(m),
  };
}
