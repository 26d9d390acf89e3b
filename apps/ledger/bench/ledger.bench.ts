// Ledger benchmark (a script, not a test: the numbers depend on the machine).
//
//   node scripts/pricing/run-ts.js apps/ledger/bench/ledger.bench.ts [--events 20000] [--rows 1000000]
//
// 1. Ingest: `--events` priced usages appended one message at a time through LedgerService.recordUsage (32 in
//    flight, as the bus consumer's prefetch allows) while the real ProjectionRunner projects usage_events_view,
//    the aggregates, denials and the outbox (publishing to an in-process bus): events/s until all are projected.
//    Then the same number appended in batches of 500 through EventStore.append (the bulk path) and projected.
// 2. Analytics: `--rows` events put straight into usage_events_view by one SQL INSERT ... generate_series (the
//    bulk path; no events-table rows), then summed into the hour/day aggregates by the projection's own
//    contribute() in chunks, then random LedgerQueries.analytics() calls: p50/p99 latency.
// Uses a throwaway PostgreSQL (@spendops/testing startPostgres, or SPENDOPS_TEST_PG_URL).
import { zeroTokens, type UsagePricedV1 } from '@spendops/contracts';
import { EventStore, ProjectionRunner } from '@spendops/event-store';
import { InProcessBus } from '@spendops/messaging';
import { openDataSource } from '@spendops/persistence';
import { startPostgres } from '../../../libs/testing/src/postgres';
import { LEDGER_MIGRATIONS, LedgerEventTypes, LedgerQueries, LedgerService, deterministicEventId } from '../src';
import { ledgerProjections } from '../src/ledger-projections';
import { contribute } from '../src/projections/usage-aggregates.sql';
import type { AnalyticsQuery } from '../src/ledger.queries';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4-5', 'gemini-2.5-pro'];
const BASE = Date.UTC(2030, 0, 1);

function priced(prefix: string, i: number): UsagePricedV1 {
  return {
    request_id: `${prefix}-${i}`,
    tenant_id: `t${i % 10}`,
    api_key_id: `k${i % 50}`,
    dims: { team: `team${i % 10}`, env: ['prod', 'dev', 'ci'][i % 3] },
    provider: 'openai',
    dialect: 'openai-compatible',
    method: 'POST',
    endpoint: '/v1/chat/completions',
    request_model: MODELS[i % 4],
    stream: i % 2 === 0,
    stream_usage_injected: false,
    outcome: 'completed',
    http_status: 200,
    started_at_ms: BASE + i * 1000,
    first_byte_at_ms: BASE + i * 1000 + 100,
    ended_at_ms: BASE + i * 1000 + 900,
    origin: 'proxy',
    usage: {
      ...zeroTokens(),
      prompt_tokens: 1000 + (i % 500),
      completion_tokens: 200,
      total_tokens: 1200 + (i % 500),
      usage_source: 'provider',
      endpoint_class: 'chat',
      not_billed: false,
      model: MODELS[i % 4],
      response_model: '',
      generation_id: `gen-${i}`,
      service_tier: '',
      web_search_requests: 0,
      image_count: 0,
      image_size: '',
      image_quality: '',
      audio_seconds: '0',
      input_characters: 0,
      provider_cost: null,
      raw_usage: { prompt_tokens: 1000 + (i % 500), completion_tokens: 200 },
      extraction_note: '',
    },
    cost: {
      provider_cost: null,
      calculated_cost: '0.004500000',
      total_cost_usd: '0.004500000',
      cost_source: 'standard',
      pricing_matched: true,
      pricing_model: MODELS[i % 4],
      pricing_version: 'bench',
    },
  };
}

