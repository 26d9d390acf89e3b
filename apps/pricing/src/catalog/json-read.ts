// Small readers over float-free JSON (parseJsonExact) for the reference converters.
import { Decimal, formatDecimal, JsonNumber, parseDecimal, type ExactJson } from '@spendops/money';

export type JsonObject = { [key: string]: ExactJson };

export function asObject(v: ExactJson | undefined): JsonObject | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof JsonNumber)
    ? v
    : undefined;
}

export function asArray(v: ExactJson | undefined): ExactJson[] | undefined {
  return Array.isArray(v) ? v : undefined;
}

export function asString(v: ExactJson | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A JSON number as an exact decimal; undefined for anything else. */
export function asDecimal(v: ExactJson | undefined): Decimal | undefined {
  return v instanceof JsonNumber ? parseDecimal(v.text) : undefined;
}

/** `d × 10^places`, exact, as a catalog decimal string. */
export function shifted(d: Decimal, places: number): string {
  return formatDecimal(places === 0 ? d : d.times(new Decimal(10).pow(places)));
}

/** Byte-wise string order (Go's sort.Strings), independent of locale. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
