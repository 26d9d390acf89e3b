// The pipeline's own capacity (capture → extraction → pricing → ledger → queryable), without the proxy in front:
// the bench's pipeline scenario feeds captures through the proxy, which on its core serves ~1,000 req/s, so it
// only gives a lower bound. Here N capture records (capacity-captures.ts: built the way the proxy builds them) go
// straight onto the bus as fast as it takes them, with at most `maxInFlight` not yet queryable (so the backlog,
// and the memory it holds, stays bounded while the pipeline is kept saturated), and the read model is polled:
//
// - all-in-one: the Nest modules `spendops serve` runs on its pipeline thread (pipelineModules), on an
//   in-process bus in this process's main thread (serve's thread bridge between the proxy's thread and the
//   pipeline's is left out), with a real PostgreSQL. CPU is this process's (/proc/self/stat).
// - distributed: `spendops serve --services extraction|pricing|ledger` as three processes over a real RabbitMQ
//   and PostgreSQL; the records are published to the exchange with amqplib and publisher confirms. CPU is the
//   three processes'.
//
// Events/s is from the first publish until every event is a usage_events_view row, over the whole run and over
// its second half (past start-up). Not a test: `node dist/test/bench/pipeline-capacity.js --mode both --events N
// [--in-flight N] [--postgres test|embedded] [--profile DIR]` prints a markdown table (and the profiles' summary).
import '../../apps/cli/src/aliases';
import 'reflect-metadata';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Session } from 'node:inspector';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import { DynamicModule, type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { connect, type ChannelModel } from 'amqplib';
import { Client } from 'pg';
import { Topics, type UsageCapturedV1 } from '@spendops/contracts';
import { DEFAULT_EXCHANGE, InProcessBus, MESSAGE_BUS } from '@spendops/messaging';
import { JsonLogger, OpsModule } from '@spendops/observability';
import { DATABASE_CONNECTION, PersistenceModule, type DatabaseConnection } from '@spendops/persistence';
import { startPostgres, startRabbitMq, type RabbitMqInstance, type TestPostgres } from '@spendops/testing';
import { extractUsage } from '@spendops/usage';
import { PIPELINE_SERVICES, pipelineModules } from '../../apps/cli/src/serve/pipeline-modules';
import { EXTRACTION_QUEUE } from '../../apps/extraction/src/extraction.consumer';
import { LEDGER_MIGRATIONS, LEDGER_QUEUES } from '../../apps/ledger/src';
import { PRICING_MIGRATIONS, PRICING_QUEUE } from '../../apps/pricing/src';
import { encodeBody, publishProperties } from '../../libs/messaging/src/rabbitmq/wire';
import { SPENDOPS_BIN } from '../support/spendops-process';
import { captureAt, captureKinds, mixSchedule, type CaptureKind } from './lib/capacity-captures';
import {
  capacityTable,
  cpuBoundRate,
  idleNote,
  defaultInFlight,
  parseCapacityArgs,
  parseStatCpuWithReaped,
  percentile,
  rates,
  profileBreakdown,
  type CapacityMode,
  type CpuProfileLike,
  type CapacityResult,
  type Progress,
} from './lib/capacity-stats';
import { processCpu, processTree } from './lib/procstat';
import { topSelfTime, type CpuProfile } from './lib/profile';

export type { CapacityMode, CapacityResult } from './lib/capacity-stats';

const IDLE_SAMPLE_MS = 3_000;

export interface CapacityOptions {
  /** Capture records to publish (e.g. 20,000 quick, 100,000 full). */
  events: number;
  /** Published but not yet queryable, at most (default defaultInFlight(events)). */
  maxInFlight?: number;
  /** Records per publish round (and per confirm wait, distributed). Default 200. */
  batch?: number;
  /** Every n-th record's publish → queryable delay is measured (default 100). */
  sampleEvery?: number;
  /** Read-model poll interval (default 100 ms; the delays are upper bounds by up to this much). */
  pollMs?: number;
  /** Give up when nothing new is queryable for this long (default 60 s). */
  stallMs?: number;
  /** All-in-one: `test` (libs/testing's throwaway server, durability off) or `embedded` (what serve runs). */
  postgres?: 'test' | 'embedded';
  /**
   * Write V8 CPU profiles here: all-in-one, `all-in-one.cpuprofile` of this process over the load only;
   * distributed, `<service>/*.cpuprofile` of each service process (node --cpu-prof, whole life: summarise them
   * over `loadWindowUs`).
   */
  profileDir?: string;
  /** Progress lines (stderr by default). */
  log?: (line: string) => void;
}

/** What a mode's setup hands the measurement loop. */
interface Rig {
  databaseUrl: string;
  /** Accepted by the bus (in-process: queued; distributed: broker-confirmed). */
  publish(records: UsageCapturedV1[]): Promise<void>;
  /** CPU seconds of the pipeline's processes, of PostgreSQL's and of the broker's (NaN when none). */
  cpu(): { pipeline: number; postgres: number; broker: number };
  /** Messages dead-lettered so far. */
  deadLetters(): Promise<number>;
  /** Runs around the load only (the profile). */
  beforeLoad?(): Promise<void>;
  afterLoad?(): Promise<void>;
  close(): Promise<void>;
}

export async function measurePipelineCapacity(
  mode: CapacityMode,
  opts: CapacityOptions,
): Promise<CapacityResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const kinds = captureKinds();
  checkKinds(kinds);
  // At the start: the services load dist/ now, whatever is committed while the run goes on.
  const commit = measuredCommit();
  const loadStart = loadavg()[0];
  log(`${mode}: starting (load avg ${loadStart.toFixed(2)})`);
  const rig = mode === 'all-in-one' ? await allInOneRig(opts) : await distributedRig(log, opts.profileDir);
  try {
    return { ...(await drive(mode, rig, kinds, opts, log)), commit, loadAvg: [loadStart, loadavg()[0]] };
  } finally {
    await rig.close();
  }
}

