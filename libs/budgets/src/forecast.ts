// Period-end projection from the run rate so far: spent × (period length / elapsed). Rules:
// - before the period (or with nothing spent) the forecast is what is spent;
// - at or after the end it is what was spent (the period is over);
// - the elapsed time counts at least 1 % of the period, so a first request minutes into a month does not
//   project an absurd month (the first 1 % extrapolates as if 1 % had passed).
// The result has two decimals (cents), rounded half up; it never goes below `spent`.
import { Decimal } from '@spendops/money';
import type { DecimalInput } from './thresholds';

export function forecast(spent: DecimalInput, periodStart: Date, periodEnd: Date, now: Date): string {
  const s = typeof spent === 'string' ? new Decimal(spent) : spent;
  const length = periodEnd.getTime() - periodStart.getTime();
  const elapsed = now.getTime() - periodStart.getTime();
  if (s.lessThanOrEqualTo(0) || length <= 0 || elapsed <= 0 || elapsed >= length)
    return s.toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);
  const counted = Math.max(elapsed, length / 100);
  const projected = s.times(length).dividedBy(counted);
  return Decimal.max(projected, s).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);
}
