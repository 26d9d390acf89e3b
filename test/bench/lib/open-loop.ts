// Open-loop load: requests leave on a fixed schedule whatever the target does, and each latency is measured from
// the request's intended send time, so a stalled target's queue shows in the figures (no coordinated omission).
import type { Histogram } from 'hdr-histogram-js';
import { newHistogram, recordUs } from './histogram';

export interface OpenLoopConfig {
  /** Requests per second. */
  rate: number;
  durationMs: number;
  /** Beyond this many outstanding requests a due request is counted as an error, never queued. */
  maxInFlight?: number;
  /** A request slower than this (from its intended time) is an error. */
  timeoutMs?: number;
}

export interface OpenLoopResult {
  latency: Histogram;
  scheduled: number;
  ok: number;
  errors: number;
  /** From the first intended send to the last completion (ms). */
  elapsedMs: number;
  firstError: string;
}

export const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** The intended send time (µs) of request i. */
export function intendedUs(startUs: number, i: number, rate: number): number {
  return startUs + (i * 1e6) / rate;
}

export function errorRate(r: Pick<OpenLoopResult, 'errors' | 'scheduled'>): number {
  return r.scheduled === 0 ? 0 : r.errors / r.scheduled;
}

/** `send` performs one request and resolves when its body is read; it rejects on a failure (non-2xx included). */
export async function openLoop(
  cfg: OpenLoopConfig,
  send: (signal: AbortSignal) => Promise<void>,
): Promise<OpenLoopResult> {
  const maxInFlight = cfg.maxInFlight ?? 10_000;
  const timeoutMs = cfg.timeoutMs ?? 2_000;
  const total = Math.floor((cfg.rate * cfg.durationMs) / 1000);
  const res: OpenLoopResult = {
    latency: newHistogram(),
    scheduled: total,
    ok: 0,
    errors: 0,
    elapsedMs: 0,
    firstError: '',
  };
  const fail = (why: string) => {
    res.errors++;
    if (!res.firstError) res.firstError = why;
  };
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  const start = nowUs();
  const fire = (intended: number) => {
    if (inFlight >= maxInFlight) return fail('more than maxInFlight requests outstanding');
    inFlight++;
    const signal = AbortSignal.timeout(Math.max(1, Math.round(timeoutMs - (nowUs() - intended) / 1000)));
    const p = send(signal).then(
      () => {
        const us = nowUs() - intended;
        if (us > timeoutMs * 1000) fail(`slower than ${timeoutMs} ms`);
        else {
          res.ok++;
          recordUs(res.latency, us);
        }
      },
      (err: unknown) => fail(err instanceof Error ? err.message : String(err)),
    );
    const tracked = p.finally(() => {
      inFlight--;
      pending.delete(tracked);
    });
    pending.add(tracked);
  };
  for (let i = 0; i < total;) {
    const now = nowUs();
    while (i < total && intendedUs(start, i, cfg.rate) <= now) fire(intendedUs(start, i++, cfg.rate));
    if (i < total) {
      const waitMs = (intendedUs(start, i, cfg.rate) - nowUs()) / 1000;
      await new Promise((r) => (waitMs >= 1 ? setTimeout(r, Math.floor(waitMs)) : setImmediate(r)));
    }
  }
  while (pending.size > 0) await Promise.all([...pending]);
  res.elapsedMs = (nowUs() - start) / 1000;
  return res;
}
