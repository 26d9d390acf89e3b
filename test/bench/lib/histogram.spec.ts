import { mergeHistograms, newHistogram, percentileCurve, recordUs, summarize, HIGHEST_US } from './histogram';

describe('latency histograms', () => {
  it('merges parts into one holding every sample, with the percentiles of the union', () => {
    const a = newHistogram();
    const b = newHistogram();
    for (let i = 1; i <= 90; i++) recordUs(a, 100);
    for (let i = 1; i <= 10; i++) recordUs(b, 5_000);
    const merged = mergeHistograms([a, b]);
    const s = summarize(merged);
    expect(s.count).toBe(100);
    expect(s.p50).toBe(100);
    expect(s.p90).toBe(100);
    expect(s.p99).toBeGreaterThanOrEqual(4_995);
    expect(s.p99).toBeLessThanOrEqual(5_005);
    // the parts are left as they were
    expect(summarize(a).count).toBe(90);
    expect(summarize(b).p50).toBeGreaterThanOrEqual(4_995);
  });

  it('keeps three significant digits', () => {
    const h = newHistogram();
    recordUs(h, 123_456);
    expect(Math.abs(summarize(h).max - 123_456) / 123_456).toBeLessThan(0.001);
  });

  it('clamps values outside the trackable range instead of throwing', () => {
    const h = newHistogram();
    recordUs(h, -5);
    recordUs(h, 0.2);
    recordUs(h, HIGHEST_US * 10);
    const s = summarize(h);
    expect(s.count).toBe(3);
    expect(s.p50).toBe(1);
    expect(s.max).toBeGreaterThanOrEqual(HIGHEST_US * 0.999);
  });

  it('summarises an empty histogram as NaN, and its chart curve too', () => {
    const h = newHistogram();
    expect(summarize(h)).toEqual({ count: 0, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN });
    expect(percentileCurve(h).every(([, v]) => Number.isNaN(v))).toBe(true);
  });
});
