// Pure formatting and date arithmetic (no DOM), so jest checks it under Node. Costs arrive as exact decimal
// strings ("0.000150000"); they are rounded as decimals, never through floating point.

/** Rounds a decimal string half away from zero to `decimals` places: ["-"?, integer digits, fraction digits]. */
function roundDecimal(text: string, decimals: number): { negative: boolean; int: string; frac: string } {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!m) throw new Error(`not a decimal: ${text}`);
  const negative = m[1] === '-';
  const digits = (m[2] || '0') + (m[3] ?? '').padEnd(decimals, '0').slice(0, decimals);
  const roundUp = Number((m[3] ?? '')[decimals] ?? '0') >= 5;
  const scaled = (BigInt(digits) + (roundUp ? 1n : 0n)).toString().padStart(decimals + 1, '0');
  const int = scaled.slice(0, scaled.length - decimals) || '0';
  const frac = scaled.slice(scaled.length - decimals);
  return { negative: negative && /[1-9]/.test(int + frac), int, frac };
}

const group = (int: string) => int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** `$1,234.56`: a total, two decimals. */
export function usd(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const { negative, int, frac } = roundDecimal(String(value), 2);
  return `${negative ? '-' : ''}$${group(int)}.${frac}`;
}

/** A group's spend: like usd, but a non-zero amount under half a cent reads `<$0.01`, not `$0.00`. */
export function usdShort(value: string | null | undefined): string {
  const n = Number(value ?? 0);
  return n > 0 && n < 0.005 ? '<$0.01' : usd(value);
}

/**
 * One request's cost: as exact as the API gives it, at least 2 decimals from $1 up and at least 4 below, trailing
 * zeros past those trimmed (`$0.00015`, `$0.0000`, `$12.50`), at most 9 decimals.
 */
export function usdExact(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const { negative, int, frac } = roundDecimal(String(value), 9);
  const min = int === '0' ? 4 : 2;
  let f = frac.replace(/0+$/, '');
  if (f.length < min) f = f.padEnd(min, '0');
  return `${negative ? '-' : ''}$${group(int)}.${f}`;
}

/** `12,345`, or `—` for a count the provider did not report. */
export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : group(String(Math.trunc(n)));
}

const DAY_MS = 86_400_000;

/** Midnight UTC of the day of `t`. */
export function utcDay(t: Date): Date {
  return new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
}

export function addDays(t: Date, days: number): Date {
  return new Date(t.getTime() + days * DAY_MS);
}

/** `2026-12-02` */
export function isoDay(t: Date): string {
  return t.toISOString().slice(0, 10);
}

export interface Range {
  from: string;
  to: string;
}

/** This month so far, as the analytics API takes it (whole UTC days, `to` exclusive: tomorrow's midnight). */
export function monthToDate(now: Date): Range {
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  return { from: from.toISOString(), to: addDays(utcDay(now), 1).toISOString() };
}

export function today(now: Date): Range {
  return { from: utcDay(now).toISOString(), to: addDays(utcDay(now), 1).toISOString() };
}

/** The whole days from `fromDay` through `toDay` (both `YYYY-MM-DD`, inclusive) as an API range. */
export function dayRange(fromDay: string, toDay: string): Range {
  const from = new Date(`${fromDay}T00:00:00Z`);
  const to = addDays(new Date(`${toDay}T00:00:00Z`), 1);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw new Error('Pick valid dates');
  if (to <= from) throw new Error('The end date must not be before the start date');
  return { from: from.toISOString(), to: to.toISOString() };
}

/**
 * This month's spend if the rest of it goes like the part so far: month to date divided by the fraction of the
 * month elapsed (an estimate, so floating point is fine here).
 */
export function monthForecast(monthToDateUsd: string, now: Date): number {
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  const elapsed = Math.max(now.getTime() - start, 3_600_000) / (end - start);
  return Number(monthToDateUsd) / Math.min(elapsed, 1);
}

/** Every bucket start (ISO) from `from` (inclusive) to `to` (exclusive), so days without traffic show as 0. */
export function bucketStarts(range: Range, interval: 'hour' | 'day'): string[] {
  const step = interval === 'day' ? DAY_MS : DAY_MS / 24;
  const out: string[] = [];
  for (
    let t = new Date(range.from).getTime();
    t < new Date(range.to).getTime() && out.length < 2000;
    t += step
  )
    out.push(new Date(t).toISOString());
  return out;
}

export interface SeriesRow {
  bucket_start: string;
  group: Record<string, string>;
  cost_usd: string;
  requests: number;
}

export interface Stacked {
  buckets: string[];
  /** Largest first; the last may be "other". */
  layers: { label: string; values: number[] }[];
}

/** A group's label: its values joined, `(none)` for an empty one. */
export function groupLabel(group: Record<string, string>, keys: string[]): string {
  if (keys.length === 0) return 'total';
  return keys.map((k) => group[k] || '(none)').join(' · ');
}

/** Cost per bucket per group for a stacked chart: the `top` costliest groups, the rest summed as "other". */
export function stackSeries(rows: SeriesRow[], keys: string[], buckets: string[], top = 6): Stacked {
  const index = new Map(buckets.map((b, i) => [new Date(b).getTime(), i]));
  const byLabel = new Map<string, number[]>();
  for (const r of rows) {
    const i = index.get(new Date(r.bucket_start).getTime());
    if (i === undefined) continue;
    const label = groupLabel(r.group, keys);
    const values = byLabel.get(label) ?? buckets.map(() => 0);
    values[i] += Number(r.cost_usd);
    byLabel.set(label, values);
  }
  const total = (v: number[]) => v.reduce((a, b) => a + b, 0);
  const sorted = [...byLabel.entries()].sort((a, b) => total(b[1]) - total(a[1]));
  const layers = sorted.slice(0, top).map(([label, values]) => ({ label, values }));
  if (sorted.length > top) {
    const other = buckets.map((_, i) => sorted.slice(top).reduce((s, [, v]) => s + v[i], 0));
    layers.push({ label: 'other', values: other });
  }
  return { buckets, layers };
}

/** A query string of the non-empty values. */
export function queryString(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
