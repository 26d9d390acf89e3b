// Threshold math in exact decimals. A threshold t (percent) is reached when spent >= amount × t / 100; it is
// crossed by a change of spend from `before` to `after` when before < level <= after.
import { Decimal } from '@spendops/money';

export type DecimalInput = string | Decimal;

const dec = (v: DecimalInput): Decimal => (typeof v === 'string' ? new Decimal(v) : v);

export function thresholdLevel(amount: DecimalInput, threshold: number): Decimal {
  return dec(amount).times(threshold).dividedBy(100);
}

/** The thresholds (in the given order) that a change of spend from `before` to `after` reaches. */
export function thresholdsCrossed(
  thresholds: readonly number[],
  amount: DecimalInput,
  before: DecimalInput,
  after: DecimalInput,
): number[] {
  const [b, a] = [dec(before), dec(after)];
  if (!a.greaterThan(b)) return [];
  return thresholds.filter((t) => {
    const level = thresholdLevel(amount, t);
    return b.lessThan(level) && a.greaterThanOrEqualTo(level);
  });
}

/** Every threshold reached at this spend (a budget defined or changed mid-period). */
export function thresholdsReached(
  thresholds: readonly number[],
  amount: DecimalInput,
  spent: DecimalInput,
): number[] {
  const s = dec(spent);
  return thresholds.filter((t) => s.greaterThanOrEqualTo(thresholdLevel(amount, t)));
}

/** spent / amount × 100 with two decimals, rounded down (99.999 % is not shown as 100.00). */
export function percentUsed(spent: DecimalInput, amount: DecimalInput): string {
  const a = dec(amount);
  if (a.isZero()) return '0.00';
  return dec(spent).times(100).dividedBy(a).toDecimalPlaces(2, Decimal.ROUND_DOWN).toFixed(2);
}

/** Spend as an exact decimal string with at least two decimals ("12.5" → "12.50", "0.000123" kept). */
export function formatUsd(value: DecimalInput): string {
  const d = dec(value);
  return d.decimalPlaces() < 2 ? d.toFixed(2) : d.toFixed();
}
