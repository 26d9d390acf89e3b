// The measurements, each against one running target: fixed-rate JSON, the saturation search, concurrent
// streams, memory (idle, open streams, a 100 MiB response), and the pipeline (event queryable delay, ingestion).
import { Dispatcher, request } from 'undici';
import { chatBody, Endpoint, post } from './endpoint';
import { percentileCurve, summarize, LatencySummary } from './histogram';
import { errorRate, nowUs, openLoop } from './open-loop';
import { IdleWindow, processRunNs, rssKiB, sampleCpu } from './procstat';
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

/** A process is idle when it used under this share of one core over the last window (polled every POLL_MS). */
const IDLE_SHARE = 0.2;
const IDLE_WINDOW_MS = 100;
const POLL_MS = 50;

/** What the settle waits cost over the run: the phase timing reports it. */
export const settleStats = { waits: 0, totalMs: 0, capped: 0 };

/** The process loaded last: its backlog (a pipeline still draining) must not bill the next measurement. */
let lastLoaded: number | undefined;

/**
 * Waits until the target's process and the one loaded before it each use under 20% of a core over 100 ms
 * (sampled every 50 ms from /proc schedstat), at most maxMs. An idle SpendOps all-in-one still uses about 10% of
 * a core (its projection runners poll), so the bar sits above that and far below a draining pipeline.
 */
export async function settle(pid: number | undefined, maxMs = SETTLE_MS): Promise<void> {
  const watched = [...new Set([pid, lastLoaded])].filter((p): p is number => p !== undefined);
  lastLoaded = pid ?? lastLoaded;
  if (watched.length === 0) return;
  const start = Date.now();
  const windows = watched.map(() => new IdleWindow(IDLE_WINDOW_MS, IDLE_SHARE));
  const idle = () => watched.map((p, i) => windows[i].add(Date.now(), processRunNs(p))).every(Boolean);
  let done = idle();
  while (!done && Date.now() - start < maxMs) {
    await sleep(POLL_MS);
    done = idle();
  }
  settleStats.waits++;
  settleStats.totalMs += Date.now() - start;
  if (!done) settleStats.capped++;
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

/**
 * The memory scenarios of several targets: each holds its streams open in turn (one target at a time: opened side
 * by side, the streams of a fast target stay open while the slow ones open, and its RSS is read after more GC,
 * which showed as lower per-stream figures), then the large responses pass one target at a time.
 */
export async function memory(
  items: Array<{ t: Target; dispatcher: Dispatcher; idleKiB: number }>,
  cfg: { held: number; largeBytes: number; holdTimeoutMs: number },
): Promise<MemoryRun[]> {
  const rss = (t: Target) => (t.pid ? rssKiB(t.pid) : NaN);
  const before: number[] = [];
  const heldKiB: number[] = [];
  const held: Array<{ opened: number }> = [];
  for (const { t, dispatcher } of items) {
    await settle(t.pid);
    before.push(rss(t));
    const h = await holdStreams(
      dispatcher,
      t.endpoint,
      cfg.held,
      Math.max(1_000, cfg.held / 2),
      cfg.holdTimeoutMs,
    );
    await sleep(500);
    heldKiB.push(rss(t));
    held.push(h);
    await h.release();
  }
  const runs: MemoryRun[] = [];
  for (const [i, { t, dispatcher, idleKiB }] of items.entries()) {
    await settle(t.pid);
    const large = await largeResponse(t.endpoint, dispatcher, cfg.largeBytes, t.pid);
    runs.push({
      idleKiB,
      heldOpened: held[i].opened,
      heldWanted: cfg.held,
      heldKiB: heldKiB[i],
      perStreamKiB: held[i].opened > 0 ? (heldKiB[i] - before[i]) / held[i].opened : NaN,
      largeBytes: cfg.largeBytes,
      ...large,
    });
  }
  return runs;
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

/** Whether the event of request `id` answers GET /api/v1/events?request_id=. */
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

/**
 * Watches request ids until their events answer the admin API, with one poller for all of them: every `everyMs`
 * it asks for the oldest id still waiting, and while that one is there, the next, and so on (events become
 * queryable about in the order their requests ended). A few queries per found event, so the measurement does not
 * load the core the pipeline runs on, as hundreds of clients polling every few ms did. Delays are upper bounds by
 * up to `everyMs`; an id that waited `timeoutMs` is given up (not found).
 */
class EventWatcher {
  private readonly waiting = new Map<string, { since: number; found: (atUs: number) => void }>();
  private closed = false;

  constructor(
    private readonly admin: { url: string; token: string },
    private readonly dispatcher: Dispatcher,
    private readonly everyMs = 20,
  ) {}

  watch(id: string, found: (atUs: number) => void): void {
    this.waiting.set(id, { since: Date.now(), found });
  }

  /** No more ids will come: run() ends once every one is found or given up. */
  done(): void {
    this.closed = true;
  }

  async run(timeoutMs: number): Promise<void> {
    while (!this.closed || this.waiting.size > 0) {
      for (const [id, w] of this.waiting) {
        const visible = await eventVisible(this.admin, id, this.dispatcher).catch(() => false);
        if (!visible && Date.now() - w.since < timeoutMs) break;
        this.waiting.delete(id);
        if (visible) w.found(nowUs());
      }
      await sleep(this.everyMs);
    }
  }
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
  // One poller for every request in flight (not one per request): hundreds of clients polling the admin API
  // every few ms would themselves load the core the pipeline runs on, and measure that load instead.
  const watcher = new EventWatcher(admin, dispatcher);
  const watching = watcher.run(10_000);
  await openLoop({ rate: cfg.rate, durationMs: cfg.durationMs, timeoutMs: 5_000 }, async (signal) => {
    sent++;
    const r = await post(dispatcher, t.endpoint, SMALL, signal);
    const ended = nowUs();
    const id = String(r.headers['x-aso-request-id'] ?? '');
    if (!id) return;
    watcher.watch(id, (at) => delays.push((at - ended) / 1000));
  });
  watcher.done();
  await watching;
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
  const found: number[] = [];
  const burstWatcher = new EventWatcher(admin, dispatcher);
  for (const id of sample) burstWatcher.watch(id, (at) => found.push(at));
  burstWatcher.done();
  await burstWatcher.run(30_000);
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
