// The benchmark: every target side by side against one mock upstream, in one run. `npm run bench [-- --quick]`
// (options: --targets a,b  --reps N  --no-pin  --no-profile  --out DIR). Prints the report and writes
// bench/results/<date>-<quick|full>.{md,json,svg}. Not a test; see bench/README.md.
import '../../apps/cli/src/aliases';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { Dispatcher } from 'undici';
import { chatBody, newDispatcher, post } from './lib/endpoint';
import { judge } from './lib/goals';
import type { BenchReport, TargetInfo } from './lib/model';
import { nowUs, openLoop } from './lib/open-loop';
import { exec, onPath, pinSelf, startProc, waitOutput } from './lib/proc';
import { topSelfTime, CpuProfile } from './lib/profile';
import { renderMarkdown, renderSvg } from './lib/report';
import {
  fixedRate,
  idleRss,
  memory,
  pipeline,
  saturation,
  setSettleMs,
  settleStats,
  streams,
  FixedRateRun,
} from './lib/scenarios';
import { runStreams } from './lib/streams';
import {
  BenchEnv,
  CPU_ONLY,
  newTmp,
  repoRoot,
  startTarget,
  Target,
  TargetName,
  TARGET_ORDER,
} from './lib/targets';

interface Options {
  quick: boolean;
  targets: TargetName[];
  reps: number;
  pin: boolean;
  profile: boolean;
  out: string;
}

function parseArgs(argv: string[], root: string): Options {
  const value = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const only = value('targets')?.split(',') as TargetName[] | undefined;
  return {
    quick,
    // Quick leaves out the all-in-one variants (capture off, one thread): two more embedded PostgreSQLs idling on
    // the proxy core, and ~15 s, for rows the issue does not ask for; the full run and --targets have them.
    targets: only
      ? TARGET_ORDER.filter((t) => t === 'direct' || only.includes(t))
      : TARGET_ORDER.filter((t) => !quick || !CPU_ONLY.has(t)),
    reps: Number(value('reps') ?? (quick ? 2 : 5)),
    pin: !argv.includes('--no-pin'),
    profile: !argv.includes('--no-profile'),
    out: value('out') ?? join(root, 'bench', 'results'),
  };
}

const sizes = (quick: boolean) => ({
  rates: [500, 1000, 2000],
  keyRate: 1000,
  /** Per fixed-rate block; quick keeps 1,000 requests at the key rate and at 2,000 req/s, 500 at 500 req/s. */
  fixedMs: (rate: number) => (quick ? (rate > 1_000 ? 500 : 1_000) : 10_000),
  warmupMs: quick ? 500 : 3_000,
  streams: quick ? 200 : 1_000,
  chunks: 100,
  held: quick ? 1_000 : 5_000,
  holdTimeoutMs: quick ? 10_000 : 30_000,
  settleMs: quick ? 2_000 : 5_000,
  largeBytes: 100 * 2 ** 20,
  saturation: quick
    ? { from: 2_000, max: 8_000, stepMs: 500, bisections: 0 }
    : { from: 1_000, max: 32_000, stepMs: 3_000, bisections: 2 },
  pipeline: quick
    ? { rate: 200, durationMs: 2_000, burst: 1_000, concurrency: 64 }
    : { rate: 500, durationMs: 10_000, burst: 10_000, concurrency: 64 },
  profileMs: quick ? 3_000 : 10_000,
});

const t0 = Date.now();
const log = (s: string) => process.stderr.write(`bench [${((Date.now() - t0) / 1000).toFixed(0)} s]: ${s}\n`);

function machine(): BenchReport['meta']['machine'] {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  const mem = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  let go = 'not found';
  const goBin = onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : '');
  if (goBin) go = execFileSync(goBin, ['version']).toString().trim().split(' ')[2] ?? go;
  return {
    cpu: /model name\s*:\s*(.*)/.exec(info)?.[1] ?? 'unknown',
    cores: cpus().length,
    kernel: release(),
    memKiB: mem,
    node: process.version,
    go,
  };
}

