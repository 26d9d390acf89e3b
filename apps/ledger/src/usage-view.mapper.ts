// Between the messages, the read-model rows and the EVENT object of the admin API / usage.recorded.v1.
import { EVENT_FIELDS, EVENT_INTEGER_FIELDS } from '@spendops/contracts';
import type { CostFields, RequestDeniedV1, UsageEventView, UsagePricedV1 } from '@spendops/contracts';

/** Costs on the wire: exact decimal USD with at least 9 decimal places ("0.000123450"), never rounded. */
export function formatCost(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const [int, frac = ''] = value.split('.');
  return `${int}.${frac.padEnd(9, '0')}`;
}

/** The EVENT of a freshly priced request. */
export function viewFromPriced(p: UsagePricedV1): UsageEventView {
  const u = p.usage;
  return {
    request_id: p.request_id,
    ts: new Date(p.started_at_ms).toISOString(),
    tenant_id: p.tenant_id,
    api_key_id: p.api_key_id,
    provider: p.provider,
    method: p.method,
    endpoint: p.endpoint,
    endpoint_class: u.endpoint_class,
    model: u.model || p.request_model,
    response_model: u.response_model,
    generation_id: u.generation_id,
    service_tier: u.service_tier,
    stream: p.stream,
    stream_usage_injected: p.stream_usage_injected,
    outcome: p.outcome,
    usage_source: u.usage_source,
    http_status: p.http_status,
    dims: p.dims ?? {},
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens,
    total_tokens: u.total_tokens,
    cache_read_tokens: u.cache_read_tokens,
    cache_write_tokens: u.cache_write_tokens,
    cache_write_5m_tokens: u.cache_write_5m_tokens,
    cache_write_1h_tokens: u.cache_write_1h_tokens,
    reasoning_tokens: u.reasoning_tokens,
    prompt_audio_tokens: u.prompt_audio_tokens,
    prompt_image_tokens: u.prompt_image_tokens,
    completion_audio_tokens: u.completion_audio_tokens,
    completion_image_tokens: u.completion_image_tokens,
    web_search_requests: u.web_search_requests,
    image_count: u.image_count,
    image_size: u.image_size,
    image_quality: u.image_quality,
    audio_seconds: u.audio_seconds || '0',
    input_characters: u.input_characters,
    ...withCosts(p.cost),
    started_at_ms: p.started_at_ms,
    first_byte_at_ms: p.first_byte_at_ms,
    ended_at_ms: p.ended_at_ms,
    raw_usage: u.raw_usage ?? null,
  };
}

export function withCosts(c: CostFields): CostFields {
  return {
    provider_cost: formatCost(c.provider_cost),
    calculated_cost: formatCost(c.calculated_cost),
    total_cost_usd: formatCost(c.total_cost_usd),
    cost_source: c.cost_source,
    pricing_matched: c.pricing_matched,
    pricing_model: c.pricing_model,
    pricing_version: c.pricing_version,
  };
}

/** Column order of usage_events_view inserts (every EVENT field plus none other). */
export const VIEW_COLUMNS = EVENT_FIELDS;

const INTEGER_COLUMNS: ReadonlySet<string> = new Set(EVENT_INTEGER_FIELDS);

/** A usage_events_view row (pg returns bigint and numeric as strings, timestamptz as Date) as an EVENT. */
export function viewFromRow(row: Record<string, unknown>): UsageEventView {
  const out: Record<string, unknown> = {};
  for (const col of VIEW_COLUMNS) {
    const v = row[col];
    if (col === 'ts') out[col] = (v as Date).toISOString();
    else if (INTEGER_COLUMNS.has(col)) out[col] = Number(v);
    else if (col === 'provider_cost' || col === 'calculated_cost' || col === 'total_cost_usd')
      out[col] = formatCost(v as string | null);
    else out[col] = v;
  }
  return out as unknown as UsageEventView;
}

export function denialFromRow(row: Record<string, unknown>): RequestDeniedV1 {
  return {
    request_id: row.request_id as string,
    ts: (row.ts as Date).toISOString(),
    type: row.type as RequestDeniedV1['type'],
    reason: row.reason as string,
    http_status: Number(row.http_status),
    tenant_id: row.tenant_id as string,
    api_key_id: row.api_key_id as string,
    provider: row.provider as string,
    path: row.path as string,
    dims: (row.dims as Record<string, string>) ?? {},
  };
}
