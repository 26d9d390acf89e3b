// The measurements, each against one running target: fixed-rate JSON, the saturation search, concurrent
// streams, memory (idle, open streams, a 100 MiB response), and the pipeline (event queryable delay, ingestion).
import { Dispatcher, request } from 'undici';
import { chatBody, Endpoint, post } from './endpoint';
import { percentileCurve, summarize, LatencySummary } from './histogram';
import { errorRate, nowUs, openLoop } from './open-loop';
import { rssKiB, sampleCpu } from './procstat';
import { holdStreams, runStreams } from './streams';
import type { Target } from './targets';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SMALL = chatBody('gpt-4o-mini', false);

export interface FixedRateRun {
  rate: number;
  sent: number;
  ok: number;
  errors: number;
  firstError: string;
  latency: LatencySummary;
  curve: Array<[number, number]>;
  /** Proxy CPU per successful request (µs): the whole process, and its main thread alone. */
  cpuUs: number;
  cpuMainUs: number;
}

/** The longest wait for a target to go idle (shorter in --quick). */
export let SETTLE_MS = 5_000;
export function setSettleMs(ms: number): void {
  SETTLE_MS = ms;
}

/** Waits until the target's process uses under 5% of a core (background pipeline work done), at most maxMs. */
export async function settle(pid: number | undefined, maxMs = SETTLE_MS): Promise<void> {
  if (!pid) return;
  const end = Date.now() + maxMs;
  let before = sampleCpu(pid).process;
  while (Date.now() < end) {
    await sleep(200);
    const now = sampleCpu(pid).process;
    if (now - before < 0.01) return;
    before = now;
  }
}

export async function fixedRate(
  t: Target,
  dispatcher: Dispatcher,
  rate: number,
  durationMs: number,
): Promise<FixedRateRun> {
  await settle(t.pid);
  const before = t.pid ? sampleCpu(t.pid) : null;
  const r = await openLoop({ rate, durationMs, timeoutMs: 1_000 }, async (signal) => {
    await post(dispatcher, t.endpoint, SMALL, signal);
  });
  const after = t.pid ? sampleCpu(t.pid) : null;
  const per = (a: number, b: number) => (r.ok > 0 ? ((b - a) / r.ok) * 1e6 : NaN);
  return {
    rate,
    sent: r.scheduled,
    ok: r.ok,
    errors: r.errors,
    firstError: r.firstError,
    latency: summarize(r.latency),
    curve: percentileCurve(r.latency),
    cpuUs: before && after ? per(before.process, after.process) : NaN,
    cpuMainUs: before && after && t.nodeProcess ? per(before.mainThread, after.mainThread) : NaN,
  };
}

export interface SaturationStep {
  rate: number;
  errorRate: number;
  achieved: number;
  p99: number;
}

/** The highest open-loop rate with under 1% errors (a request slower than 1 s is one): doubling, then bisecting. */
export async function saturation(
  t: Target,
  dispatcher: Dispatcher,
  opts: { from: number; max: number; stepMs: number; bisections: number },
): Promise<{ best: number; steps: SaturationStep[] }> {
  const steps: SaturationStep[] = [];
  const step = async (rate: number): Promise<boolean> => {
    await settle(t.pid);
    const r = await openLoop(
      { rate, durationMs: opts.stepMs, timeoutMs: 1_000, maxInFlight: 4_000 },
      (signal) => post(dispatcher, t.endpoint, SMALL, signal).then(() => undefined),
    );
    const s = summarize(r.latency);
    steps.push({ rate, errorRate: errorRate(r), achieved: r.ok / (r.elapsedMs / 1000), p99: s.p99 });
    return errorRate(r) < 0.01;
  };
  let good = 0;
  let bad = 0;
  for (let rate = opts.from; rate <= opts.max; rate *= 2) {
    if (await step(rate)) good = rate;
    else {
      bad = rate;
      break;
    }
  }
  for (let i = 0; i < opts.bisections && bad > 0; i++) {
    const mid = Math.round((good + bad) / 2);
    if (await step(mid)) good = mid;
    else bad = mid;
  }
  return { best: good, steps };
}

export interface StreamRun {
  streams: number;
  completed: number;
  chunks: number;
  expected: number;
  usage: number;
  firstError: string;
  ttfb: LatencySummary;
  chunkDelay: LatencySummary;
}

export async function streams(
  t: Target,
  dispatcher: Dispatcher,
  cfg: { streams: number; chunks: number; delayMs: number },
): Promise<StreamRun> {
  await settle(t.pid);
  const r = await runStreams(dispatcher, t.endpoint, { ...cfg, rampMs: 1_000, timeoutMs: 60_000 });
  return {
    streams: r.streams,
    completed: r.completed,
    chunks: r.chunks,
    expected: r.expected,
    usage: r.usage,
    firstError: r.firstError,
    ttfb: summarize(r.ttfb),
    chunkDelay: summarize(r.chunkDelay),
  };
}

export interface MemoryRun {
  idleKiB: number;
  heldOpened: number;
  heldWanted: number;
  /** RSS with the streams open, and its growth per stream. */
  heldKiB: number;
  perStreamKiB: number;
  largeBytes: number;
  largeReceived: number;
  /** Peak RSS while passing the large body minus RSS just before. */
  largeGrowthKiB: number;
  largeMs: number;
}

export async function idleRss(t: Target): Promise<number> {
  await settle(t.pid);
  return t.pid ? rssKiB(t.pid) : NaN;
}

