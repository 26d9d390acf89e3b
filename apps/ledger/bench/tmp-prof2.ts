import { EventStore, START } from '@spendops/event-store';
import { openDataSource } from '@spendops/persistence';
import { startPostgres } from '../../../libs/testing/src/postgres';
import { LEDGER_MIGRATIONS, LedgerEventTypes, deterministicEventId } from '../src';
import { viewFromPriced } from '../src/usage-view.mapper';
import { aggregateCtes } from '../src/projections/usage-aggregates.sql';
import { zeroTokens, type UsagePricedV1 } from '@spendops/contracts';
function priced(prefix: string, i: number): UsagePricedV1 {
  return { request_id: `${prefix}-${i}`, tenant_id: `t${i % 10}`, api_key_id: `k${i % 50}`, dims: { team: `team${i % 10}`, env: ['prod', 'dev', 'ci'][i % 3] },
    provider: 'openai', dialect: 'openai-compatible', method: 'POST', endpoint: '/v1/chat/completions', request_model: 'gpt-4o', stream: true, stream_usage_injected: false,
    outcome: 'completed', http_status: 200, started_at_ms: 1.9e12 + i * 1000, first_byte_at_ms: 0, ended_at_ms: 0, origin: 'proxy',
    usage: { ...zeroTokens(), prompt_tokens: 1000, completion_tokens: 200, total_tokens: 1200, usage_source: 'provider', endpoint_class: 'chat', not_billed: false, model: 'gpt-4o', response_model: '', generation_id: `gen-${i}`, service_tier: '', web_search_requests: 0, image_count: 0, image_size: '', image_quality: '', audio_seconds: '0', input_characters: 0, provider_cost: null, raw_usage: { prompt_tokens: 1000 }, extraction_note: '' },
    cost: { provider_cost: null, calculated_cost: '0.0045', total_cost_usd: '0.0045', cost_source: 'standard', pricing_matched: true, pricing_model: 'gpt-4o', pricing_version: 'b' } };
}
const min: Record<string, number> = {};
async function t<T>(name: string, f: () => Promise<T> | T): Promise<T> { const s = performance.now(); const r = await f(); const d = performance.now() - s; min[name] = Math.min(min[name] ?? 1e9, d); return r; }
async function main() {
  const pg = await startPostgres();
  const opened = await openDataSource({ databaseUrl: pg.url, dataDir: '/nonexistent', migrations: LEDGER_MIGRATIONS, poolSize: 10 });
  const ds = opened.dataSource; const store = new EventStore(ds);
  for (let k = 0; k < 10; k++) {
    const e = Array.from({ length: 500 }, (_, j) => { const p = priced('x', k * 500 + j); return { event_id: deterministicEventId(LedgerEventTypes.usageRecorded, p.request_id), stream_id: p.request_id, type: LedgerEventTypes.usageRecorded, data: p, metadata: { source: 'proxy' } }; });
    await t('append', () => store.append(e));
  }
  let cp = START;
  for (let k = 0; k < 10; k++) {
    await ds.transaction(async (m) => {
      const events = await t('read', () => store.readAfter(cp, 500, m, ['UsageRecorded']));
      cp = { transaction_id: events[499].transaction_id, global_position: events[499].global_position };
      const json = await t('map+stringify', () => JSON.stringify(events.map((e) => viewFromPriced(e.data as UsagePricedV1))));
      await t('insert view', () => m.query(`INSERT INTO usage_events_view SELECT r.* FROM jsonb_populate_recordset(null::usage_events_view, $1::jsonb) AS r ON CONFLICT DO NOTHING`, [json]));
      await t('agg keys only', () => m.query(`WITH src AS (SELECT v.*, 1 AS sign FROM usage_events_view v WHERE v.request_id = ANY($1::text[])), ${aggregateCtes('src').split('agg_dims')[0].replace(/,\s*$/, '')} SELECT 1`, [events.map((e) => e.stream_id)]));
      await t('agg both', () => m.query(`WITH src AS (SELECT v.*, 1 AS sign FROM usage_events_view v WHERE v.request_id = ANY($1::text[])), ${aggregateCtes('src')} SELECT 1`, [events.map((e) => e.stream_id)]));
      await t('read src only', () => m.query(`SELECT v.* FROM usage_events_view v WHERE v.request_id = ANY($1::text[])`, [events.map((e) => e.stream_id)]));
    });
  }
  console.log(Object.entries(min).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(' | '));
  await opened.close(); await pg.stop();
}
main();