const loads = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** A JSON completion with usage, and two short streams whose chunks and usage chunks all arrive. */
async function smoke(t: Target, d: Dispatcher): Promise<string> {
  try {
    const r = await post(d, t.endpoint, chatBody('gpt-4o-mini', false), AbortSignal.timeout(15_000), true);
    if (!r.body.includes('"total_tokens"')) return 'smoke: the JSON answer has no usage';
    const s = await runStreams(d, t.endpoint, {
      streams: 2,
      chunks: 5,
      delayMs: 1,
      rampMs: 0,
      timeoutMs: 15_000,
    });
    if (s.completed !== 2 || s.chunks !== 10)
      return `smoke: streams delivered ${s.chunks}/10 chunks (${s.firstError})`;
    if (s.usage !== 2) return 'smoke: a stream lost its usage chunk';
    return '';
  } catch (err) {
    return `smoke: ${err instanceof Error ? err.message : String(err)}`;
  }
}

async function extractionFigures(
  env: BenchEnv,
  quick: boolean,
): Promise<Array<{ name: string; perSecond: number }>> {
  const argv = [process.execPath, join(__dirname, 'extraction.js')];
  const { stdout } = await exec(
    env.proxyCpu ? 'taskset' : argv[0],
    env.proxyCpu ? ['-c', env.proxyCpu, ...argv] : argv.slice(1),
    {
      env: { ...process.env, BENCH_SECONDS: quick ? '1' : '3' },
    },
  );
  return stdout
    .split('\n')
    .slice(1)
    .map((l) => /^\s+(.+?)\s{2,}(\d+)/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[1].trim(), perSecond: Number(m[2]) }));
}

/** The all-in-one proxy under `node --cpu-prof` (started while the extraction bench runs on the proxy core). */
async function startProfiled(env: BenchEnv): Promise<{ t: Target; dir: string }> {
  const dir = mkdtempSync(join(env.tmp, 'prof-'));
  process.env.BENCH_CPU_PROF = dir;
  const t = startTarget('spendops', env);
  delete process.env.BENCH_CPU_PROF;
  return { t: await t, dir };
}

async function profileAllInOne(
  { t, dir }: { t: Target; dir: string },
  ms: number,
  rate: number,
): Promise<BenchReport['profile']> {
  if (t.skipped) return { target: 'spendops', note: `the profiled start failed: ${t.skipped}`, top: [] };
  await t.pin?.();
  const d = newDispatcher(512);
  const body = chatBody('gpt-4o-mini', false);
  const send = (signal: AbortSignal) => post(d, t.endpoint, body, signal).then(() => undefined);
  await openLoop({ rate, durationMs: 1_000, timeoutMs: 1_000 }, send); // warm-up, outside the window
  const fromUs = nowUs();
  await openLoop({ rate, durationMs: ms, timeoutMs: 1_000 }, send);
  const toUs = nowUs();
  await t.stop();
  await d.close();
  // One profile per thread: CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main thread.
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort((a, b) => Number(a.split('.')[4]) - Number(b.split('.')[4]))[0];
  if (!file)
    return {
      target: 'spendops',
      note: 'node --cpu-prof wrote no profile (the process did not exit cleanly)',
      top: [],
    };
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const windowed = topSelfTime(prof, 15, { fromUs, toUs });
  if (windowed.length === 0) {
    return {
      target: 'spendops all-in-one',
      note: 'no sample fell inside the load window (profile clock differs); the whole life of the process, start-up included.',
      top: topSelfTime(prof, 15),
    };
  }
  return {
    target: 'spendops all-in-one',
    note: `the ${(ms / 1000).toFixed(0)} s at ${rate} req/s after a 1 s warm-up (samples outside that window left out); self time of the main thread as a share of its busy samples (idle left out, GC kept).`,
    top: windowed,
  };
}

