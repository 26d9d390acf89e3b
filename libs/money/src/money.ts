// Exact decimal money: parsing, formatting and the one rounding rule (docs/pricing.md, "Rounding rule").
import { Decimal, ZERO } from './decimal';

/** Costs keep at most this many fractional digits; only values with more are rounded (half to even). */
export const COST_SCALE = 12;

const DECIMAL_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Whether `s` is a finite decimal number in plain or exponent notation ("1.25", "-3", "2.5e-06"). */
export function isDecimalString(s: string): boolean {
  return DECIMAL_TEXT.test(s.trim());
}

/**
 * Parses a decimal string exactly. Integers (safe ones) and bigints are accepted too; other JS numbers are
 * refused because a float may already have lost digits (parse JSON with `parseJsonExact` instead).
 */
export function parseDecimal(value: string | number | bigint): Decimal {
  if (typeof value === 'bigint') return new Decimal(value.toString());
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`not an exact decimal: ${value} (pass a string)`);
    return new Decimal(value);
  }
  const s = value.trim();
  if (!DECIMAL_TEXT.test(s)) throw new Error(`not a decimal number: ${JSON.stringify(value)}`);
  return new Decimal(s);
}

/** Plain notation, no exponent, no trailing zeros, never "-0". */
export function formatDecimal(d: Decimal): string {
  return d.isZero() ? '0' : d.toString();
}

/** The rounding rule: exact values are kept; only digits beyond COST_SCALE fractional digits are rounded half-even. */
export function roundCost(d: Decimal): Decimal {
  return d.decimalPlaces() > COST_SCALE ? d.toDecimalPlaces(COST_SCALE, Decimal.ROUND_HALF_EVEN) : d;
}

/** Exact sum of decimal strings (e.g. stored event costs). */
export function sumDecimals(values: Iterable<string>): Decimal {
  let sum = ZERO;
  for (const v of values) sum = sum.plus(parseDecimal(v));
  return sum;
}

/** `quantity × rate / per`, shifted rather than divided when `per` is a power of ten, then `roundCost`. */
export function lineCost(quantity: Decimal, rate: Decimal, per: number): Decimal {
  const product = quantity.times(rate);
  return roundCost(per === 1 ? product : product.dividedBy(per));
}
