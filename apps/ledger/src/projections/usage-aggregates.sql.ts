// Adds (sign = 1) or removes (sign = -1) requests' contribution to the hour and day aggregates, from their
// current usage_events_view rows. A re-pricing is "remove, update the row, add": counts stay, costs move.
import type { EntityManager } from 'typeorm';

const MEASURES = `requests, prompt_tokens, completion_tokens, total_tokens, cache_read_tokens, cache_write_tokens,
  reasoning_tokens, cost_usd, unpriced_requests`;

// Summed per target row: one INSERT ... ON CONFLICT may not touch a row twice.
const VALUES = (
  sign: string,
) => `${sign} * count(*), ${sign} * sum(v.prompt_tokens), ${sign} * sum(v.completion_tokens),
  ${sign} * sum(v.total_tokens), ${sign} * sum(v.cache_read_tokens), ${sign} * sum(v.cache_write_tokens),
  ${sign} * sum(v.reasoning_tokens), ${sign} * coalesce(sum(v.total_cost_usd), 0),
  ${sign} * count(*) FILTER (WHERE v.total_cost_usd IS NULL)`;

const ADD = MEASURES.split(',')
  .map((m) => m.trim())
  .map((m) => `${m} = t.${m} + EXCLUDED.${m}`)
  .join(', ');

export async function contribute(manager: EntityManager, requestIds: string[], sign: 1 | -1): Promise<void> {
  if (requestIds.length === 0) return;
  const s = sign === 1 ? '1' : '-1';
  await manager.query(
    `INSERT INTO usage_aggregates AS t (bucket, bucket_start, tenant_id, api_key_id, provider, model, ${MEASURES})
     SELECT b.bucket, date_trunc(b.bucket, v.ts, 'UTC'), v.tenant_id, v.api_key_id, v.provider, v.model, ${VALUES(s)}
     FROM usage_events_view v CROSS JOIN (VALUES ('hour'), ('day')) AS b(bucket)
     WHERE v.request_id = ANY($1::text[])
     GROUP BY 1, 2, 3, 4, 5, 6
     ON CONFLICT (bucket, bucket_start, tenant_id, api_key_id, provider, model) DO UPDATE SET ${ADD}`,
    [requestIds],
  );
  await manager.query(
    `INSERT INTO usage_dim_aggregates AS t (bucket, bucket_start, tenant_id, dim_key, dim_value, ${MEASURES})
     SELECT b.bucket, date_trunc(b.bucket, v.ts, 'UTC'), v.tenant_id, d.key, d.value, ${VALUES(s)}
     FROM usage_events_view v CROSS JOIN (VALUES ('hour'), ('day')) AS b(bucket)
       CROSS JOIN LATERAL jsonb_each_text(v.dims) AS d(key, value)
     WHERE v.request_id = ANY($1::text[])
     GROUP BY 1, 2, 3, 4, 5
     ON CONFLICT (bucket, bucket_start, dim_key, dim_value, tenant_id) DO UPDATE SET ${ADD}`,
    [requestIds],
  );
}
