// Coarser aggregate tables beside usage_aggregates (see AGGREGATE_TABLES) and the indexes for time-range scans
// filtered by tenant or dimension key. The new tables are filled from usage_aggregates, whose sums they are.
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

// Key order = primary key order: tenant_id last, so the grouping of a query over all tenants follows the index
// and is aggregated as it is read (no hash table, no sort of the whole range).
const ROLLUPS: [table: string, keys: string[]][] = [
  ['usage_totals', ['tenant_id']],
  ['usage_aggregates_by_key', ['api_key_id', 'tenant_id']],
  ['usage_aggregates_by_model', ['provider', 'model', 'tenant_id']],
];

export class LedgerAggregateRollups1733000000130 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    for (const [table, keys] of ROLLUPS) {
      await q.query(`
        CREATE TABLE ${table} (
          bucket       text NOT NULL CHECK (bucket IN ('hour', 'day')),
          bucket_start timestamptz NOT NULL,
          ${keys.map((k) => `${k} text NOT NULL`).join(',\n')},
          ${MEASURES},
          PRIMARY KEY (bucket, bucket_start, ${keys.join(', ')})
        )`);
      await q.query(
        `INSERT INTO ${table} SELECT bucket, bucket_start, ${keys.join(', ')}, ${SUMS}
         FROM usage_aggregates GROUP BY bucket, bucket_start, ${keys.join(', ')}`,
      );
    }
    // A tenant's range: without these, a range scan reads every tenant's rows of the range and filters.
    for (const table of ['usage_aggregates', ...ROLLUPS.map(([t]) => t)])
      await q.query(`CREATE INDEX ${table}_tenant_time ON ${table} (bucket, tenant_id, bucket_start)`);
    // One dimension key's range (the primary key leads with bucket_start, then every dimension key).
    await q.query(
      'CREATE INDEX usage_dim_aggregates_key_time ON usage_dim_aggregates (bucket, dim_key, bucket_start)',
    );
    await q.query(
      `CREATE INDEX usage_dim_aggregates_tenant_key_time
       ON usage_dim_aggregates (bucket, tenant_id, dim_key, bucket_start)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX usage_dim_aggregates_tenant_key_time');
    await q.query('DROP INDEX usage_dim_aggregates_key_time');
    await q.query('DROP INDEX usage_aggregates_tenant_time');
    for (const [table] of ROLLUPS) await q.query(`DROP TABLE ${table}`);
  }
}
