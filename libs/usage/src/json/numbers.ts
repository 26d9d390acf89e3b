// Reading provider numbers without floats: token counts as safe integers, costs as exact decimals.
import Decimal from 'decimal.js';
import { JsonNumber, type JsonValue } from './exact-json';

/** Decimal arithmetic wide enough that reported costs never round. */
export const ExactDecimal = Decimal.clone({ precision: 200, toExpNeg: -1000, toExpPos: 1000 });
export type ExactDecimal = InstanceType<typeof ExactDecimal>;

const MAX = Number.MAX_SAFE_INTEGER;

/** A count present as a non-negative integer literal (Anthropic, Gemini); anything else is absent. */
export interface Num {
  v: number;
  ok: boolean;
}

export function wireNum(v: JsonValue | undefined): Num {
  if (!(v instanceof JsonNumber) || !/^\d+$/.test(v.text)) return { v: 0, ok: false };
  const big = BigInt(v.text);
  if (big > 9223372036854775807n) return { v: 0, ok: false };
  return { v: big > BigInt(MAX) ? MAX : Number(big), ok: true };
}

/** Adds saturating at MAX_SAFE_INTEGER: absurd provider numbers must not wrap or lose integrality. */
export function satAdd(a: number, b: number): number {
  const s = a + b;
  return s > MAX ? MAX : s;
}

/**
 * A count in the OpenAI dialect, tolerant of the shapes hosts send: integers, integral floats ("12.0"),
 * numeric strings; anything else is 0 (never a failure of the whole usage object).
 */
export function looseCount(v: JsonValue | undefined): number {
  let text: string;
  if (v instanceof JsonNumber) text = v.text;
  else if (typeof v === 'string') text = v.replace(/^[" ]+|[" ]+$/g, '');
  else return 0;
  if (/^[+-]?\d+$/.test(text)) return clampInt(BigInt(text));
  const d = decimalOfText(text);
  return d ? clampInt(BigInt(d.trunc().toFixed())) : 0;
}

function clampInt(b: bigint): number {
  if (b > BigInt(MAX)) return MAX;
  if (b < -BigInt(MAX)) return -MAX;
  return Number(b);
}

function decimalOfText(text: string): ExactDecimal | undefined {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  try {
    const d = new ExactDecimal(text);
    return d.isFinite() ? d : undefined;
  } catch {
    return undefined;
  }
}

/** A JSON number (or numeric string) as an exact decimal; undefined when absent or not a number. */
export function decimalOf(v: JsonValue | undefined): ExactDecimal | undefined {
  if (v instanceof JsonNumber) return decimalOfText(v.text);
  if (typeof v === 'string') return decimalOfText(v.trim());
  return undefined;
}

/** A decimal as plain text without exponent, the way the event stores it. */
export function decimalText(d: ExactDecimal): string {
  return d.toFixed();
}
