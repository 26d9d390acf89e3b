// A budget as the API shows it: its definition plus the state of the period it is in now.
import type { BudgetRecord, BudgetSpec, BudgetView } from '@spendops/contracts';
import { Decimal } from '@spendops/money';
import { forecast, formatUsd, percentUsed } from '@spendops/budgets';
import { currentPeriod } from './budgets.projection';

/** `spent` is the current period's spend (exact decimal string; '0' when nothing was counted yet). */
export function budgetView(record: BudgetRecord, spent: string, now: Date): BudgetView {
  const period = currentPeriod(record, now);
  const amount = new Decimal(record.amount_usd);
  const s = new Decimal(spent);
  return {
    ...record,
    period_start: period.start.toISOString(),
    period_end: period.end.toISOString(),
    spent_usd: formatUsd(s),
    percent_used: percentUsed(s, amount),
    forecast_usd: forecast(s, period.start, period.end, now),
    exhausted: record.enforce && s.greaterThanOrEqualTo(amount),
  };
}

/** The definition part of a record. */
export function specOf(record: BudgetRecord): BudgetSpec {
  const { id: _id, created_at: _created, updated_at: _updated, ...spec } = record;
  return spec;
}
