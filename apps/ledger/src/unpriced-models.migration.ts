// The unpriced-models list (GET /api/v1/pricing/unpriced, the pricing page) groups the events no price matched.
// Without an index that is a scan of every stored event (≈0.5 s at 1,000,000 events); this partial index holds
// only the unpriced, billable events, with every column the list reads, so the answer costs what is unpriced.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class LedgerUnpricedModelsIndex1733000000150 implements MigrationInterface {
  name = 'LedgerUnpricedModelsIndex1733000000150';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX IF NOT EXISTS usage_events_view_unpriced_models
         ON usage_events_view (provider, (COALESCE(NULLIF(response_model, ''), model)))
         INCLUDE (total_cost_usd, ts)
         WHERE NOT pricing_matched AND cost_source <> 'not_billed'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS usage_events_view_unpriced_models');
  }
}
