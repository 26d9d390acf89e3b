// Re-pricing runs as jobs: a run records its progress per page and a heartbeat, so the admin API can show a
// running run's counts and a run whose process died is recognised (its heartbeat stops) and marked failed.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class PricingRepriceRunProgress1767225600200 implements MigrationInterface {
  name = 'PricingRepriceRunProgress1767225600200';

  async up(q: QueryRunner): Promise<void> {
    // Rows from before this migration that never finished get now(): the stale rule fails them later.
    await q.query(
      `ALTER TABLE pricing_reprice_runs ADD COLUMN IF NOT EXISTS heartbeat_at timestamptz NOT NULL DEFAULT now()`,
    );
    // GET /api/v1/pricing/reprice-runs lists newest first; the id (bigserial) is that order.
    await q.query(
      `CREATE INDEX IF NOT EXISTS pricing_reprice_runs_running ON pricing_reprice_runs (heartbeat_at)
         WHERE finished_at IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS pricing_reprice_runs_running');
    await q.query('ALTER TABLE pricing_reprice_runs DROP COLUMN IF EXISTS heartbeat_at');
  }
}
