// The audit of re-pricing runs: who asked, what was selected, which prices were used, what changed. Each
// changed event's old and new cost is in the ledger's `UsageRepriced` event, which names its run.
import type { DataSource } from 'typeorm';

export interface RepriceRunStart {
  /** Automatic runs only: a key one run per price change may hold, so N instances do the work once. */
  claim?: string;
  trigger: string;
  actor: string;
  selection: Record<string, unknown>;
  catalogVersion: string;
  overridesVersion: number;
}

export interface RepriceRunEnd {
  examined: number;
  changed: number;
  beforeUsd: string;
  afterUsd: string;
  error?: string;
}

export interface RepriceRunStore {
  /** The new run's id, or null when the claim is already held (another instance ran it). */
  start(run: RepriceRunStart): Promise<string | null>;
  finish(id: string, end: RepriceRunEnd): Promise<void>;
}

export const REPRICE_RUNS = Symbol('PRICING_REPRICE_RUNS');

export class InMemoryRepriceRuns implements RepriceRunStore {
  readonly runs: (RepriceRunStart & Partial<RepriceRunEnd> & { id: string })[] = [];

  async start(run: RepriceRunStart): Promise<string | null> {
    if (run.claim && this.runs.some((r) => r.claim === run.claim)) return null;
    const id = String(this.runs.length + 1);
    this.runs.push({ ...run, id });
    return id;
  }

  async finish(id: string, end: RepriceRunEnd): Promise<void> {
    Object.assign(this.runs[Number(id) - 1] ?? {}, end);
  }
}

export class PostgresRepriceRuns implements RepriceRunStore {
  constructor(private readonly db: DataSource) {}

  async start(run: RepriceRunStart): Promise<string | null> {
    const rows: { id: string }[] = await this.db.query(
      `INSERT INTO pricing_reprice_runs (claim, trigger, actor, selection, catalog_version, overrides_version)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (claim) DO NOTHING RETURNING id`,
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

  async finish(id: string, end: RepriceRunEnd): Promise<void> {
    await this.db.query(
      `WITH u AS (UPDATE pricing_reprice_runs SET finished_at = now(), examined = $2, changed = $3, before_usd = $4,
         after_usd = $5, error = $6 WHERE id = $1 RETURNING id) SELECT id FROM u`,
      [id, end.examined, end.changed, end.beforeUsd, end.afterUsd, end.error ?? null],
    );
  }
}
