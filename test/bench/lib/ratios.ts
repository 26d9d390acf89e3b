// Ratio and spread arithmetic of the report: every figure against each floor (nginx, the bare Node proxy) and
// the peer (Portkey), and min/median/max over repeats.

export const FLOORS = ['nginx', 'bare'] as const;
export const PEER = 'portkey';
export const COMPARED = [...FLOORS, PEER] as const;

/** a / b, or NaN when either side is missing or b is not positive. */
export function ratio(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b <= 0 || a < 0) return NaN;
  return a / b;
}

export function fmtRatio(r: number): string {
  if (!Number.isFinite(r)) return '—';
  return r >= 100 ? `${r.toFixed(0)}x` : r >= 10 ? `${r.toFixed(1)}x` : `${r.toFixed(2)}x`;
}

export interface Spread {
  min: number;
  median: number;
  max: number;
  n: number;
}

/** min/median/max of the finite values (median of an even count: the mean of the middle two). */
export function spread(values: readonly number[]): Spread {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return { min: NaN, median: NaN, max: NaN, n: 0 };
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { min: v[0], median, max: v[v.length - 1], n: v.length };
}

export function median(values: readonly number[]): number {
  return spread(values).median;
}

/** Per-repetition differences a[i] - b[i] (e.g. a target's p99 minus direct's in the same repetition). */
export function paired(a: readonly number[], b: readonly number[]): number[] {
  return a.map((x, i) => (i < b.length ? x - b[i] : NaN));
}

/** The ratio of `value` to each compared target's figure, keyed by the compared target's name. */
export function ratiosTo(value: number, figures: ReadonlyMap<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of COMPARED) out[name] = ratio(value, figures.get(name) ?? NaN);
  return out;
}

/** µs as a human figure: "812 µs", "12.4 ms", "1.25 s". */
export function fmtUs(us: number): string {
  if (!Number.isFinite(us)) return '—';
  const a = Math.abs(us);
  if (a < 10_000) return `${us.toFixed(0)} µs`;
  if (a < 1_000_000) return `${(us / 1000).toFixed(1)} ms`;
  return `${(us / 1e6).toFixed(2)} s`;
}

export function fmtKiB(kib: number): string {
  if (!Number.isFinite(kib)) return '—';
  return Math.abs(kib) < 10_240 ? `${kib.toFixed(1)} KiB` : `${(kib / 1024).toFixed(1)} MiB`;
}

export function fmtPct(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(2)}%` : '—';
}