async function main(): Promise<void> {
  const root = repoRoot();
  const opts = parseArgs(process.argv.slice(2), root);
  const S = sizes(opts.quick);
  setSettleMs(S.settleMs);
  const started = new Date();
  const notes: string[] = [];
  const canPin = opts.pin && cpus().length >= 2 && onPath('taskset') !== null;
  const env: BenchEnv = {
    root,
    tmp: newTmp(),
    mockUrl: '',
    proxyCpu: canPin ? String(cpus().length - 1) : '',
    loadCpu: canPin ? (cpus().length > 2 ? `0-${cpus().length - 2}` : '0') : '',
    quick: opts.quick,
    gorefDir: process.env.GOREF_DIR ?? join(root, '..', 'goref'),
  };
  try {
    await exec('prlimit', ['--pid', String(process.pid), '--nofile=65536:65536']);
  } catch {
    notes.push(`RLIMIT_NOFILE could not be raised (stays at the shell's limit)`);
  }
  if (!canPin) notes.push('not pinned: fewer than 2 cores, no taskset, or --no-pin');
  const loadStart = loads();
  const mock = startProc([process.execPath, join(__dirname, 'mock-server.js')], {
    cpu: env.loadCpu || undefined,
  });
  env.mockUrl = `http://127.0.0.1:${(await waitOutput(mock, /listening (\d+)/, 10_000))[1]}`;

  // Where the time goes, printed in the report: each step of the run in order, and when the cluster was up.
  const phases: Array<{ phase: string; s: number }> = [];
  const timed = async <T>(phase: string, fn: () => Promise<T>): Promise<T> => {
    log(phase);
    const from = Date.now();
    try {
      return await fn();
    } finally {
      phases.push({ phase, s: (Date.now() - from) / 1000 });
    }
  };

  const targets: Target[] = [];
  const dispatchers = new Map<string, { rate: Dispatcher; streams: Dispatcher }>();
  const idle = new Map<string, number>();
  let profiled: Promise<{ t: Target; dir: string }> | null = null;
  let teardown: Promise<unknown> = Promise.resolve();
  try {
    // Every target starts at once, before the runner pins itself: a child inherits its parent's cores, so the
    // starts (initdb, the embedded PostgreSQLs, Nest) use both cores; each target moves to its cores once up. The
    // distributed cluster (the slowest start) goes on in the background while the others are smoke-tested and
    // their memory measured (RSS figures only); it joins before the first latency or CPU figure.
    log(`starting ${opts.targets.join(', ')}`);
    const launchedAt = Date.now();
    const readyS: Record<string, number> = {};
    const launches = new Map(
      opts.targets.map(
        (name) =>
          [
            name,
            startTarget(name, env).then((t) => {
              readyS[name] = (Date.now() - launchedAt) / 1000;
              return t;
            }),
          ] as const,
      ),
    );
    if (canPin) await pinSelf(env.loadCpu);
    const early = opts.targets.filter((n) => n !== 'distributed');

    /** Smoke test and idle RSS; a target failing the smoke test is stopped and reported skipped. */
    const admit = async (t: Target) => {
      if (!t.skipped) {
        await t.pin?.();
        const d = { rate: newDispatcher(1_024), streams: newDispatcher(20_000) };
        const why = await smoke(t, d.rate);
        if (why) {
          await t.stop();
          await Promise.all([d.rate.close(), d.streams.close()]);
          t.skipped = why;
        } else {
          dispatchers.set(t.name, d);
          idle.set(t.name, await idleRss(t));
        }
      }
      if (t.skipped) log(`${t.name} skipped: ${t.skipped}`);
      targets.push(t);
    };
    const memoryByTarget = new Map<string, BenchReport['memory'][number]>();
    /** Warm-up (500 req/s, side by side), then the memory scenarios of these targets. */
    const warmAndMemory = async (ts: Target[]) => {
      // Side by side: nothing is measured during a warm-up.
      await Promise.all(
        ts.map((t) =>
          openLoop({ rate: 500, durationMs: S.warmupMs }, (s) =>
            post(dispatchers.get(t.name)!.rate, t.endpoint, chatBody('gpt-4o-mini', false), s).then(
              () => undefined,
            ),
          ),
        ),
      );
      const measured = ts.filter((t) => t.name !== 'direct' && !CPU_ONLY.has(t.name));
      const runs = await memory(
        measured.map((t) => ({
          t,
          dispatcher: dispatchers.get(t.name)!.streams,
          idleKiB: idle.get(t.name)!,
        })),
        { held: S.held, largeBytes: S.largeBytes, holdTimeoutMs: S.holdTimeoutMs },
      );
      measured.forEach((t, i) => memoryByTarget.set(t.name, { target: t.name, run: runs[i] }));
    };

    const up = await timed(`start targets (all but distributed)`, () =>
      Promise.all(early.map((n) => launches.get(n)!)),
    );
    // The cluster joins the first pass when it is up by then; otherwise it gets its own once it is.
    const dist = launches.get('distributed');
    const clusterUp = () => readyS.distributed !== undefined;
    await timed('smoke tests + idle RSS', async () => {
      for (const t of up) await admit(t);
      if (dist && clusterUp()) {
        const t = await dist;
        await admit(t);
        up.push(t);
      }
    });
    await timed(
      `warm-up + memory (${up.some((t) => t.name === 'distributed') ? 'all' : 'all but distributed'})`,
      () => warmAndMemory(up.filter((t) => !t.skipped)),
    );
    if (dist && !up.some((t) => t.name === 'distributed')) {
      const t = await timed('wait for the distributed cluster', () => dist);
      await timed('distributed: smoke + idle RSS + warm-up + memory', async () => {
        await admit(t);
        if (!t.skipped) await warmAndMemory([t]);
      });
    }
    // The report lists targets in their usual order, whatever order they came up in.
    targets.sort((a, b) => TARGET_ORDER.indexOf(a.name) - TARGET_ORDER.indexOf(b.name));
    const live = targets.filter((t) => !t.skipped);
    const disp = (t: Target) => dispatchers.get(t.name)!;
    const memoryRows: BenchReport['memory'] = live
      .map((t) => memoryByTarget.get(t.name))
      .filter((x): x is BenchReport['memory'][number] => x !== undefined);

    const fixed: BenchReport['fixed'] = [];
    for (const rate of S.rates) {
      await timed(`fixed rate ${rate} req/s`, async () => {
        const reps = rate === S.keyRate ? opts.reps : 1;
        const measured = live.filter((t) => rate === S.keyRate || !CPU_ONLY.has(t.name));
        const runs = new Map<string, FixedRateRun[]>(measured.map((t) => [t.name, []]));
        for (let rep = 0; rep < reps; rep++) {
          const order = measured.map((_, i) => measured[(i + rep) % measured.length]);
          for (const t of order)
            runs.get(t.name)!.push(await fixedRate(t, disp(t).rate, rate, S.fixedMs(rate)));
        }
        fixed.push({ rate, rows: measured.map((t) => ({ target: t.name, runs: runs.get(t.name)! })) });
      });
    }

    const streamRows: BenchReport['streams'] = [];
    await timed('streams', async () => {
      for (const t of live.filter((x) => !CPU_ONLY.has(x.name))) {
        streamRows.push({
          target: t.name,
          run: await streams(t, disp(t).streams, { streams: S.streams, chunks: S.chunks, delayMs: 20 }),
        });
      }
    });

    const pipelineRows: BenchReport['pipeline'] = [];
    await timed('pipeline', async () => {
      for (const t of live.filter((x) => x.admin && x.name !== 'spendops-nocapture')) {
        try {
          pipelineRows.push({ target: t.name, run: await pipeline(t, disp(t).rate, S.pipeline) });
        } catch (err) {
          notes.push(`pipeline on ${t.name} failed: ${String(err)}`);
        }
      }
    });

    const sat: BenchReport['saturation'] = [];
    await timed('saturation', async () => {
      for (const t of live.filter((x) => !CPU_ONLY.has(x.name)))
        sat.push({ target: t.name, ...(await saturation(t, disp(t).rate, S.saturation)) });
    });

    // The targets stop, and the profiled all-in-one starts (on the load core: measured only if a goal is missed,
    // stopped unused otherwise), while nothing is measured; extraction then runs alone on the proxy core.
    if (opts.profile && live.some((t) => t.name === 'spendops')) profiled = startProfiled(env);
    await timed('stop targets', async () => {
      // The cluster's teardown (RabbitMQ's stop is slow) goes on in the background, on the load core.
      teardown = Promise.all(targets.filter((t) => t.name === 'distributed').map((t) => t.stop()));
      await Promise.all(targets.filter((t) => t.name !== 'distributed').map((t) => t.stop()));
      for (const d of dispatchers.values()) await Promise.all([d.rate.close(), d.streams.close()]);
    });
    const extraction = await timed('extraction throughput', () =>
      extractionFigures(env, opts.quick).catch((err: unknown) => {
        notes.push(`extraction bench failed: ${String(err).slice(0, 200)}`);
        return [];
      }),
    );

    const report: BenchReport = {
      meta: {
        started: started.toISOString(),
        mode: opts.quick ? 'quick' : 'full',
        tookS: 0,
        machine: machine(),
        loadStart,
        loadEnd: '',
        cores: canPin
          ? `load generator + mock upstream on core ${env.loadCpu} (taskset); each proxy process (and, all-in-one, its embedded PostgreSQL) on core ${env.proxyCpu}; distributed: proxy on core ${env.proxyCpu}, the other services, RabbitMQ and PostgreSQL on core ${env.loadCpu}; one proxy loaded at a time`
          : 'not pinned',
        keyRate: S.keyRate,
        repeats: opts.reps,
      },
      targets: targets.map((t): TargetInfo => ({
        name: t.name,
        status: t.skipped ? 'skipped' : 'ok',
        detail: t.detail,
        reason: t.skipped,
      })),
      fixed,
      saturation: sat,
      streams: streamRows,
      memory: memoryRows,
      pipeline: pipelineRows,
      extraction,
      goals: [],
      profile: null,
      notes,
    };
    report.goals = judge(report);
    if (profiled) {
      const p = await timed('profiled all-in-one start (the rest of it)', () => profiled!);
      profiled = null;
      if (report.goals.some((g) => g.verdict === 'MISS')) {
        report.profile = await timed('profile spendops all-in-one (a goal was missed)', () =>
          profileAllInOne(p, S.profileMs, S.keyRate).catch((err: unknown) => {
            notes.push(`profile failed: ${String(err).slice(0, 200)}`);
            return null;
          }),
        );
      } else await p.t.stop();
    }
    const setup = targets.filter((t) => t.setup).map((t) => `${t.name}: ${t.setup}`);
    report.meta.setup = setup;
    report.meta.phases = phases;
    report.meta.settle = { ...settleStats, capMs: S.settleMs };
    report.meta.readyS = readyS;
    report.meta.loadEnd = loads();
    const busiest = Math.max(...[loadStart, report.meta.loadEnd].map((l) => Number(l.split(' ')[0])));
    if (busiest > cpus().length) {
      notes.push(
        `the machine was busy (load average up to ${busiest.toFixed(1)} on ${cpus().length} cores, other work than this run): absolute figures, error rates and saturation points are dominated by that; read ratios within a repetition with the spreads`,
      );
    }
    report.meta.tookS = (Date.now() - started.getTime()) / 1000;
    const md = renderMarkdown(report);
    mkdirSync(opts.out, { recursive: true });
    const base = join(opts.out, `${started.toISOString().slice(0, 10)}-${report.meta.mode}`);
    writeFileSync(`${base}.md`, md);
    writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(`${base}.svg`, renderSvg(report));
    process.stdout.write(`${md}\nwritten: ${base}.{md,json,svg}\n`);
    log('waiting for the distributed cluster to be torn down');
    await teardown;
  } finally {
    await teardown.catch(() => undefined);
    for (const t of targets) await t.stop().catch(() => undefined);
    if (profiled) await (await profiled).t.stop().catch(() => undefined);
    await mock.stop();
    rmSync(env.tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
