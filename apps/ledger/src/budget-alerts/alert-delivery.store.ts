// SQL of the alert outbox: the projection's inserts, the workers' claims and outcomes, and the history read.
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { BudgetAlertDelivery, BudgetAlertV1, BudgetAlertView } from '@spendops/contracts';
import { displayTarget, type AlertChannel, type DeliveryTarget } from './alert-channels';
import { BUDGET_ALERTS_CHANNEL } from './budget-alerts.migration';

/** A delivery a worker holds until its lease ends. */
export interface ClaimedDelivery {
  id: string;
  event_id: string;
  channel: AlertChannel;
  target: string;
  /** This attempt's number (1 = first). */
  attempt: number;
  claim: string;
  alert: BudgetAlertV1;
}

export type DeliveryOutcome =
  | { status: 'delivered' }
  | { status: 'retry'; error: string; delayMs: number }
  | { status: 'failed'; error: string };

interface HistoryRow {
  event_id: string;
  payload: BudgetAlertV1;
  channel: AlertChannel | null;
  target: string | null;
  status: BudgetAlertDelivery['status'] | null;
  attempts: number | null;
  last_error: string | null;
  delivered_at: Date | null;
}

@Injectable()
export class AlertDeliveryStore {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The crossing and one pending delivery per target, inside the projection's transaction; a crossing already
   * stored adds nothing. Signals the workers (NOTIFY is sent at commit). Returns the deliveries added.
   */
  async insertAlert(
    manager: EntityManager,
    eventId: string,
    alert: BudgetAlertV1,
    targets: DeliveryTarget[],
  ): Promise<number> {
    const inserted: unknown[] = await manager.query(
      `INSERT INTO budget_alerts (event_id, budget_id, threshold, crossed_at, payload)
       VALUES ($1, $2, $3, $4::timestamptz, $5::jsonb)
       ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
      [eventId, alert.budget_id, alert.threshold, alert.crossed_at, JSON.stringify(alert)],
    );
    if (inserted.length === 0) return 0;
    const rows: unknown[] = await manager.query(
      `INSERT INTO budget_alert_deliveries (event_id, channel, target)
       SELECT $1, t.channel, t.target FROM jsonb_to_recordset($2::jsonb) AS t(channel text, target text)
       ON CONFLICT (event_id, channel, target) DO NOTHING RETURNING id`,
      [eventId, JSON.stringify(targets)],
    );
    await manager.query(`SELECT pg_notify('${BUDGET_ALERTS_CHANNEL}', '')`);
    return rows.length;
  }

  /**
   * Takes up to `limit` due deliveries for `leaseMs` (SKIP LOCKED: concurrent workers take different rows) and
   * counts the attempt. The row is not due again until the lease ends, so a worker that dies mid-send is
   * replaced then; one that finishes records its outcome with its claim.
   */
  async claimDue(claim: string, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const rows = await this.update<Omit<ClaimedDelivery, 'alert'> & { payload: BudgetAlertV1 }>(
      `WITH due AS (
         SELECT id FROM budget_alert_deliveries
         WHERE status = 'pending' AND next_attempt_at <= now()
         ORDER BY next_attempt_at, id LIMIT $1
         FOR UPDATE SKIP LOCKED)
       UPDATE budget_alert_deliveries d
       SET attempts = d.attempts + 1, claim = $2::uuid, updated_at = now(),
         next_attempt_at = now() + make_interval(secs => $3::double precision / 1000)
       FROM due, budget_alerts a
       WHERE d.id = due.id AND a.event_id = d.event_id
       RETURNING d.id::text AS id, d.event_id::text AS event_id, d.channel, d.target, d.attempts AS attempt,
         d.claim::text AS claim, a.payload`,
      [limit, claim, leaseMs],
    );
    return rows.map(({ payload, ...row }) => ({ ...row, alert: payload }));
  }

  /** Records an attempt's outcome; false when the claim was lost (the lease ended and another worker took it). */
  async record(delivery: ClaimedDelivery, outcome: DeliveryOutcome): Promise<boolean> {
    const [sql, params] =
      outcome.status === 'delivered'
        ? [`status = 'delivered', delivered_at = now(), last_error = NULL`, [] as unknown[]]
        : outcome.status === 'retry'
          ? [
              `last_error = $3, next_attempt_at = now() + make_interval(secs => $4::double precision / 1000)`,
              [outcome.error, outcome.delayMs],
            ]
          : [`status = 'failed', last_error = $3`, [outcome.error]];
    const rows = await this.update<{ id: string }>(
      `UPDATE budget_alert_deliveries SET ${sql}, claim = NULL, updated_at = now()
       WHERE id = $1 AND claim = $2::uuid RETURNING id`,
      [delivery.id, delivery.claim, ...params],
    );
    return rows.length > 0;
  }

  /** Milliseconds until the next pending delivery is due (0 if one is due now), or null when none is pending. */
  async msUntilNextDue(): Promise<number | null> {
    // Not GREATEST(0, …) in SQL: it ignores a NULL, so "none pending" came back as "due now" and the worker
    // polled in a tight loop (~140 passes/s) while there was nothing to deliver.
    const [row]: { ms: number | null }[] = await this.dataSource.query(
      `SELECT (EXTRACT(EPOCH FROM (min(next_attempt_at) - now())) * 1000)::float8 AS ms
       FROM budget_alert_deliveries WHERE status = 'pending'`,
    );
    return row?.ms === null || row?.ms === undefined ? null : Math.max(0, row.ms);
  }

  /** UPDATE … RETURNING: TypeORM answers UPDATE statements with [rows, rowCount]. */
  private async update<T>(sql: string, params: unknown[]): Promise<T[]> {
    const result: [T[], number] = await this.dataSource.query(sql, params);
    return result[0];
  }

  async webhookSecret(budgetId: string): Promise<string | null> {
    const rows: { webhook_secret: string }[] = await this.dataSource.query(
      'SELECT webhook_secret FROM budget_secrets WHERE budget_id = $1',
      [budgetId],
    );
    return rows[0]?.webhook_secret ?? null;
  }

  /** The budget's crossings, newest first, each with its deliveries (targets shown without secrets). */
  async history(budgetId: string, limit: number): Promise<BudgetAlertView[]> {
    const rows: HistoryRow[] = await this.dataSource.query(
      `SELECT a.event_id::text AS event_id, a.payload, d.channel, d.target, d.status, d.attempts, d.last_error,
         d.delivered_at
       FROM (SELECT * FROM budget_alerts WHERE budget_id = $1
             ORDER BY crossed_at DESC, threshold DESC LIMIT $2) a
       LEFT JOIN budget_alert_deliveries d ON d.event_id = a.event_id
       ORDER BY a.crossed_at DESC, a.threshold DESC, a.event_id, d.id`,
      [budgetId, limit],
    );
    const alerts = new Map<string, BudgetAlertView>();
    for (const row of rows) {
      let view = alerts.get(row.event_id);
      if (!view) {
        const p = row.payload;
        view = {
          threshold: p.threshold,
          crossed_at: p.crossed_at,
          spent_usd: p.spent_usd,
          period_start: p.period_start,
          deliveries: [],
        };
        alerts.set(row.event_id, view);
      }
      if (row.channel === null || row.target === null || row.status === null) continue;
      const delivery: BudgetAlertDelivery = {
        channel: row.channel,
        target: displayTarget(row.channel, row.target),
        status: row.status,
        attempts: row.attempts ?? 0,
      };
      if (row.last_error) delivery.last_error = row.last_error;
      if (row.delivered_at) delivery.delivered_at = row.delivered_at.toISOString();
      view.deliveries.push(delivery);
    }
    return [...alerts.values()];
  }

  /** Rows per channel and status (for the metrics gauge). */
  async countsByChannelAndStatus(): Promise<{ channel: string; status: string; n: number }[]> {
    return this.dataSource.query(
      `SELECT channel, status, count(*)::int AS n FROM budget_alert_deliveries GROUP BY channel, status`,
    );
  }
}
