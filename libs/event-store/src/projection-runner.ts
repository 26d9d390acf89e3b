// Runs projections: per batch, one transaction that takes the projection's advisory lock (so replicas never
// run the same projection at once), reads the next events through the xmin-safe reader, lets the projection
// write its rows, and advances the checkpoint. LISTEN/NOTIFY and in-process appends only wake it early; a poll
// catches whatever a wake-up missed (and events held back by a transaction that was still in flight).
import { Inject, Injectable, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { Counter, Gauge } from 'prom-client';
import { DataSource, type EntityManager } from 'typeorm';
import { metricsRegistry } from '@spendops/observability';
import { EVENTS_CHANNEL } from './event-store.migration';
import { EventStore } from './event-store';
import { START, checkpointOf, type Checkpoint } from './event.types';
import type { Projection } from './projection';

export interface ProjectionRunnerOptions {
  /** Poll interval when no wake-up arrives (default 250 ms). */
  pollMs?: number;
  /** Connection URL for LISTEN; without it, polling and in-process wake-ups only. */
  listenUrl?: string;
  /** How often an idle projection's persisted heartbeat is refreshed (default 5 s; a pass that moves writes it). */
  heartbeatMs?: number;
  /** How often the loop refreshes the lag gauge (default 1 s): counting a backlog after every pass costs more than it tells. */
  lagRefreshMs?: number;
}

/** Where a projection stands, as `spendops projections status` shows it. */
export interface ProjectionStatus {
  name: string;
  /** The last event handled: (transaction_id, global_position); '0'/'0' before the first. */
  checkpoint: Checkpoint;
  /** Events stored beyond the checkpoint (of the projection's types). */
  lag: number;
  /** When the checkpoint last moved (null before the first batch). */
  updated_at: string | null;
  /** When a runner holding the projection last completed a pass (null: never). */
  heartbeat_at: string | null;
  /** False for projections without `reset` (e.g. the outbox: a rebuild would republish everything). */
  rebuildable: boolean;
}

export const PROJECTION_RUNNER_OPTIONS = Symbol('PROJECTION_RUNNER_OPTIONS');

const LOCK_SPACE = 0x5350454e; // "SPEN": the advisory-lock key space of projections

const lagGauge = singleton(
  'spendops_projection_lag_events',
  () =>
    new Gauge({
      name: 'spendops_projection_lag_events',
      help: 'Events stored but not yet handled by the projection',
      labelNames: ['projection'],
      registers: [metricsRegistry],
    }),
);
const handledCounter = singleton(
  'spendops_projection_events_total',
  () =>
    new Counter({
      name: 'spendops_projection_events_total',
      help: 'Events handled by the projection',
      labelNames: ['projection'],
      registers: [metricsRegistry],
    }),
);
const heartbeatGauge = singleton(
  'spendops_projection_last_run_timestamp_seconds',
  () =>
    new Gauge({
      name: 'spendops_projection_last_run_timestamp_seconds',
      help: 'When the projection last completed a pass (a frozen value means a stuck runner)',
      labelNames: ['projection'],
      registers: [metricsRegistry],
    }),
);

function singleton<T>(name: string, make: () => T): T {
  return (metricsRegistry.getSingleMetric(name) as T | undefined) ?? make();
}

export interface BatchResult {
  /** False when another runner held the projection's lock. */
  locked: boolean;
  handled: number;
}

@Injectable()
export class ProjectionRunner implements OnApplicationShutdown {
  private readonly projections = new Map<string, Projection>();
  private readonly options: Required<Omit<ProjectionRunnerOptions, 'listenUrl'>> & { listenUrl?: string };
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  /** A wake-up came while a pass ran (nobody was asleep to take it): that pass may have read before the append. */
  private wokenDuringPass = false;
  private loop: Promise<void> | null = null;
  private listener: Client | null = null;
  private readonly onAppend = () => this.wakeUp();
  private readonly heartbeats = new Map<string, number>();
  private lagRefreshedAt = 0;
  /**
   * Per projection, how far this runner has read with nothing of the projection's types left behind. Kept in
   * memory only: the persisted checkpoint still names the last event handled.
   */
  private readonly scanned = new Map<string, Checkpoint>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: EventStore,
    @Optional() @Inject(PROJECTION_RUNNER_OPTIONS) options?: ProjectionRunnerOptions,
  ) {
    this.options = {
      pollMs: options?.pollMs ?? 250,
      heartbeatMs: options?.heartbeatMs ?? 5000,
      lagRefreshMs: options?.lagRefreshMs ?? 1000,
      listenUrl: options?.listenUrl,
    };
  }

  register(projection: Projection): void {
    if (this.projections.has(projection.name))
      throw new Error(`projection ${projection.name} registered twice`);
    this.projections.set(projection.name, projection);
  }

  names(): string[] {
    return [...this.projections.keys()];
  }

  /** Start the background loop (idempotent). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.store.appended.on('appended', this.onAppend);
    if (this.options.listenUrl) await this.listen(this.options.listenUrl);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.store.appended.off('appended', this.onAppend);
    this.wakeUp();
    await this.loop;
    this.loop = null;
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Handle everything currently readable, for every projection; returns how many events were handled. */
  async catchUp(): Promise<number> {
    let total = 0;
    for (const name of this.projections.keys()) total += await this.catchUpOne(name);
    return total;
  }

  /**
   * One projection until a batch is short, i.e. it read everything readable then (or another runner holds it).
   * Events appended since wait for the next pass: looping until a batch came back empty let a projection that
   * kept getting new events (each batch outlasting the appends it missed) hold back every projection after it.
   */
  async catchUpOne(name: string): Promise<number> {
    const limit = this.get(name).batchSize ?? 500;
    let total = 0;
    let held = false;
    for (;;) {
      const { locked, handled } = await this.runBatch(name);
      held ||= locked;
      total += handled;
      if (!locked || handled < limit) break;
    }
    heartbeatGauge.set({ projection: name }, Date.now() / 1000);
    if (held) await this.persistHeartbeat(name, total > 0);
    return total;
  }

  /** One transaction: lock, read, handle, checkpoint. */
  async runBatch(name: string): Promise<BatchResult> {
    const projection = this.get(name);
    const limit = projection.batchSize ?? 500;
    const result = await this.dataSource.transaction(async (manager) => {
      if (!(await this.tryLock(manager, name))) return { locked: false, handled: 0, head: null };
      const checkpoint = await this.checkpoint(manager, name);
      const scanned = this.scanned.get(name);
      const from = scanned && after(scanned, checkpoint) ? scanned : checkpoint;
      const { events, head } = await this.store.readBatch(from, limit, manager, projection.types);
      if (events.length === 0) return { locked: true, handled: 0, head };
      await projection.handle(events, manager);
      await this.saveCheckpoint(manager, name, checkpointOf(events[events.length - 1]));
      handledCounter.inc({ projection: name }, events.length);
      return { locked: true, handled: events.length, head: events.length < limit ? head : null };
    });
    // Only after the commit: a short batch saw every event below the horizon, so the next read may start at the
    // head (see EventStore.readBatch) rather than walk again the events of other types it skipped.
    if (result.head) this.scanned.set(name, result.head);
    return { locked: result.locked, handled: result.handled };
  }

  /**
   * Rebuild from position zero while serving: in one transaction (readers keep seeing the old rows until it
   * commits), empty the read model, replay every readable event, and store the new checkpoint. The live
   * runner waits on the lock meanwhile and continues from there.
   */
  async rebuild(name: string): Promise<number> {
    const projection = this.get(name);
    if (!projection.reset) throw new Error(`projection ${name} cannot be rebuilt (no reset)`);
    const reset = projection.reset.bind(projection);
    this.scanned.delete(name);
    const total = await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_SPACE, name]);
      await reset(manager);
      let checkpoint = START;
      let handled = 0;
      for (;;) {
        const events = await this.store.readAfter(
          checkpoint,
          projection.batchSize ?? 500,
          manager,
          projection.types,
        );
        if (events.length === 0) break;
        await projection.handle(events, manager);
        checkpoint = checkpointOf(events[events.length - 1]);
        handled += events.length;
      }
      await this.saveCheckpoint(manager, name, checkpoint);
      return handled;
    });
    return total + (await this.catchUpOne(name));
  }

  async checkpointOf(name: string): Promise<Checkpoint> {
    return this.checkpoint(this.dataSource.manager, name);
  }

  /** Checkpoint, lag and heartbeat of every registered projection, in registration order. */
  async status(): Promise<ProjectionStatus[]> {
    const out: ProjectionStatus[] = [];
    for (const [name, projection] of this.projections) {
      const rows: {
        transaction_id: string;
        global_position: string;
        updated_at: Date | null;
        heartbeat_at: Date | null;
      }[] = await this.dataSource.query(
        `SELECT transaction_id::text AS transaction_id, global_position::text AS global_position,
           CASE WHEN global_position > 0 THEN updated_at END AS updated_at, heartbeat_at
         FROM projection_checkpoints WHERE name = $1`,
        [name],
      );
      const row = rows[0];
      const checkpoint = row ? checkpointOf(row) : START;
      const lag = await this.store.countAfter(checkpoint, projection.types);
      lagGauge.set({ projection: name }, lag);
      out.push({
        name,
        checkpoint,
        lag,
        updated_at: row?.updated_at?.toISOString() ?? null,
        heartbeat_at: row?.heartbeat_at?.toISOString() ?? null,
        rebuildable: typeof projection.reset === 'function',
      });
    }
    return out;
  }

  /** Refresh the lag gauge (events stored beyond each checkpoint) and return it. */
  async lag(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [name, projection] of this.projections) {
      out[name] = await this.store.countAfter(await this.checkpointOf(name), projection.types);
      lagGauge.set({ projection: name }, out[name]);
    }
    return out;
  }

  private get(name: string): Projection {
    const projection = this.projections.get(name);
    if (!projection) throw new Error(`unknown projection ${name}`);
    return projection;
  }

  // Projection commits need not wait for the WAL flush: the events they derive from are durable, and a lost
  // commit loses the rows and the checkpoint together, so those events are simply projected again.
  private async tryLock(manager: EntityManager, name: string): Promise<boolean> {
    const [row] = await manager.query(
      `SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS ok,
         set_config('synchronous_commit', 'off', true) AS sync`,
      [LOCK_SPACE, name],
    );
    return row.ok === true;
  }

  private async checkpoint(manager: EntityManager, name: string): Promise<Checkpoint> {
    const rows: Checkpoint[] = await manager.query(
      `SELECT transaction_id::text AS transaction_id, global_position::text AS global_position
       FROM projection_checkpoints WHERE name = $1`,
      [name],
    );
    return rows[0] ?? START;
  }

  private async saveCheckpoint(manager: EntityManager, name: string, at: Checkpoint): Promise<void> {
    await manager.query(
      `INSERT INTO projection_checkpoints (name, transaction_id, global_position, updated_at, heartbeat_at)
       VALUES ($1, $2::xid8, $3, now(), now())
       ON CONFLICT (name) DO UPDATE SET transaction_id = EXCLUDED.transaction_id,
         global_position = EXCLUDED.global_position, updated_at = now(), heartbeat_at = now()`,
      [name, at.transaction_id, at.global_position],
    );
  }

  /** Idle passes write the heartbeat at most every heartbeatMs (a pass that moved wrote it with the checkpoint). */
  private async persistHeartbeat(name: string, written: boolean): Promise<void> {
    const now = Date.now();
    if (written) {
      this.heartbeats.set(name, now);
      return;
    }
    if (now - (this.heartbeats.get(name) ?? 0) < this.options.heartbeatMs) return;
    this.heartbeats.set(name, now);
    await this.dataSource.query(
      `INSERT INTO projection_checkpoints (name, heartbeat_at) VALUES ($1, now())
       ON CONFLICT (name) DO UPDATE SET heartbeat_at = now()`,
      [name],
    );
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = null;
    if (wake) wake();
    else this.wokenDuringPass = true;
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.wokenDuringPass = false;
      let failed = false;
      try {
        await this.catchUp();
        if (Date.now() - this.lagRefreshedAt >= this.options.lagRefreshMs) {
          this.lagRefreshedAt = Date.now();
          await this.lag();
        }
      } catch {
        // A failed batch rolled back; it is retried on the next pass (the checkpoint did not move).
        failed = true;
      }
      if (!this.running) break;
      // Dropping that wake-up left an append committed mid-pass waiting a whole poll (60 s with LISTEN). After a
      // failure the poll paces the retries instead.
      if (this.wokenDuringPass && !failed) continue;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, this.options.pollMs);
      });
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.wake = null;
    }
  }

  private async listen(url: string): Promise<void> {
    const client = new Client({ connectionString: url });
    client.on('error', () => undefined); // the poll keeps working without the wake-up
    client.on('notification', () => this.wakeUp());
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
      this.listener = client;
    } catch {
      await client.end().catch(() => undefined);
    }
  }
}

/** Whether checkpoint `a` is past `b` in (transaction_id, global_position) order. */
function after(a: Checkpoint, b: Checkpoint): boolean {
  const [ta, tb] = [BigInt(a.transaction_id), BigInt(b.transaction_id)];
  return ta > tb || (ta === tb && BigInt(a.global_position) > BigInt(b.global_position));
}
