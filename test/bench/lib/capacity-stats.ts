// Pure helpers of the pipeline capacity bench: rates from a series of (time, rows queryable) polls, percentiles,
// the command line, the markdown table, and a profile's self time grouped by library.

/** One poll of the read model: `n` events queryable at `t` (ms since the first publish). */
export interface Progress {
  t: number;
  n: number;
}

/** When `target` rows were first queryable, interpolated between the polls around it; NaN if never. */
export function timeToReach(series: readonly Progress[], target: number): number {
  let prev: Progress = { t: 0, n: 0 };
  for (const p of series) {
    if (p.n >= target) {
      if (p.n === prev.n || target <= prev.n) return p.t;
      return prev.t + ((target - prev.n) / (p.n - prev.n)) * (p.t - prev.t);
    }
    prev = p;
  }
  return NaN;
}

export interface Rates {
  /** From the first publish until the last event was queryable. */
  seconds: number;
  eventsPerSecond: number;
  /** Events N/2+1..N over the time between the half and the end: past start-up and warm-up. */
  secondHalfEventsPerSecond: number;
}

export function rates(series: readonly Progress[], events: number): Rates {
  const end = timeToReach(series, events);
  const half = timeToReach(series, Math.ceil(events / 2));
  const seconds = end / 1000;
  return {
    seconds,
    eventsPerSecond: seconds > 0 ? events / seconds : NaN,
    secondHalfEventsPerSecond: end > half ? (events - Math.ceil(events / 2)) / ((end - half) / 1000) : NaN,
  };
}

/** Nearest-rank percentile (p in 0..1) of unsorted values; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/**
 * Published but not yet queryable, at most, by default: a tenth of the run (1,000 to 10,000). Enough to keep the
 * pipeline fed (at 5,000/s, 2,000 is 0.4 s of work, several ledger batches), small enough that the drain at the
 * end (the window's events, already extracted and priced) does not pass for the second half's steady state.
 */
export function defaultInFlight(events: number): number {
  return Math.min(10_000, Math.max(1_000, Math.round(events / 10)));
}

export type CapacityMode = 'all-in-one' | 'distributed';

export interface CapacityArgs {
  modes: CapacityMode[];
  events: number;
  /** Published but not yet queryable, at most. */
  maxInFlight?: number;
  /** All-in-one's PostgreSQL: libs/testing's throwaway server (`test`) or the embedded one serve runs. */
  postgres?: 'test' | 'embedded';
  /** Directory for the CPU profiles (`<mode>/...`); their summary is printed after the table. */
  profile?: string;
}

