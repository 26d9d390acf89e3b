import { summarize } from './histogram';
import { errorRate, intendedUs, openLoop } from './open-loop';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('open-loop load', () => {
  it('schedules request i at start + i/rate', () => {
    expect(intendedUs(1_000, 0, 500)).toBe(1_000);
    expect(intendedUs(1_000, 3, 500)).toBe(7_000);
  });

  it('sends the scheduled count whatever the target does, and counts failures as errors', async () => {
    let n = 0;
    const r = await openLoop({ rate: 200, durationMs: 250 }, async () => {
      if (n++ % 5 === 0) throw new Error('status 502');
    });
    expect(r.scheduled).toBe(50);
    expect(r.ok + r.errors).toBe(50);
    expect(r.errors).toBe(10);
    expect(errorRate(r)).toBeCloseTo(0.2);
    expect(r.firstError).toBe('status 502');
  });

  it("measures from the intended send time, so a serial target's queue shows (no coordinated omission)", async () => {
    // One request at a time, 10 ms each, offered 200 req/s for 250 ms: 50 requests need 500 ms of service, so
    // the last ones wait about 250 ms past their intended time; a closed-loop measure would say 10 ms.
    let busy: Promise<void> = Promise.resolve();
    const r = await openLoop({ rate: 200, durationMs: 250, timeoutMs: 5_000 }, () => {
      const mine = busy.then(() => sleep(10));
      busy = mine;
      return mine;
    });
    const s = summarize(r.latency);
    expect(r.ok).toBe(50);
    expect(s.max).toBeGreaterThan(150_000);
    expect(s.p50).toBeGreaterThan(s.max / 4);
  });

  it('refuses requests beyond maxInFlight as errors instead of queueing them', async () => {
    const r = await openLoop({ rate: 1000, durationMs: 50, maxInFlight: 5, timeoutMs: 5_000 }, () =>
      sleep(200),
    );
    expect(r.ok).toBe(5);
    expect(r.errors).toBe(45);
    expect(r.firstError).toContain('maxInFlight');
  });

  it('counts a request that outlives the timeout as an error', async () => {
    const r = await openLoop(
      { rate: 100, durationMs: 30, timeoutMs: 20 },
      (signal) =>
        new Promise((resolve, reject) => {
          const t = setTimeout(resolve, 200);
          signal.addEventListener('abort', () => {
            clearTimeout(t);
            reject(new Error('aborted'));
          });
        }),
    );
    expect(r.ok).toBe(0);
    expect(r.errors).toBe(3);
  });
});
