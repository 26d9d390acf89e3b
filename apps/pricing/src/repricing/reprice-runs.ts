// The audit of re-pricing runs: who asked, what was selected, which prices were used, what changed. Each
// changed event's old and new cost is in the ledger's `UsageRepriced` event, which names its run.
// A run is also a job the admin API polls: while it runs its row carries the counts so far and a heartbeat; a
// row whose heartbeat is older than REPRICE_STALE_MS (the process running it died) is marked failed when runs
// are next read or started.
import type { RepriceRunStatus, RepriceRunView } from '@spendops/contracts';
import type { DataSource } from 'typeorm';

/** How often a running run writes its heartbeat (also written after every page). */
export const REPRICE_HEARTBEAT_MS = 10_000;
/** A running run without a heartbeat for this long is failed: 12 missed beats, far beyond a busy page. */
export const REPRICE_STALE_MS = 120_000;

export interface RepriceRunStart {
  /** Automatic runs only: a key one run per price change may hold, so N instances do the work once. */
  claim?: string;
  trigger: string;
  actor: string;
  selection: Record<string, unknown>;
  catalogVersion: string;
  overridesVersion: number;
}

export interface RepriceRunProgress {
  examined: number;
  changed: number;
  beforeUsd: string;
  afterUsd: string;
}

export interface RepriceRunEnd extends RepriceRunProgress {
  error?: string;
}

export interface RepriceRunStore {
  /** The new run's id, or null when the claim is already held (another instance ran it). */
  start(run: RepriceRunStart): Promise<string | null>;
  /** The counts so far and a heartbeat; false when the run is no longer running (e.g. failed as stale). */
  progress(id: string, progress: RepriceRunProgress): Promise<boolean>;
  /** Ends a running run (a run already ended, e.g. failed as stale, keeps its first end). */
  finish(id: string, end: RepriceRunEnd): Promise<void>;
  get(id: string): Promise<RepriceRunView | null>;
  /** Newest first. */
  list(limit: number): Promise<RepriceRunView[]>;
  /** Fails every running run whose heartbeat is older than REPRICE_STALE_MS; how many. */
  failStale(): Promise<number>;
}

export const REPRICE_RUNS = Symbol('PRICING_REPRICE_RUNS');

function statusOf(finished: boolean, error: string | null | undefined): RepriceRunStatus {
  return !finished ? 'running' : error ? 'failed' : 'succeeded';
}

function staleError(heartbeat: Date): string {
  return `abandoned: no heartbeat since ${heartbeat.toISOString()} (the process running it stopped)`;
}

type MemoryRun = RepriceRunStart &
  Partial<RepriceRunEnd> & { id: string; startedAt: Date; heartbeatAt: Date; finishedAt?: Date };

export class InMemoryRepriceRuns implements RepriceRunStore {
  readonly runs: MemoryRun[] = [];

  constructor(private readonly now: () => Date = () => new Date()) {}

  async start(run: RepriceRunStart): Promise<string | null> {
    if (run.claim && this.runs.some((r) => r.claim === run.claim)) return null;
    const id = String(this.runs.length + 1);
    const at = this.now();
    this.runs.push({ ...run, id, startedAt: at, heartbeatAt: at });
    return id;
  }

  async progress(id: string, progress: RepriceRunProgress): Promise<boolean> {
    const r = this.runs[Number(id) - 1];
    if (!r || r.finishedAt) return false;
    Object.assign(r, progress, { heartbeatAt: this.now() });
    return true;
  }

  async finish(id: string, end: RepriceRunEnd): Promise<void> {
    const r = this.runs[Number(id) - 1];
    if (!r || r.finishedAt) return;
    Object.assign(r, end, { finishedAt: this.now() });
  }

  async get(id: string): Promise<RepriceRunView | null> {
    await this.failStale();
    const r = /^[1-9]\d*$/.test(id) ? this.runs[Number(id) - 1] : undefined;
    return r ? this.view(r) : null;
  }

  async list(limit: number): Promise<RepriceRunView[]> {
    await this.failStale();
    return this.runs
      .slice(-limit)
      .reverse()
      .map((r) => this.view(r));
  }

  async failStale(): Promise<number> {
    const cutoff = this.now().getTime() - REPRICE_STALE_MS;
    const stale = this.runs.filter((r) => !r.finishedAt && r.heartbeatAt.getTime() < cutoff);
    for (const r of stale) Object.assign(r, { finishedAt: this.now(), error: staleError(r.heartbeatAt) });
    return stale.length;
  }

  private view(r: MemoryRun): RepriceRunView {
    return {
      id: r.id,
      status: statusOf(r.finishedAt !== undefined, r.error),
      trigger: r.trigger,
      actor: r.actor,
      selection: r.selection as RepriceRunView['selection'],
      catalog_version: r.catalogVersion,
      overrides_version: r.overridesVersion,
      started_at: r.startedAt.toISOString(),
      finished_at: r.finishedAt?.toISOString() ?? null,
      heartbeat_at: r.heartbeatAt.toISOString(),
      examined: r.examined ?? 0,
      changed: r.changed ?? 0,
      before_usd: r.beforeUsd ?? '0',
      after_usd: r.afterUsd ?? '0',
      error: r.error ?? null,
    };
  }
}