export async function memory(
  t: Target,
  dispatcher: Dispatcher,
  cfg: { held: number; largeBytes: number; holdTimeoutMs: number },
  idleKiB: number,
): Promise<MemoryRun> {
  const pid = t.pid;
  await settle(pid);
  const before = pid ? rssKiB(pid) : NaN;
  const held = await holdStreams(
    dispatcher,
    t.endpoint,
    cfg.held,
    Math.max(1_000, cfg.held / 2),
    cfg.holdTimeoutMs,
  );
  await sleep(500);
  const heldKiB = pid ? rssKiB(pid) : NaN;
  await held.release();
  await settle(pid);
  const large = await largeResponse(t.endpoint, dispatcher, cfg.largeBytes, pid);
  return {
    idleKiB,
    heldOpened: held.opened,
    heldWanted: cfg.held,
    heldKiB,
    perStreamKiB: held.opened > 0 ? (heldKiB - before) / held.opened : NaN,
    largeBytes: cfg.largeBytes,
    ...large,
  };
}

async function largeResponse(
  ep: Endpoint,
  dispatcher: Dispatcher,
  bytes: number,
  pid: number | undefined,
): Promise<{ largeReceived: number; largeGrowthKiB: number; largeMs: number }> {
  const base = pid ? rssKiB(pid) : NaN;
  let peak = base;
  const sampler = setInterval(() => {
    if (pid) peak = Math.max(peak, rssKiB(pid));
  }, 10);
  const start = nowUs();
  let received = 0;
  try {
    const r = await request(ep.base + ep.path, {
      method: 'POST',
      headers: ep.headers,
      body: chatBody(`gpt-4o-mini@bytes=${bytes}`, false),
      dispatcher,
      signal: AbortSignal.timeout(120_000),
    });
    for await (const c of r.body) received += (c as Buffer).length;
  } catch {
    // reported as received < bytes
  } finally {
    clearInterval(sampler);
  }
  return { largeReceived: received, largeGrowthKiB: peak - base, largeMs: (nowUs() - start) / 1000 };
}

export interface PipelineRun {
  /** Event queryable delay: from each response's end to its event answering the admin API. */
  queryable: { sent: number; found: number; p50: number; p99: number; max: number };
  /** Ingestion burst: requests closed-loop, then a sample of their events polled until visible. */
  ingestion: {
    requests: number;
    ok: number;
    requestRate: number;
    sampled: number;
    sampledFound: number;
    eventsPerSecond: number;
    drainMs: number;
  };
}

async function eventVisible(
  admin: { url: string; token: string },
  id: string,
  dispatcher: Dispatcher,
): Promise<boolean> {
  const r = await request(`${admin.url}/api/v1/events?request_id=${id}`, {
    headers: { authorization: `Bearer ${admin.token}` },
    dispatcher,
  });
  const text = await r.body.text();
  return r.statusCode === 200 && text.includes(id);
}

/** Polls until the event is visible; its time (µs) or NaN after `timeoutMs`. */
async function pollEvent(
  admin: { url: string; token: string },
  id: string,
  dispatcher: Dispatcher,
  timeoutMs: number,
  everyMs: number,
): Promise<number> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await eventVisible(admin, id, dispatcher).catch(() => false)) return nowUs();
    await sleep(everyMs);
  }
  return NaN;
}

export async function pipeline(
  t: Target,
  dispatcher: Dispatcher,
  cfg: { rate: number; durationMs: number; burst: number; concurrency: number },
): Promise<PipelineRun> {
  const admin = t.admin!;
  await settle(t.pid);
  const delays: number[] = [];
  let sent = 0;
  const polls: Array<Promise<void>> = [];
  await openLoop({ rate: cfg.rate, durationMs: cfg.durationMs, timeoutMs: 5_000 }, async (signal) => {
    sent++;
    const r = await post(dispatcher, t.endpoint, SMALL, signal);
    const ended = nowUs();
    const id = String(r.headers['x-aso-request-id'] ?? '');
    if (!id) return;
    polls.push(
      pollEvent(admin, id, dispatcher, 10_000, 10).then((at) => {
        if (!Number.isNaN(at)) delays.push((at - ended) / 1000);
      }),
    );
  });
  await Promise.all(polls);
  delays.sort((a, b) => a - b);
  const pct = (p: number) =>
    delays.length ? delays[Math.min(delays.length - 1, Math.floor(p * delays.length))] : NaN;

  await settle(t.pid);
  const ids: string[] = [];
  let ok = 0;
  let next = 0;
  const first = nowUs();
  let lastResponse = first;
  await Promise.all(
    Array.from({ length: cfg.concurrency }, async () => {
      while (next < cfg.burst) {
        next++;
        try {
          const r = await post(dispatcher, t.endpoint, SMALL);
          ok++;
          lastResponse = nowUs();
          ids.push(String(r.headers['x-aso-request-id'] ?? ''));
        } catch {
          // counted as not ok
        }
      }
    }),
  );
  const sample = ids.filter((id, i) => id && (i % 100 === 0 || i === ids.length - 1));
  const seen = await Promise.all(sample.map((id) => pollEvent(admin, id, dispatcher, 30_000, 25)));
  const found = seen.filter((x) => !Number.isNaN(x));
  const lastVisible = found.length ? Math.max(...found) : NaN;
  return {
    queryable: {
      sent,
      found: delays.length,
      p50: pct(0.5),
      p99: pct(0.99),
      max: delays[delays.length - 1] ?? NaN,
    },
    ingestion: {
      requests: cfg.burst,
      ok,
      requestRate: ok / ((lastResponse - first) / 1e6),
      sampled: sample.length,
      sampledFound: found.length,
      eventsPerSecond: found.length === sample.length ? ok / ((lastVisible - first) / 1e6) : NaN,
      drainMs: (lastVisible - lastResponse) / 1000,
    },
  };
}
