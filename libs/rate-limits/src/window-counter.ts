// A sliding-window counter by the two-window approximation: fixed windows aligned to the epoch (so every proxy
// agrees on where a window starts) and an estimate of the last `windowMs` that weights the previous window by
// the part of it still inside the sliding window. O(1) time and three numbers of memory per counter.

export class WindowCounter {
  /** Start of the current fixed window (ms since epoch). */
  windowStart = 0;
  current = 0;
  previous = 0;
  /** Last time anything was counted (eviction of idle counters). */
  touchedAt = 0;

  constructor(readonly windowMs: number) {}

  /** Moves the fixed windows forward to the one holding `now`. */
  roll(now: number): void {
    const start = now - (now % this.windowMs);
    if (start === this.windowStart) return;
    this.previous = start - this.windowStart === this.windowMs ? this.current : 0;
    this.current = 0;
    this.windowStart = start;
  }

  /** The count of the sliding window ending at `now`: previous × (the part of it still inside) + current. */
  estimate(now: number): number {
    this.roll(now);
    const elapsed = (now - this.windowStart) / this.windowMs;
    return this.previous * (1 - elapsed) + this.current;
  }

  /**
   * Counts `n` at time `at` (≤ now): in the current or the previous window; older counts no longer matter and a
   * time ahead of this clock (another machine's) counts as now.
   */
  add(n: number, at: number, now: number): void {
    this.roll(now);
    this.touchedAt = now;
    const start = at - (at % this.windowMs);
    if (start >= this.windowStart) this.current += n;
    else if (start === this.windowStart - this.windowMs) this.previous += n;
  }

  /**
   * Raises the counts to another view of the same counter (`current` and `previous` of the window starting at
   * `windowStart`), keeping the larger of each: two views of the same requests are not added up.
   */
  raiseTo(windowStart: number, current: number, previous: number, now: number): void {
    this.roll(now);
    if (windowStart === this.windowStart) {
      this.current = Math.max(this.current, current);
      this.previous = Math.max(this.previous, previous);
    } else if (windowStart === this.windowStart - this.windowMs) {
      this.previous = Math.max(this.previous, current);
    }
    this.touchedAt = now;
  }

  /** ms until the estimate falls to `limit - cost` or below with no new counts (0: already). */
  msUntilRoom(limit: number, cost: number, now: number): number {
    this.roll(now);
    const target = limit - cost;
    if (target < 0) return this.windowStart + 2 * this.windowMs - now; // never fits: at most two windows
    if (this.current <= target) {
      if (this.previous === 0) return 0;
      // previous × (1 − e) + current ≤ target
      const e = 1 - (target - this.current) / this.previous;
      return Math.max(0, Math.ceil(this.windowStart + e * this.windowMs - now));
    }
    // Only in the next window, where this window's count becomes the weighted one: current × (1 − e) ≤ target.
    const e = 1 - target / this.current;
    return Math.max(0, Math.ceil(this.windowStart + this.windowMs + e * this.windowMs - now));
  }

  /** ms until the current fixed window ends. */
  msUntilWindowEnd(now: number): number {
    this.roll(now);
    return this.windowStart + this.windowMs - now;
  }
}