/** Every kind must give provider usage, or the mix measures a failure path. */
function checkKinds(kinds: readonly CaptureKind[]): void {
  for (const k of kinds)
    if (extractUsage(k.template).usage_source !== 'provider')
      throw new Error(`${k.name}: fixture gives no provider usage`);
}

async function drive(
  mode: CapacityMode,
  rig: Rig,
  kinds: readonly CaptureKind[],
  opts: CapacityOptions,
  log: (line: string) => void,
): Promise<Omit<CapacityResult, 'loadAvg' | 'commit'>> {
  const events = opts.events;
  const maxInFlight = opts.maxInFlight ?? defaultInFlight(events);
  const batch = opts.batch ?? 200;
  const sampleEvery = opts.sampleEvery ?? 100;
  const pollMs = opts.pollMs ?? 100;
  const stallMs = opts.stallMs ?? 60_000;
  const schedule = mixSchedule(kinds);
  const errors: string[] = [];

  const db = new Client({ connectionString: rig.databaseUrl });
  await db.connect();
  const pending = new Map<string, number>();
  const delays: number[] = [];
  const series: Progress[] = [];
  let queryable = 0;
  let published = 0;
  let publishEnd = NaN;
  let t0 = 0;
  const now = () => performance.now() - t0;

  // Read-model poller: rows queryable, and which sampled request ids are among them.
  let polling = true;
  let lastProgressAt = 0;
  const poller = (async () => {
    while (polling) {
      const ids = [...pending.keys()];
      const r = await db.query<{ n: number; seen: string[] }>(
        `SELECT (SELECT count(*)::int FROM usage_events_view) AS n,
                ARRAY(SELECT request_id FROM usage_events_view WHERE request_id = ANY($1::text[])) AS seen`,
        [ids],
      );
      const at = now();
      const { n, seen } = r.rows[0];
      if (n > queryable) lastProgressAt = at;
      queryable = n;
      series.push({ t: at, n });
      for (const id of seen) {
        delays.push(at - pending.get(id)!);
        pending.delete(id);
      }
      await sleep(pollMs);
    }
  })();

  const cpu0 = rig.cpu();
  await rig.beforeLoad?.();
  t0 = performance.now();
  const loadFromUs = Number(process.hrtime.bigint() / 1000n);
  let lastLog = 0;
  try {
    while (published < events) {
      const room = Math.min(batch, events - published, maxInFlight - (published - queryable));
      if (room <= 0) {
        if (now() - lastProgressAt > stallMs) throw new Error(`stalled at ${queryable} queryable`);
        await sleep(5);
        continue;
      }
      const nowMs = Date.now();
      const records = Array.from({ length: room }, (_, j) =>
        captureAt(kinds, schedule, published + j, nowMs),
      );
      const at = now();
      records.forEach((r, j) => {
        if ((published + j) % sampleEvery === 0) pending.set(r.request_id, at);
      });
      await rig.publish(records);
      published += room;
      if (now() - lastLog > 5_000) {
        lastLog = now();
        log(`${mode}: ${published} published, ${queryable} queryable at ${(now() / 1000).toFixed(1)} s`);
      }
      // In-process, the pipeline runs on this thread: let it.
      await tick();
    }
    publishEnd = now();
    lastProgressAt = Math.max(lastProgressAt, now());
    while (queryable < events) {
      if (now() - lastProgressAt > stallMs) {
        errors.push(`stalled: ${queryable} of ${events} queryable after ${(now() / 1000).toFixed(0)} s`);
        break;
      }
      await sleep(pollMs);
    }
  } catch (err) {
    errors.push(err instanceof Error ? err.message : String(err));
  }
  await rig.afterLoad?.();
  const loadToUs = Number(process.hrtime.bigint() / 1000n);
  const cpu1 = rig.cpu();
  // What the rig burns with nothing to do (projection runners' polls, this poller, the broker's timers), so a
  // reader can tell it from the per-event figures, which include it. Measured after the load: just after the
  // start-up, the processes are still busy with it.
  await sleep(1_000);
  const idle0 = rig.cpu();
  await sleep(IDLE_SAMPLE_MS);
  const idle1 = rig.cpu();
  const idleCores = {
    pipeline: (idle1.pipeline - idle0.pipeline) / (IDLE_SAMPLE_MS / 1000),
    postgres: (idle1.postgres - idle0.postgres) / (IDLE_SAMPLE_MS / 1000),
    broker: (idle1.broker - idle0.broker) / (IDLE_SAMPLE_MS / 1000),
  };
  polling = false;
  await poller;
  // The mix is meant to take the priced path: an unpriced or estimated event measures another one.
  const off = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM usage_events_view WHERE cost_source = 'none' OR usage_source <> 'provider'`,
  );
  if (off.rows[0].n > 0) errors.push(`${off.rows[0].n} events unpriced or without provider usage`);
  await db.end();
  const dead = await rig.deadLetters();
  if (dead > 0) errors.push(`${dead} dead-lettered`);
  if (queryable > events) errors.push(`${queryable - events} more rows than events`);
  if (pending.size > 0) errors.push(`${pending.size} sampled events never queryable`);
  const r = rates(series, events);
  const done = Math.min(queryable, events);
  return {
    mode,
    events,
    queryable,
    ...r,
    publishPerSecond: published / (publishEnd / 1000),
    cpuUsPerEvent: ((cpu1.pipeline - cpu0.pipeline) * 1e6) / done,
    postgresCpuUsPerEvent: ((cpu1.postgres - cpu0.postgres) * 1e6) / done,
    brokerCpuUsPerEvent: ((cpu1.broker - cpu0.broker) * 1e6) / done,
    cpuBoundEventsPerSecond: cpuBoundRate(
      availableParallelism(),
      ((cpu1.pipeline - cpu0.pipeline) * 1e6) / done,
      ((cpu1.postgres - cpu0.postgres) * 1e6) / done,
      ((cpu1.broker - cpu0.broker) * 1e6) / done,
    ),
    queryableP50Ms: percentile(delays, 0.5),
    queryableP99Ms: percentile(delays, 0.99),
    sampled: delays.length,
    errors,
    loadWindowUs: { fromUs: loadFromUs, toUs: loadToUs },
    idleCores,
  };
}

/** HEAD, and whether the code measured (apps/, libs/) differed from it. */
function measuredCommit(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
    const head = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--', 'apps', 'libs')
      ? `${head} (+ local changes in apps/libs)`
      : head;
  } catch {
    return 'unknown';
  }
}

/** CPU seconds of a process and its descendants, live and exited (0 once the process itself is gone). */
function treeCpu(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      total += parseStatCpuWithReaped(readFileSync(`/proc/${p}/stat`, 'utf8'));
    } catch {
      // it exited between the listing and the read
    }
  }
  return total;
}

/** The postmaster of the server behind `url`: the parent of a backend. */
async function postmasterPid(url: string): Promise<number> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const stat = readFileSync(`/proc/${rows[0].pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } finally {
    await c.end();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// all-in-one

@Module({})
class CapacityBusModule {
  static forRoot(bus: InProcessBus): DynamicModule {
    return {
      module: CapacityBusModule,
      global: true,
      providers: [{ provide: MESSAGE_BUS, useValue: bus }],
      exports: [MESSAGE_BUS],
    };
  }
}

@Module({})
class CapacityPipelineModule {}

async function allInOneRig(opts: CapacityOptions): Promise<Rig> {
  JsonLogger.setLevel('warn');
  const embedded = opts.postgres === 'embedded';
  const pg: TestPostgres | null = embedded ? null : await startPostgres();
  const dataDir = mkdtempSync(join(tmpdir(), 'so-capacity-'));
  const bus = new InProcessBus();
  let app: INestApplicationContext | null = null;
  const close = async () => {
    await app?.close();
    await bus.close();
    await pg?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  let databaseUrl: string;
  let postmaster: number;
  try {
    // What `serve` composes for its pipeline thread: the same modules, migrations of the ledger and pricing.
    app = await NestFactory.createApplicationContext(
      {
        module: CapacityPipelineModule,
        imports: [
          OpsModule,
          PersistenceModule.forRoot({
            databaseUrl: pg?.url,
            dataDir,
            migrations: [...new Set([...LEDGER_MIGRATIONS, ...PRICING_MIGRATIONS])],
          }),
          CapacityBusModule.forRoot(bus),
          ...pipelineModules(new Set(PIPELINE_SERVICES), { budgetAlerts: {} }),
        ],
      },
      { logger: ['error', 'warn'], abortOnError: false },
    );
    await app.init();
    databaseUrl = app.get<DatabaseConnection>(DATABASE_CONNECTION).url;
    postmaster = await postmasterPid(databaseUrl);
  } catch (err) {
    // A failed start must not leave a PostgreSQL server behind.
    await close().catch(() => undefined);
    throw err;
  }
  const session = opts.profileDir ? new Session() : null;
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session!.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))),
    );
  return {
    databaseUrl,
    async publish(records) {
      await Promise.all(
        records.map((r) => bus.publish(Topics.usageCaptured, r, { messageId: r.request_id })),
      );
    },
    cpu: () => ({ pipeline: processCpu(process.pid), postgres: treeCpu(postmaster), broker: NaN }),
    deadLetters: async () => bus.deadLetters().length,
    async beforeLoad() {
      if (!session) return;
      session.connect();
      await post('Profiler.enable');
      await post('Profiler.start');
    },
    async afterLoad() {
      if (!session || !opts.profileDir) return;
      const { profile } = (await post('Profiler.stop')) as { profile: CpuProfile };
      session.disconnect();
      mkdirSync(opts.profileDir, { recursive: true });
      writeFileSync(join(opts.profileDir, 'all-in-one.cpuprofile'), JSON.stringify(profile));
    },
    close,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// distributed

interface ServiceProcess {
  pid: number;
  /** Signals the process and waits for its exit (a SIGTERM lets --cpu-prof write its profile). */
  stop(signal: NodeJS.Signals): Promise<void>;
}

/** `node [nodeArgs] bin/spendops serve [args]`, once it listens (test/support/spendops-process, with node flags). */
async function startService(
  nodeArgs: string[],
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [...nodeArgs, SPENDOPS_BIN, 'serve', ...args], {
    env: { ...process.env, SPENDOPS_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`spendops did not start in ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    child.stdout.on('data', () => {
      if (/SpendOps listening on /.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`spendops exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    pid: child.pid!,
    async stop(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** The broker's Erlang VM: the process whose command line names the node's data directory. */
function brokerPid(dataDir: string): number {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.includes('beam') && cmd.includes(dataDir)) return Number(name);
    } catch {
      // gone
    }
  }
  return 0;
}

/** Waits until each queue exists and has a consumer (a service subscribes after it listens). */
async function untilConsumed(conn: ChannelModel, queues: string[], timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (const q of queues) {
    for (;;) {
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      const consumers = await ch.checkQueue(q).then(
        (r) => r.consumerCount,
        () => 0,
      );
      await ch.close().catch(() => undefined);
      if (consumers > 0) break;
      if (Date.now() > end) throw new Error(`queue ${q} has no consumer after ${timeoutMs} ms`);
      await sleep(200);
    }
  }
}

async function deadLettered(conn: ChannelModel, queues: string[]): Promise<number> {
  let total = 0;
  for (const q of queues) {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    total += await ch.checkQueue(`${q}.dlq`).then(
      (r) => r.messageCount,
      () => 0,
    );
    await ch.close().catch(() => undefined);
  }
  return total;
}

async function distributedRig(log: (line: string) => void, profileDir?: string): Promise<Rig> {
  const [rabbit, pg]: [RabbitMqInstance, TestPostgres] = await Promise.all([
    startRabbitMq(),
    startPostgres(),
  ]);
  const processes: ServiceProcess[] = [];
  const dataDirs: string[] = [];
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: pg.url,
    SPENDOPS_AMQP_URL: rabbit.url,
    SPENDOPS_SERVER_SECRET: randomBytes(32).toString('hex'),
    SPENDOPS_ADMIN_TOKEN: `admin-${randomBytes(12).toString('hex')}`,
  };
  const start = async (service: string) => {
    const dir = mkdtempSync(join(tmpdir(), `so-capacity-${service}-`));
    dataDirs.push(dir);
    // node refuses --cpu-prof in NODE_OPTIONS: the flags go on the command line.
    const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, service)}`] : [];
    processes.push(
      await startService(nodeArgs, ['--services', service, '--addr', '127.0.0.1:0'], {
        ...env,
        SPENDOPS_DATA_DIR: dir,
      }),
    );
  };
  let conn: ChannelModel | null = null;
  const queues = [EXTRACTION_QUEUE, PRICING_QUEUE, LEDGER_QUEUES.usage];
  try {
    // The ledger first: its migrations and pricing's then do not interleave.
    await start('ledger');
    await Promise.all([start('extraction'), start('pricing')]);
    conn = await connect(rabbit.url);
    await untilConsumed(conn, queues);
  } catch (err) {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await conn?.close().catch(() => undefined);
    await rabbit.stop();
    await pg.stop();
    for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
    throw err;
  }
  const amqp = conn;
  const channel = await amqp.createConfirmChannel();
  const postmaster = await postmasterPid(pg.url);
  const broker = brokerPid(rabbit.dataDir);
  if (!broker) log('distributed: broker process not found, its CPU is not reported');
  const pids = processes.map((p) => p.pid);
  return {
    databaseUrl: pg.url,
    async publish(records) {
      const publishedAt = new Date().toISOString();
      for (const r of records) {
        // The wire format of RabbitMqBus (libs/messaging/src/rabbitmq/wire.ts); the channel buffers, the
        // confirm wait below is the back-pressure.
        channel.publish(
          DEFAULT_EXCHANGE,
          Topics.usageCaptured,
          encodeBody(r),
          publishProperties({
            id: r.request_id,
            topic: Topics.usageCaptured,
            published_at: publishedAt,
            attempt: 1,
          }),
        );
      }
      await channel.waitForConfirms();
    },
    cpu: () => ({
      pipeline: pids.reduce((s, pid) => s + treeCpu(pid), 0),
      postgres: treeCpu(postmaster),
      broker: broker ? treeCpu(broker) : NaN,
    }),
    deadLetters: () => deadLettered(amqp, queues),
    async close() {
      await channel.close().catch(() => undefined);
      await amqp.close().catch(() => undefined);
      await Promise.all(processes.map((p) => p.stop('SIGTERM')));
      await rabbit.stop();
      await pg.stop();
      for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// command line

/** Where a profiled thread spends its time: top self-time functions, and self and inclusive time per library. */
export function profileSummary(
  title: string,
  profile: CpuProfile & CpuProfileLike,
  window?: { fromUs: number; toUs: number },
  top = 25,
): string {
  const b = profileBreakdown(profile, window);
  const lines = [
    `### ${title}: ${b.samples} samples, busy ${b.busyPct.toFixed(0)} % of them`,
    '',
    '| function | where | self % of busy |',
    '|---|---|---:|',
  ];
  for (const e of topSelfTime(profile, top, window))
    lines.push(`| ${e.fn} | ${e.where} | ${e.selfPct.toFixed(1)} |`);
  const inclusive = new Map(b.inclusive.map((g) => [g.library, g.pct]));
  lines.push('', '| library / part | self % | inclusive % |', '|---|---:|---:|');
  for (const g of b.self.slice(0, 20))
    lines.push(`| ${g.library} | ${g.selfPct.toFixed(1)} | ${(inclusive.get(g.library) ?? 0).toFixed(1)} |`);
  return lines.join('\n');
}

function profilesIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

async function main(): Promise<void> {
  const args = parseCapacityArgs(process.argv.slice(2));
  const results: CapacityResult[] = [];
  for (const mode of args.modes) {
    const r = await measurePipelineCapacity(mode, {
      events: args.events,
      ...(args.maxInFlight ? { maxInFlight: args.maxInFlight } : {}),
      ...(args.postgres ? { postgres: args.postgres } : {}),
      ...(args.profile ? { profileDir: join(args.profile, mode) } : {}),
    });
    results.push(r);
    process.stderr.write(`${JSON.stringify(r)}\n`);
  }
  const out = [
    `pipeline capacity (commit ${results[0]?.commit ?? '?'}, ${args.events} events per mode, at most ${args.maxInFlight ?? defaultInFlight(args.events)} in flight, ${availableParallelism()} cores):`,
    '',
    capacityTable(results),
    '',
    idleNote(results),
  ];
  if (args.profile) {
    const read = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as CpuProfile & CpuProfileLike;
    for (const r of results) {
      const dir = join(args.profile, r.mode);
      if (r.mode === 'all-in-one') {
        for (const f of profilesIn(dir)) out.push('', profileSummary('all-in-one, pipeline thread', read(f)));
        continue;
      }
      for (const service of PIPELINE_SERVICES)
        for (const f of profilesIn(join(dir, service)))
          out.push('', profileSummary(`distributed, ${service} process`, read(f), r.loadWindowUs, 15));
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
