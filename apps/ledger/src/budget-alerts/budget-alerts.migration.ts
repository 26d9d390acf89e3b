// The alert outbox: one row per crossing (budget_alerts) and one per (crossing, channel, target)
// (budget_alert_deliveries), written by the BudgetThresholdCrossed projection in its checkpoint's transaction.
// budget_secrets is owned by the budgets-core migration; created here too (IF NOT EXISTS) so either order works.
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** NOTIFY channel the projection signals at commit; delivery workers LISTEN on it to start at once. */
export const BUDGET_ALERTS_CHANNEL = 'spendops_budget_alerts';

export class BudgetAlertDeliveries1733000000170 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS budget_secrets (
        budget_id      text PRIMARY KEY,
        webhook_secret text NOT NULL
      )`);
    await q.query(`
      CREATE TABLE budget_alerts (
        event_id   uuid PRIMARY KEY,
        budget_id  text NOT NULL,
        threshold  int NOT NULL,
        crossed_at timestamptz NOT NULL,
        -- The BudgetAlertV1 body, as the crossing event gave its fields (decimal and time strings kept verbatim).
        payload    jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX budget_alerts_by_budget ON budget_alerts (budget_id, crossed_at DESC)');
    await q.query(`
      CREATE TABLE budget_alert_deliveries (
        id              bigserial PRIMARY KEY,
        event_id        uuid NOT NULL REFERENCES budget_alerts (event_id),
        channel         text NOT NULL CHECK (channel IN ('webhook', 'slack', 'email', 'bus')),
        -- Where to send (full URL or address; the API shows it redacted).
        target          text NOT NULL,
        status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts        int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        -- The worker holding the row until next_attempt_at (its lease); outcomes of a lost lease are ignored.
        claim           uuid,
        last_error      text,
        delivered_at    timestamptz,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        UNIQUE (event_id, channel, target)
      )`);
    await q.query(`CREATE INDEX budget_alert_deliveries_due ON budget_alert_deliveries (next_attempt_at)
      WHERE status = 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE budget_alert_deliveries');
    await q.query('DROP TABLE budget_alerts');
  }
}
