import { EventStore, START } from '@spendops/event-store';
import { InProcessBus } from '@spendops/messaging';
import { openDataSource } from '@spendops/persistence';
import { startPostgres } from '../../../libs/testing/src/postgres';
import { LEDGER_MIGRATIONS, LedgerEventTypes, deterministicEventId } from '../src';
import { ledgerProjections } from '../src/ledger-projections';
import { viewFromPriced } from '../src/usage-view.mapper';
import { zeroTokens, type UsagePricedV1 } from '@spendops/contracts';
function priced(prefix: string, i: number): UsagePricedV1 {
  return { request_id: `${prefix}-${i}`, tenant_id: `t${i % 10}`, api_key_id: `k${i % 50}`, dims: { team: `team${i % 10}`, env: ['prod', 'dev', 'ci'][i % 3] },
    provider: 'openai', dialect: 'openai-compatible', method: 'POST', endpoint: '/v1/chat/completions', request_model: 'gpt-4o', stream: true, stream_usage_injected: false,
    outcome: 'completed', http_status: 200, started_at_ms: 1e12 + i * 1000, first_byte_at_ms: 0, ended_at_ms: 0, origin: 'proxy',
    usage: { ...zeroTokens(), prompt_tokens: 1000, completion_tokens: 200, total_tokens: 1200, usage_source: 'provider', endpoint_class: 'chat', not_billed: false, model: 'gpt-4o', response_model: '', generation_id: `gen-${i}`, service_tier: '', web_search_requests: 0, image_count: 0, image_size: '', image_quality: '', audio_seconds: '0', input_characters: 0, provider_cost: null, raw_usage: { prompt_tokens: 1000 }, extraction_note: '' },
    cost: { provider_cost: null, calculated_cost: '0.0045', total_cost_usd: '0.0045', cost_source: 'standard', pricing_matched: true, pricing_model: 'gpt-4o', pricing_version: 'b' } };
}
async function main() {
  const pg = await startPostgres();
  const opened = await openDataSource({ databaseUrl: pg.url, dataDir: '/nonexistent', migrations: LEDGER_MIGRATIONS, poolSize: 10 });
  const ds = opened.dataSource; const store = new EventStore(ds);
  const evs = (k: number) => Array.from({ length: 500 }, (_, j) => { const p = priced('x', k * 500 + j); return { event_id: deterministicEventId(LedgerEventTypes.usageRecorded, p.request_id), stream_id: p.request_id, type: LedgerEventTypes.usageRecorded, data: p, metadata: { source: 'proxy' } }; });
  for (let k = 0; k < 10; k++) { const s = performance.now(); await store.append(evs(k)); console.log('append500', (performance.now() - s).toFixed(1)); }
  const projs = ledgerProjections(new InProcessBus(), store);
  for (let k = 0; k < 3; k++) {
    await ds.transaction(async (m) => {
      let s = performance.now(); const events = await store.readAfter(START, 500, m, projs[0].types); const r = performance.now() - s;
      s = performance.now(); await projs[0].handle(events, m); const h = performance.now() - s;
      const rows = JSON.stringify(events.map((e) => viewFromPriced(e.data as UsagePricedV1)));
      await m.query('SAVEPOINT a');
      console.log((await m.query(`EXPLAIN ANALYZE SELECT global_position::text AS global_position, transaction_id::text AS transaction_id, event_id::text AS event_id,
  stream_id, type, version, data, metadata, recorded_at FROM events e
       WHERE e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
         AND (e.transaction_id, e.global_position) > ($1::xid8, $2::bigint)
         AND type = ANY($4::text[])
       ORDER BY e.transaction_id, e.global_position
       LIMIT $3`, ['0','0',500,projs[0].types])).map((r: Record<string,string>) => r['QUERY PLAN']).join('\n'));
      let t = performance.now(); await m.query(`SELECT data FROM events e ORDER BY e.transaction_id, e.global_position LIMIT 500`); console.log('data only', performance.now()-t);
      t = performance.now(); await m.query(`SELECT data::text FROM events e ORDER BY e.transaction_id, e.global_position LIMIT 500`); console.log('data text', performance.now()-t);
      t = performance.now(); await m.query(`SELECT event_id FROM events e ORDER BY e.transaction_id, e.global_position LIMIT 500`); console.log('id only', performance.now()-t);
      for (const q of [`EXPLAIN (ANALYZE, BUFFERS off, TIMING on) INSERT INTO usage_events_view SELECT r.* FROM jsonb_populate_recordset(null::usage_events_view, $1::jsonb) AS r ON CONFLICT (request_id) DO NOTHING`]) {
        await m.query('DELETE FROM usage_events_view');
        const plan = await m.query(q, [rows]); console.log(plan.map((r: Record<string,string>) => r['QUERY PLAN']).join('\n'));
      }
      await m.query('ROLLBACK TO SAVEPOINT a');
      s = performance.now(); await projs[2].handle(events, m); const o = performance.now() - s;
      console.log(`read ${r.toFixed(1)} usage ${h.toFixed(1)} outbox ${o.toFixed(1)}`);
      throw new Error('rollback');
    }).catch(() => undefined);
  }
  await opened.close(); await pg.stop();
}
main();