/** `--mode all-in-one|distributed|both --events N [--in-flight N] [--postgres test|embedded] [--profile DIR]`. */
export function parseCapacityArgs(argv: readonly string[]): CapacityArgs {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value`);
    return v;
  };
  const mode = value('--mode') ?? 'both';
  if (!['all-in-one', 'distributed', 'both'].includes(mode))
    throw new Error(`--mode must be all-in-one, distributed or both, not ${mode}`);
  const events = Number(value('--events') ?? 20_000);
  if (!Number.isInteger(events) || events < 2) throw new Error('--events must be an integer of at least 2');
  const modes: CapacityMode[] = mode === 'both' ? ['all-in-one', 'distributed'] : [mode as CapacityMode];
  const inFlight = value('--in-flight');
  const maxInFlight = inFlight === undefined ? undefined : Number(inFlight);
  if (maxInFlight !== undefined && (!Number.isInteger(maxInFlight) || maxInFlight < 1))
    throw new Error('--in-flight must be a positive integer');
  const postgres = value('--postgres');
  if (postgres !== undefined && postgres !== 'test' && postgres !== 'embedded')
    throw new Error(`--postgres must be test or embedded, not ${postgres}`);
  const profile = value('--profile');
  return {
    modes,
    events,
    ...(maxInFlight ? { maxInFlight } : {}),
    ...(postgres ? { postgres } : {}),
    ...(profile ? { profile } : {}),
  };
}

export interface CapacityResult {
  mode: CapacityMode;
  /** Events published. */
  events: number;
  /** Events queryable at the end (equals `events` unless something was lost or timed out). */
  queryable: number;
  seconds: number;
  eventsPerSecond: number;
  secondHalfEventsPerSecond: number;
  /** How fast the bus took the records (publisher confirms, distributed). */
  publishPerSecond: number;
  /** CPU of the pipeline's own process(es) per event: the bench process (all-in-one) or the three services. */
  cpuUsPerEvent: number;
  /** CPU of PostgreSQL's processes per event. */
  postgresCpuUsPerEvent: number;
  /** CPU of the broker per event (distributed; NaN all-in-one). */
  brokerCpuUsPerEvent: number;
  /**
   * What the CPU per event (pipeline + PostgreSQL + broker) allows on this machine's cores with nothing else
   * running: an upper bound that holds still on a shared machine, where the wall-clock rate does not.
   */
  cpuBoundEventsPerSecond: number;
  /** Publish → queryable of every `sampleEvery`-th event (upper bounds: the poll interval is included). */
  queryableP50Ms: number;
  queryableP99Ms: number;
  sampled: number;
  /** Dead-lettered messages, stalls, missing events. */
  errors: string[];
  /** Load average (1 min) at the start and at the end. */
  loadAvg: [number, number];
  /** The commit measured (and whether apps/ or libs/ had local changes). */
  commit: string;
  /** The load's span on the monotonic clock (µs, process.hrtime's), to cut other processes' profiles to it. */
  loadWindowUs?: { fromUs: number; toUs: number };
  /** Cores busy with nothing to do (3 s, 1 s after the load): included in the per-event CPU above. */
  idleCores?: { pipeline: number; postgres: number; broker: number };
}

/** One line on the CPU each mode burns idle, which the per-event figures include. */
export function idleNote(results: readonly CapacityResult[]): string {
  const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : 'n/a');
  const parts = results
    .filter((r) => r.idleCores)
    .map(
      (r) =>
        `${r.mode}: pipeline ${pct(r.idleCores!.pipeline)}, postgres ${pct(r.idleCores!.postgres)}, broker ${pct(r.idleCores!.broker)}`,
    );
  return `CPU idle after the load (of one core; included in the per-event CPU): ${parts.join('; ') || 'n/a'}`;
}

const fmt = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

export function capacityTable(results: readonly CapacityResult[]): string {
  const lines = [
    '| mode | events | queryable | seconds | events/s | events/s 2nd half | publish/s | CPU µs/event (pipeline) | CPU µs/event (postgres) | CPU µs/event (broker) | CPU-bound events/s | queryable p50 / p99 ms (sampled) | load avg start/end | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const r of results)
    lines.push(
      `| ${r.mode} | ${r.events} | ${r.queryable} | ${fmt(r.seconds, 1)} | ${fmt(r.eventsPerSecond)} | ${fmt(r.secondHalfEventsPerSecond)} | ${fmt(r.publishPerSecond)} | ${fmt(r.cpuUsPerEvent)} | ${fmt(r.postgresCpuUsPerEvent)} | ${fmt(r.brokerCpuUsPerEvent)} | ${fmt(r.cpuBoundEventsPerSecond)} | ${fmt(r.queryableP50Ms)} / ${fmt(r.queryableP99Ms)} (${r.sampled}) | ${r.loadAvg.map((l) => l.toFixed(2)).join(' / ')} | ${r.errors.length ? r.errors.join('; ') : 'none'} |`,
    );
  return lines.join('\n');
}

/**
 * The library or part of the code a profiled function belongs to: `node_modules/<package>`, `apps/<app>`,
 * `libs/<lib>`, `test/...`, Node's own `node:` modules, or V8's pseudo-frames ('(garbage collector)', ...).
 */
export function libraryOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/');
    return `node_modules/${parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  const m = /\/(apps|libs)\/([^/]+)\//.exec(url);
  if (m) return `${m[1]}/${m[2]}`;
  if (/\/test\//.test(url)) return 'test (bench driver)';
  return url;
}

export interface ProfileFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

/** Self-time shares (% of busy samples) per library, largest first. */
export function selfTimeByLibrary(
  samples: ReadonlyArray<{ frame: ProfileFrame; hits: number }>,
): Array<{ library: string; selfPct: number }> {
  const busy = samples.filter((s) => !['(idle)', '(program)'].includes(s.frame.functionName));
  const total = busy.reduce((s, x) => s + x.hits, 0);
  const by = new Map<string, number>();
  for (const s of busy) {
    const lib = libraryOf(s.frame.url, s.frame.functionName);
    by.set(lib, (by.get(lib) ?? 0) + s.hits);
  }
  return [...by]
    .map(([library, hits]) => ({ library, selfPct: total > 0 ? (hits / total) * 100 : 0 }))
    .sort((a, b) => b.selfPct - a.selfPct);
}

/** Events/s the CPU per event allows on `cores` (what is NaN, e.g. no broker, counts as nothing). */
export function cpuBoundRate(cores: number, ...usPerEvent: number[]): number {
  const total = usPerEvent.filter((v) => Number.isFinite(v)).reduce((a, b) => a + b, 0);
  return total > 0 ? (cores * 1e6) / total : NaN;
}

/** The parts of a V8 .cpuprofile this file reads. */
export interface CpuProfileLike {
  nodes: Array<{ id: number; callFrame: ProfileFrame; children?: number[] }>;
  samples?: number[];
  /** µs on the monotonic clock. */
  startTime?: number;
  timeDeltas?: number[];
}

const NOT_BUSY = ['(idle)', '(program)'];

export interface ProfileBreakdown {
  /** Samples in the window, and the share of them the thread was busy (not idle). */
  samples: number;
  busyPct: number;
  /** % of busy samples whose leaf frame is in the library. */
  self: Array<{ library: string; selfPct: number }>;
  /** % of busy samples with the library anywhere on the stack (shares overlap: they do not sum to 100). */
  inclusive: Array<{ library: string; pct: number }>;
}

/** Self and inclusive time per library over the samples inside `window` (all of them without one). */
export function profileBreakdown(
  profile: CpuProfileLike,
  window?: { fromUs: number; toUs: number },
): ProfileBreakdown {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const hits = new Map<number, number>();
  let t = profile.startTime ?? 0;
  let samples = 0;
  (profile.samples ?? []).forEach((id, i) => {
    t += profile.timeDeltas?.[i] ?? 0;
    if (window && (t < window.fromUs || t > window.toUs)) return;
    samples++;
    hits.set(id, (hits.get(id) ?? 0) + 1);
  });
  const leaves = [...hits].map(([id, h]) => ({ frame: byId.get(id)!.callFrame, hits: h }));
  const busy = leaves.filter((l) => !NOT_BUSY.includes(l.frame.functionName)).reduce((a, l) => a + l.hits, 0);
  const inclusive = new Map<string, number>();
  for (const [id, h] of hits) {
    if (NOT_BUSY.includes(byId.get(id)!.callFrame.functionName)) continue;
    const libs = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      const lib = libraryOf(f.url, f.functionName);
      if (!lib.startsWith('(')) libs.add(lib);
    }
    for (const lib of libs) inclusive.set(lib, (inclusive.get(lib) ?? 0) + h);
  }
  return {
    samples,
    busyPct: samples > 0 ? (busy / samples) * 100 : 0,
    self: selfTimeByLibrary(leaves),
    inclusive: [...inclusive]
      .map(([library, h]) => ({ library, pct: busy > 0 ? (h / busy) * 100 : 0 }))
      .sort((a, b) => b.pct - a.pct),
  };
}

/**
 * CPU seconds of a /proc stat line, its own (utime + stime) and its reaped children's (cutime + cstime): summed
 * over a process tree, this does not drop when a child exits (PostgreSQL's autovacuum workers come and go).
 */
export function parseStatCpuWithReaped(stat: string, ticksPerSecond = 100): number {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / ticksPerSecond;
}