async function main(): Promise<void> {
  const events = arg('events', 20_000);
  const rows = arg('rows', 1_000_000);
  const pg = await startPostgres();
  const opened = await openDataSource({
    databaseUrl: pg.url,
    dataDir: '/nonexistent',
    migrations: LEDGER_MIGRATIONS,
    poolSize: 40,
  });
  const ds = opened.dataSource;
  try {
    const store = new EventStore(ds);
    const ledger = new LedgerService(store, ds);
    const bus = new InProcessBus();
    const runner = new ProjectionRunner(ds, store, { pollMs: 50 });
    for (const p of ledgerProjections(bus, store)) runner.register(p);
    const projected = async () => Object.values(await runner.lag()).every((n) => n === 0);

    // 1a. One message at a time (the consumer's path), 32 in flight, projected live.
    await runner.start();
    const startOne = performance.now();
    let t0 = startOne;
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < events) await ledger.recordUsage(priced('one', next++));
      }),
    );
    const appendedOne = performance.now();
    while (!(await projected())) await new Promise((r) => setTimeout(r, 20));
    const oneByOne = performance.now() - t0;
    await runner.stop();

    // 1b. Bulk appends (500 per statement), then projection.
    t0 = performance.now();
    for (let i = 0; i < events; i += 500) {
      await store.append(
        Array.from({ length: Math.min(500, events - i) }, (_, j) => {
          const p = priced('bulk', i + j);
          return {
            event_id: deterministicEventId(LedgerEventTypes.usageRecorded, p.request_id),
            stream_id: p.request_id,
            type: LedgerEventTypes.usageRecorded,
            data: p,
            metadata: { source: 'proxy' },
          };
        }),
      );
    }
    const appendedBulk = performance.now();
    await runner.catchUp();
    const bulk = performance.now() - t0;

    const rate = (n: number, ms: number) => Math.round((n / ms) * 1000).toLocaleString('en-US');
    console.log(`ingest, ${events} events, 32 appends in flight, projected live (3 projections):`);
    console.log(`  appends alone: ${rate(events, appendedOne - startOne)} events/s`);
    console.log(`  append + projection: ${rate(events, oneByOne)} events/s`);
    console.log(`ingest, ${events} events appended 500 per statement, then projected:`);
    console.log(`  appends ${rate(events, appendedBulk - t0)} events/s; append + projection ${rate(events, bulk)} events/s`);

    // 2. Analytics over `rows` events in the aggregates.
    await ds.query('DELETE FROM usage_events_view');
    await ds.query('DELETE FROM usage_aggregates');
    await ds.query('DELETE FROM usage_dim_aggregates');
    t0 = performance.now();
    await ds.query(
      `INSERT INTO usage_events_view
       SELECT 'bulk-' || g, to_timestamp($2::double precision / 1000) + (g * interval '7.7 seconds'),
         't' || (g % 10), 'k' || (g % 50), (ARRAY['openai','anthropic','gemini'])[1 + g % 3], 'POST',
         '/v1/chat/completions', 'chat', 'model-' || (g % 20), '', '', '', g % 2 = 0, false, 'completed',
         'provider', 200,
         jsonb_build_object('team', 'team' || (g % 10), 'env', (ARRAY['prod','dev','ci'])[1 + g % 3]),
         1000 + g % 500, 200, 1200 + g % 500, g % 100, 0, 0, 0, g % 50, 0, 0, 0, 0, 0, 0, '', '', 0, 0,
         NULL, 0.0045, CASE WHEN g % 97 = 0 THEN NULL ELSE 0.0045 END, 'standard', true, 'm', 'bench',
         0, 0, 0, NULL, NULL
       FROM generate_series(1, $1::int) AS g`,
      [rows, BASE],
    );
    const inserted = performance.now();
    const chunk = 50_000;
    for (let i = 1; i <= rows; i += chunk) {
      const ids = Array.from({ length: Math.min(chunk, rows - i + 1) }, (_, j) => `bulk-${i + j}`);
      await ds.transaction((m) => contribute(m, ids, 1));
    }
    await ds.query('VACUUM ANALYZE usage_aggregates');
    await ds.query('VACUUM ANALYZE usage_dim_aggregates');
    const aggregated = performance.now();
    const [{ n, d }] = await ds.query(
      `SELECT (SELECT count(*) FROM usage_aggregates)::int AS n, (SELECT count(*) FROM usage_dim_aggregates)::int AS d`,
    );
    console.log(
      `analytics data: ${rows} events (SQL INSERT ... generate_series into usage_events_view ${((inserted - t0) / 1000).toFixed(1)}s), ` +
        `aggregated by contribute() ${((aggregated - inserted) / 1000).toFixed(1)}s -> ${n} aggregate rows, ${d} dimension rows`,
    );

    const queries = new LedgerQueries(ds);
    const spanDays = (rows * 7.7) / 86_400;
    const groupings: AnalyticsQuery['groupBy'][] = [[], ['provider'], ['provider', 'model'], ['api_key_id'], ['dim:team']];
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const latencies: number[] = [];
    for (let q = 0; q < 300; q++) {
      const startDay = Math.floor(rand() * Math.max(1, spanDays - 30));
      const days = 1 + Math.floor(rand() * 30);
      const interval = rand() < 0.5 ? 'hour' : 'day';
      const query: AnalyticsQuery = {
        from: new Date(BASE + startDay * 86_400_000).toISOString(),
        to: new Date(BASE + (startDay + days) * 86_400_000).toISOString(),
        interval,
        groupBy: groupings[q % groupings.length],
        tenant_id: rand() < 0.5 ? `t${q % 10}` : undefined,
      };
      const s = performance.now();
      await queries.analytics(query);
      latencies.push(performance.now() - s);
    }
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(1);
    console.log(
      `analytics: 300 random queries (1-30 day windows, hour/day, 5 groupings, half per tenant): ` +
        `p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms`,
    );
  } finally {
    await opened.close();
    await pg.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
