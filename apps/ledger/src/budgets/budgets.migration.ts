// The budgets read model (budgets_view), spend per budget and period (budget_spend), the compact usage rows the
// spend projection sums when a budget is defined mid-period or a period row is first needed (budget_usage), and
// the webhook secrets (budget_secrets, written by the create command, never an event).
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class BudgetsSchema1733000000160 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE budgets_view (
        budget_id      text PRIMARY KEY,
        record         jsonb NOT NULL,
        enforce        boolean NOT NULL,
        -- budget.spend.v1 position of the budget's last published state.
        spend_position bigint NOT NULL DEFAULT 0,
        created_at     timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE budget_spend (
        budget_id    text NOT NULL,
        period_start timestamptz NOT NULL,
        period_end   timestamptz NOT NULL,
        spent_usd    numeric NOT NULL,
        PRIMARY KEY (budget_id, period_start)
      )`);
    await q.query(`
      CREATE TABLE budget_usage (
        request_id text PRIMARY KEY,
        ts         timestamptz NOT NULL,
        tenant_id  text NOT NULL,
        api_key_id text NOT NULL,
        provider   text NOT NULL,
        model      text NOT NULL,
        dims       jsonb NOT NULL,
        cost       numeric NOT NULL
      )`);
    await q.query('CREATE INDEX budget_usage_ts ON budget_usage (ts)');
    // Positions of budget.spend.v1 messages: batches of the projection run one at a time (advisory lock), so
    // values taken in later batches are larger; never reset, not even by a rebuild.
    await q.query('CREATE SEQUENCE budget_spend_position');
    await q.query(`
      CREATE TABLE IF NOT EXISTS budget_secrets (
        budget_id      text PRIMARY KEY,
        webhook_secret text NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP SEQUENCE budget_spend_position');
    await q.query('DROP TABLE budget_usage');
    await q.query('DROP TABLE budget_spend');
    await q.query('DROP TABLE budgets_view');
  }
}
