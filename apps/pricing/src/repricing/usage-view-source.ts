// Reads the ledger's read model `usage_events_view` (same PostgreSQL database) for re-pricing and the durable
// unpriced-model list. Keyset pages on (ts, request_id), the view's own index order.
import type { CostSource, EndpointClass, UnpricedModelView } from '@spendops/contracts';
import type { DataSource } from 'typeorm';
import type { RepriceEventSource, RepriceSelection, StoredUsage } from './reprice-source';

interface ViewRow {
  request_id: string;
  ts: Date;
  /** Exact (microseconds) for the keyset cursor. */
  ts_key: string;
  tenant_id: string;
  provider: string;
  endpoint_class: EndpointClass;
  model: string;
  response_model: string;
  service_tier: string;
  http_status: number;
  started_at_ms: string;
  prompt_tokens: string;
  completion_tokens: string;
  total_tokens: string;
  cache_read_tokens: string;
  cache_write_tokens: string;
  cache_write_5m_tokens: string;
  cache_write_1h_tokens: string;
  reasoning_tokens: string;
  prompt_audio_tokens: string;
  prompt_image_tokens: string;
  completion_audio_tokens: string;
  completion_image_tokens: string;
  web_search_requests: string;
  image_count: string;
  image_size: string;
  image_quality: string;
  audio_seconds: string;
  input_characters: string;
  usage_source: StoredUsage['usage']['usage_source'];
  provider_cost: string | null;
  calculated_cost: string | null;
  total_cost_usd: string | null;
  cost_source: CostSource;
  pricing_matched: boolean;
  pricing_model: string;
  pricing_version: string;
}

const COLUMNS = `request_id, ts, ts::text AS ts_key, tenant_id, provider, endpoint_class, model, response_model, service_tier, http_status,
  started_at_ms, prompt_tokens, completion_tokens, total_tokens, cache_read_tokens, cache_write_tokens,
  cache_write_5m_tokens, cache_write_1h_tokens, reasoning_tokens, prompt_audio_tokens, prompt_image_tokens,
  completion_audio_tokens, completion_image_tokens, web_search_requests, image_count, image_size, image_quality,
  audio_seconds::text AS audio_seconds, input_characters, usage_source, provider_cost::text AS provider_cost,
  calculated_cost::text AS calculated_cost, total_cost_usd::text AS total_cost_usd, cost_source, pricing_matched,
  pricing_model, pricing_version`;

export class UsageViewRepriceSource implements RepriceEventSource {
  constructor(private readonly db: DataSource) {}

  async available(): Promise<boolean> {
    const [{ t }]: { t: string | null }[] = await this.db.query(
      `SELECT to_regclass('usage_events_view')::text AS t`,
    );
    return t !== null;
  }

  async *pages(selection: RepriceSelection, pageSize = 500): AsyncIterable<StoredUsage[]> {
    if (!(await this.available())) return;
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => {
      args.push(v);
      return `$${args.length}`;
    };
    if (selection.unpricedOnly) where.push(`cost_source = 'none'`);
    if (selection.from) where.push(`ts >= ${arg(selection.from)}`);
    if (selection.to) where.push(`ts < ${arg(selection.to)}`);
    if (selection.provider) where.push(`provider = ${arg(selection.provider)}`);
    if (selection.model) {
      const m = arg(selection.model);
      where.push(`(model = ${m} OR response_model = ${m})`);
    }
    let after: { ts: string; id: string } | undefined;
    for (;;) {
      const page = [...where];
      const pageArgs = [...args];
      if (after) {
        pageArgs.push(after.ts, after.id);
        page.push(`(ts, request_id) > ($${pageArgs.length - 1}::timestamptz, $${pageArgs.length})`);
      }
      pageArgs.push(pageSize);
      const rows: ViewRow[] = await this.db.query(
        `SELECT ${COLUMNS} FROM usage_events_view ${page.length ? `WHERE ${page.join(' AND ')}` : ''}
         ORDER BY ts, request_id LIMIT $${pageArgs.length}`,
        pageArgs,
      );
      if (rows.length === 0) return;
      yield rows.map(toStoredUsage);
      if (rows.length < pageSize) return;
      const last = rows[rows.length - 1];
      after = { ts: last.ts_key, id: last.request_id };
    }
  }

  async unpricedModels(): Promise<UnpricedModelView[]> {
    if (!(await this.available())) return [];
    const rows: {
      provider: string;
      model: string;
      events: string;
      cost_known: string;
      first_seen: Date;
      last_seen: Date;
    }[] = await this.db.query(UNPRICED_MODELS_SQL);
    return rows.map((r) => ({
      provider: r.provider,
      model: r.model,
      events: Number(r.events),
      cost_known: Number(r.cost_known),
      first_seen: new Date(r.first_seen).toISOString(),
      last_seen: new Date(r.last_seen).toISOString(),
    }));
  }
}

/**
 * The unpriced models as the pricing service counts them: no catalog or override match, billable; by the name the
 * price was sought for. Served by the ledger's partial index usage_events_view_unpriced_models.
 */
export const UNPRICED_MODELS_SQL = `SELECT provider, COALESCE(NULLIF(response_model, ''), model) AS model, count(*) AS events,
    count(total_cost_usd) AS cost_known, min(ts) AS first_seen, max(ts) AS last_seen
  FROM usage_events_view
  WHERE NOT pricing_matched AND cost_source <> 'not_billed'
  GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2`;

function toStoredUsage(r: ViewRow): StoredUsage {
  const n = (v: string) => Number(v);
  return {
    request_id: r.request_id,
    meta: {
      tenant_id: r.tenant_id,
      provider: r.provider,
      http_status: r.http_status,
      started_at_ms: n(r.started_at_ms) || new Date(r.ts).getTime(),
      request_model: r.model,
    },
    usage: {
      prompt_tokens: n(r.prompt_tokens),
      completion_tokens: n(r.completion_tokens),
      total_tokens: n(r.total_tokens),
      cache_read_tokens: n(r.cache_read_tokens),
      cache_write_tokens: n(r.cache_write_tokens),
      cache_write_5m_tokens: n(r.cache_write_5m_tokens),
      cache_write_1h_tokens: n(r.cache_write_1h_tokens),
      reasoning_tokens: n(r.reasoning_tokens),
      prompt_audio_tokens: n(r.prompt_audio_tokens),
      prompt_image_tokens: n(r.prompt_image_tokens),
      completion_audio_tokens: n(r.completion_audio_tokens),
      completion_image_tokens: n(r.completion_image_tokens),
      usage_source: r.usage_source,
      endpoint_class: r.endpoint_class,
      // The view keeps the outcome, not the flag: an event stored as not billed stays not billed.
      not_billed: r.cost_source === 'not_billed',
      model: r.model,
      response_model: r.response_model,
      generation_id: '',
      service_tier: r.service_tier,
      web_search_requests: n(r.web_search_requests),
      image_count: n(r.image_count),
      image_size: r.image_size,
      image_quality: r.image_quality,
      audio_seconds: r.audio_seconds,
      input_characters: n(r.input_characters),
      provider_cost: r.provider_cost,
      raw_usage: null,
      extraction_note: '',
    },
    cost: {
      provider_cost: r.provider_cost,
      calculated_cost: r.calculated_cost,
      total_cost_usd: r.total_cost_usd,
      cost_source: r.cost_source,
      pricing_matched: r.pricing_matched,
      pricing_model: r.pricing_model,
      pricing_version: r.pricing_version,
    },
  };
}
