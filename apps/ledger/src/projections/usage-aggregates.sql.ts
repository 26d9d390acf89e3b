// The hour and day aggregates are sums of usage_events_view rows. A batch's contribution is folded per target
// row in SQL (GROUP BY the aggregate key) and upserted once per key (x = x + EXCLUDED.x), in the statement that
// also writes the rows it sums: one round trip per batch, and the aggregates cannot disagree with the rows.
import type { EntityManager } from 'typeorm';

const MEASURES = [
  'requests',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'cost_usd',
  'unpriced_requests',
];

// Summed per target row, each usage row weighted by its `sign` (1 adds it, -1 removes it). sum() of a FILTER
// that matched nothing is NULL, hence the coalesce.
const SIGNED_SUMS = `sum(v.sign), sum(v.sign * v.prompt_tokens), sum(v.sign * v.completion_tokens),
  sum(v.sign * v.total_tokens), sum(v.sign * v.cache_read_tokens), sum(v.sign * v.cache_write_tokens),
  sum(v.sign * v.reasoning_tokens), coalesce(sum(v.sign * v.total_cost_usd), 0),
  coalesce(sum(v.sign) FILTER (WHERE v.total_cost_usd IS NULL), 0)`;

const ADD = MEASURES.map((m) => `${m} = t.${m} + EXCLUDED.${m}`).join(', ');

/**
 * The aggregate tables by their key columns (after bucket, bucket_start), smallest first. Each sums the same
 * rows; the coarser ones exist so an analytics query scans as few rows as its grouping allows (an hourly month
 * of totals is ~720 rows per tenant in usage_totals, but one row per key/provider/model combination and hour
 * in usage_aggregates).
 */
export const AGGREGATE_TABLES: readonly { table: string; keys: readonly string[] }[] = [
  { table: 'usage_totals', keys: ['tenant_id'] },
  { table: 'usage_aggregates_by_key', keys: ['api_key_id', 'tenant_id'] },
  { table: 'usage_aggregates_by_model', keys: ['provider', 'model', 'tenant_id'] },
  { table: 'usage_aggregates', keys: ['tenant_id', 'api_key_id', 'provider', 'model'] },
];

/** Every table the usage projection writes (for its reset). */
export const AGGREGATE_TABLE_NAMES = [
  ...AGGREGATE_TABLES.map((t) => t.table),
  'usage_dim_aggregates',
  'usage_dim_key_totals',
];

/**
 * CTEs (`agg_0` ..., `agg_dims` and `agg_dim_keys`) adding `source` to every aggregate table; `source` names a relation with
 * usage_events_view's columns and an integer `sign`. Append them to a WITH list whose statement runs them.
 */
export function aggregateCtes(source: string): string {
  const tables = AGGREGATE_TABLES.map((t, i) => {
    const keys = t.keys.join(', ');
    const groupBy = Array.from({ length: t.keys.length + 2 }, (_, j) => j + 1).join(', ');
    return `
  agg_${i} AS (
    INSERT INTO ${t.table} AS t (bucket, bucket_start, ${keys}, ${MEASURES.join(', ')})
    SELECT b.bucket, date_trunc(b.bucket, v.ts, 'UTC'), ${t.keys.map((k) => `v.${k}`).join(', ')}, ${SIGNED_SUMS}
    FROM ${source} v CROSS JOIN (VALUES ('hour'), ('day')) AS b(bucket)
    GROUP BY ${groupBy}
    ON CONFLICT (bucket, bucket_start, ${keys}) DO UPDATE SET ${ADD}
    RETURNING 1),`;
  });
  return `${tables.join('')}
  agg_dims AS (
    INSERT INTO usage_dim_aggregates AS t (bucket, bucket_start, tenant_id, dim_key, dim_value, ${MEASURES.join(', ')})
    SELECT b.bucket, date_trunc(b.bucket, v.ts, 'UTC'), v.tenant_id, d.key, d.value, ${SIGNED_SUMS}
    FROM ${source} v CROSS JOIN (VALUES ('hour'), ('day')) AS b(bucket)
      CROSS JOIN LATERAL jsonb_each_text(v.dims) AS d(key, value)
    GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (bucket, bucket_start, dim_key, dim_value, tenant_id) DO UPDATE SET ${ADD}
    RETURNING 1),
  agg_dim_keys AS (
    INSERT INTO usage_dim_key_totals AS t (bucket, bucket_start, dim_key, tenant_id, ${MEASURES.join(', ')})
    SELECT b.bucket, date_trunc(b.bucket, v.ts, 'UTC'), d.key, v.tenant_id, ${SIGNED_SUMS}
    FROM ${source} v CROSS JOIN (VALUES ('hour'), ('day')) AS b(bucket)
      CROSS JOIN LATERAL jsonb_object_keys(v.dims) AS d(key)
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (bucket, bucket_start, dim_key, tenant_id) DO UPDATE SET ${ADD}
    RETURNING 1)`;
}

/**
 * Insert usage_events_view rows (those whose request_id is new) and add exactly those to the aggregates, in one
 * statement. `rowsJson` is a JSON array of view rows. Returns the request ids inserted.
 */
export async function insertViewRows(manager: EntityManager, rowsJson: string): Promise<string[]> {
  const rows: { request_id: string }[] = await manager.query(
    `WITH ins AS (
       INSERT INTO usage_events_view
       SELECT r.* FROM jsonb_populate_recordset(null::usage_events_view, $1::jsonb) AS r
       ON CONFLICT (request_id) DO NOTHING
       RETURNING *),
     src AS (SELECT ins.*, 1 AS sign FROM ins),
     ${aggregateCtes('src')}
     SELECT request_id FROM ins`,
    [rowsJson],
  );
  return rows.map((r) => r.request_id);
}

/** Add (sign = 1) or remove (sign = -1) requests' current usage_events_view rows to/from the aggregates. */
export async function contribute(manager: EntityManager, requestIds: string[], sign: 1 | -1): Promise<void> {
  if (requestIds.length === 0) return;
  await manager.query(
    `WITH src AS (SELECT v.*, $2::int AS sign FROM usage_events_view v WHERE v.request_id = ANY($1::text[])),
     ${aggregateCtes('src')}
     SELECT 1`,
    [requestIds, sign],
  );
}
