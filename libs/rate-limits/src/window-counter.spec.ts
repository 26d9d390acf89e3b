import { WindowCounter } from './window-counter';

const W = 60_000;
const T0 = 1_700_000_040_000; // a window boundary (a multiple of 60 s)

describe('WindowCounter (two-window sliding estimate)', () => {
  it('counts in the current window', () => {
    const c = new WindowCounter(W);
    c.add(3, T0 + 1000, T0 + 1000);
    c.add(2, T0 + 5000, T0 + 5000);
    expect(c.estimate(T0 + 5000)).toBe(5);
    expect(c.windowStart).toBe(T0);
  });

  it('weights the previous window by the part of it still inside the sliding window', () => {
    const c = new WindowCounter(W);
    c.add(10, T0 + 30_000, T0 + 30_000);
    expect(c.estimate(T0 + W)).toBe(10); // the whole previous window is still inside
    expect(c.estimate(T0 + W + 15_000)).toBeCloseTo(7.5);
    c.add(4, T0 + W + 15_000, T0 + W + 15_000);
    expect(c.estimate(T0 + W + 45_000)).toBeCloseTo(2.5 + 4);
    expect(c.estimate(T0 + 2 * W)).toBe(4); // the first window is gone, the second is now the previous
  });

  it('forgets everything after two idle windows', () => {
    const c = new WindowCounter(W);
    c.add(10, T0, T0);
    expect(c.estimate(T0 + 2 * W + 1)).toBe(0);
  });

  it('adds a late count to the previous window and ignores an older one', () => {
    const c = new WindowCounter(W);
    c.add(1, T0 + 1000, T0 + W + 1000); // belongs to the previous window
    expect(c.previous).toBe(1);
    c.add(1, T0 - W, T0 + W + 1000); // two windows ago: no longer matters
    expect(c.previous).toBe(1);
    expect(c.current).toBe(0);
  });

  it('counts a time ahead of its clock as now', () => {
    const c = new WindowCounter(W);
    c.add(2, T0 + 5 * W, T0 + 1000);
    expect(c.current).toBe(2);
    expect(c.windowStart).toBe(T0);
  });

  it('says when one more unit fits', () => {
    const c = new WindowCounter(W);
    expect(c.msUntilRoom(5, 1, T0)).toBe(0);
    c.add(5, T0 + 10_000, T0 + 10_000);
    // Full in this window: fits once the count, weighted in the next window, is ≤ 4: 5 × (1 − e) ≤ 4 → e = 0.2.
    expect(c.msUntilRoom(5, 1, T0 + 10_000)).toBe(W - 10_000 + 12_000);
    // In the next window: at e = 0.2 exactly.
    expect(c.msUntilRoom(5, 1, T0 + W)).toBe(12_000);
    expect(c.msUntilRoom(5, 1, T0 + W + 12_000)).toBe(0);
    expect(c.estimate(T0 + W + 12_000)).toBeCloseTo(4);
  });

  it('with counts in both windows, waits for the previous one to slide out far enough', () => {
    const c = new WindowCounter(W);
    c.add(4, T0 + 1000, T0 + 1000);
    c.add(3, T0 + W + 1000, T0 + W + 1000);
    // 4 × (1 − e) + 3 ≤ 4 → e = 0.75
    expect(c.msUntilRoom(5, 1, T0 + W + 1000)).toBe(45_000 - 1000);
  });

  it('reports the end of the current window', () => {
    const c = new WindowCounter(W);
    expect(c.msUntilWindowEnd(T0 + 20_000)).toBe(40_000);
  });
});
