// Latency histograms in microseconds (HdrHistogram, 3 significant digits, up to 60 s), and their summaries.
import { build, Histogram } from 'hdr-histogram-js';

export const HIGHEST_US = 60_000_000;

export function newHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
  });
}

/** Records one latency in µs, clamped into the trackable range so an outlier never throws. */
export function recordUs(h: Histogram, us: number): void {
  h.recordValue(Math.max(1, Math.min(HIGHEST_US, Math.round(us))));
}

/** One histogram holding every sample of the given ones (e.g. the repeats of a scenario, or per-worker parts). */
export function mergeHistograms(parts: readonly Histogram[]): Histogram {
  const out = newHistogram();
  for (const p of parts) out.add(p);
  return out;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN };
  return {
    count: h.totalCount,
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
  };
}

/** Percentile → value points for a latency chart. */
export const CHART_PERCENTILES = [50, 75, 90, 95, 99, 99.5, 99.9] as const;

export function percentileCurve(h: Histogram): Array<[number, number]> {
  return CHART_PERCENTILES.map((p) => [p, h.totalCount === 0 ? NaN : h.getValueAtPercentile(p)]);
}
