// Analytics at volume (see analytics-report.ts): a capped series reads only its top groups' rows and takes
// `other` as the bucket's total minus them. That needs, per aggregate table, an index leading with the grouping
// columns (so the top groups' rows are read, not the whole range), and a per-bucket total for each dimension key
// (a dimension's `other` cannot come from usage_totals: requests without that dimension are in no group of it).
import type { MigrationInterface, QueryRunner } from 'typeorm';

const MEASURES = `
  requests          bigint NOT NULL DEFAULT 0,
  prompt_tokens     bigint NOT NULL DEFAULT 0,
  completion_tokens bigint NOT NULL DEFAULT 0,
  total_tokens      bigint NOT NULL DEFAULT 0,
  cache_read_tokens bigint NOT NULL DEFAULT 0,
  cache_write_tokens bigint NOT NULL DEFAULT 0,
  reasoning_tokens  bigint NOT NULL DEFAULT 0,
  cost_usd          numeric NOT NULL DEFAULT 0,
  unpriced_requests bigint NOT NULL DEFAULT 0`;

const SUMS = `sum(requests), sum(prompt_tokens), sum(completion_tokens), sum(total_tokens), sum(cache_read_tokens),
  sum(cache_write_tokens), sum(reasoning_tokens), sum(cost_usd), sum(unpriced_requests)`;

/**
 * [index name, table, columns]: the top groups' rows of a range, by the grouping's leading column(s). Covering
 * (every key and measure included): a group's hours lie on as many heap pages as hours, so reading them from the
 * heap cost one random page per row.
 */
export const ANALYTICS_GROUP_INDEXES: [name: string, table: string, columns: string][] = [
  ['usage_aggregates_key_time', 'usage_aggregates', 'bucket, api_key_id, bucket_start'],
  ['usage_aggregates_by_key_key_time', 'usage_aggregates_by_key', 'bucket, api_key_id, bucket_start'],
  ['usage_aggregates_by_model_pm_time', 'usage_aggregates_by_model', 'bucket, provider, model, bucket_start'],
  ['usage_aggregates_by_model_model_time', 'usage_aggregates_by_model', 'bucket, model, bucket_start'],
  ['usage_dim_aggregates_value_time', 'usage_dim_aggregates', 'bucket, dim_key, dim_value, bucket_start'],
];

const MEASURE_NAMES = MEASURES.trim()
  .split('\n')
  .map((line) => line.trim().split(/\s+/)[0]);

/** The key columns of each indexed table (after bucket and bucket_start). */
const TABLE_KEYS: Record<string, string[]> = {
  usage_aggregates: ['tenant_id', 'api_key_id', 'provider', 'model'],
  usage_aggregates_by_key: ['api_key_id', 'tenant_id'],
  usage_aggregates_by_model: ['provider', 'model', 'tenant_id'],
  usage_dim_aggregates: ['dim_key', 'dim_value', 'tenant_id'],
};

export class LedgerAnalyticsVolume1733000000140 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE usage_dim_key_totals (
        bucket       text NOT NULL CHECK (bucket IN ('hour', 'day')),
        bucket_start timestamptz NOT NULL,
        dim_key      text NOT NULL,
        tenant_id    text NOT NULL,
        ${MEASURES},
        PRIMARY KEY (bucket, bucket_start, dim_key, tenant_id)
      )`);
    await q.query(
      `INSERT INTO usage_dim_key_totals SELECT bucket, bucket_start, dim_key, tenant_id, ${SUMS}
       FROM usage_dim_aggregates GROUP BY bucket, bucket_start, dim_key, tenant_id`,
    );
    for (const [name, table, columns] of ANALYTICS_GROUP_INDEXES) {
      const keys = columns.split(', ');
      const rest = [...TABLE_KEYS[table], ...MEASURE_NAMES].filter((c) => !keys.includes(c));
      await q.query(`CREATE INDEX ${name} ON ${table} (${columns}) INCLUDE (${rest.join(', ')})`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [name] of ANALYTICS_GROUP_INDEXES) await q.query(`DROP INDEX ${name}`);
    await q.query('DROP TABLE usage_dim_key_totals');
  }
}