interface RunRow {
  id: string;
  trigger: string;
  actor: string;
  selection: RepriceRunView['selection'];
  catalog_version: string;
  overrides_version: string;
  started_at: Date;
  finished_at: Date | null;
  heartbeat_at: Date;
  examined: number | null;
  changed: number | null;
  before_usd: string | null;
  after_usd: string | null;
  error: string | null;
}

const RUN_COLUMNS = `id::text AS id, trigger, actor, selection, catalog_version, overrides_version::text AS overrides_version,
  started_at, finished_at, heartbeat_at, examined, changed, before_usd::text AS before_usd,
  after_usd::text AS after_usd, error`;

function viewOf(r: RunRow): RepriceRunView {
  return {
    id: r.id,
    status: statusOf(r.finished_at !== null, r.error),
    trigger: r.trigger,
    actor: r.actor,
    selection: r.selection,
    catalog_version: r.catalog_version,
    overrides_version: Number(r.overrides_version),
    started_at: r.started_at.toISOString(),
    finished_at: r.finished_at?.toISOString() ?? null,
    heartbeat_at: r.heartbeat_at.toISOString(),
    examined: r.examined ?? 0,
    changed: r.changed ?? 0,
    before_usd: r.before_usd ?? '0',
    after_usd: r.after_usd ?? '0',
    error: r.error,
  };
}

export class PostgresRepriceRuns implements RepriceRunStore {
  constructor(private readonly db: DataSource) {}

  async start(run: RepriceRunStart): Promise<string | null> {
    // Starting a run is also when an abandoned one is noticed, even if nobody reads the runs.
    await this.failStale();
    const rows: { id: string }[] = await this.db.query(
      `INSERT INTO pricing_reprice_runs (claim, trigger, actor, selection, catalog_version, overrides_version,
         examined, changed, before_usd, after_usd)
       VALUES ($1, $2, $3, $4, $5, $6, 0, 0, 0, 0) ON CONFLICT (claim) DO NOTHING RETURNING id`,
      [
        run.claim ?? null,
        run.trigger,
        run.actor,
        JSON.stringify(run.selection),
        run.catalogVersion,
        run.overridesVersion,
      ],
    );
    return rows.length ? String(rows[0].id) : null;
  }

  async progress(id: string, p: RepriceRunProgress): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `WITH u AS (UPDATE pricing_reprice_runs SET heartbeat_at = now(), examined = $2, changed = $3,
         before_usd = $4, after_usd = $5 WHERE id = $1 AND finished_at IS NULL RETURNING id) SELECT id FROM u`,
      [id, p.examined, p.changed, p.beforeUsd, p.afterUsd],
    );
    return rows.length > 0;
  }

  async finish(id: string, end: RepriceRunEnd): Promise<void> {
    await this.db.query(
      `WITH u AS (UPDATE pricing_reprice_runs SET finished_at = now(), heartbeat_at = now(), examined = $2,
         changed = $3, before_usd = $4, after_usd = $5, error = $6 WHERE id = $1 AND finished_at IS NULL
         RETURNING id) SELECT id FROM u`,
      [id, end.examined, end.changed, end.beforeUsd, end.afterUsd, end.error ?? null],
    );
  }

  async get(id: string): Promise<RepriceRunView | null> {
    if (!/^[1-9]\d{0,17}$/.test(id)) return null;
    await this.failStale();
    const rows: RunRow[] = await this.db.query(
      `SELECT ${RUN_COLUMNS} FROM pricing_reprice_runs WHERE id = $1`,
      [id],
    );
    return rows.length ? viewOf(rows[0]) : null;
  }

  async list(limit: number): Promise<RepriceRunView[]> {
    await this.failStale();
    const rows: RunRow[] = await this.db.query(
      `SELECT ${RUN_COLUMNS} FROM pricing_reprice_runs ORDER BY id DESC LIMIT $1`,
      [limit],
    );
    return rows.map(viewOf);
  }

  async failStale(): Promise<number> {
    // One statement, against the database's clock only (now()), so instances' clocks do not matter and two
    // readers fail a run once.
    const rows: unknown[] = await this.db.query(
      `WITH u AS (UPDATE pricing_reprice_runs SET finished_at = now(),
         error = 'abandoned: no heartbeat since '
           || to_char(heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
           || ' (the process running it stopped)'
         WHERE finished_at IS NULL AND heartbeat_at < now() - make_interval(secs => $1) RETURNING id)
       SELECT id FROM u`,
      [REPRICE_STALE_MS / 1000],
    );
    return rows.length;
  }
}
