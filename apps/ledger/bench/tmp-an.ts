import { openDataSource } from '@spendops/persistence';
import { startPostgres } from '../../../libs/testing/src/postgres';
import { LEDGER_MIGRATIONS } from '../src';
import { aggregateCtes } from '../src/projections/usage-aggregates.sql';
import { LedgerQueries } from '../src';
const BASE = Date.UTC(2030, 0, 1);
async function main() {
  const rows = Number(process.argv[2] ?? 1_000_000);
  const pg = await startPostgres();
  const opened = await openDataSource({ databaseUrl: pg.url, dataDir: '/nonexistent', migrations: LEDGER_MIGRATIONS, poolSize: 4 });
  const ds = opened.dataSource;
  console.log((await ds.query(`SHOW work_mem`))[0], (await ds.query(`SHOW shared_buffers`))[0], (await ds.query(`SHOW max_parallel_workers_per_gather`))[0]);
  const chunk = 100_000;
  let t = performance.now();
  for (let i = 1; i <= rows; i += chunk) {
    await ds.query(`WITH src AS (
      SELECT to_timestamp($3::double precision / 1000) + (g * interval '7.7 seconds') AS ts,
        't' || (g % 10) AS tenant_id, 'k' || (g % 50) AS api_key_id, (ARRAY['openai','anthropic','gemini'])[1 + g % 3] AS provider,
        'model-' || (g % 20) AS model, (1000 + g % 500)::bigint AS prompt_tokens, 200::bigint AS completion_tokens, (1200 + g % 500)::bigint AS total_tokens,
        (g % 100)::bigint AS cache_read_tokens, 0::bigint AS cache_write_tokens, (g % 50)::bigint AS reasoning_tokens,
        CASE WHEN g % 97 = 0 THEN NULL ELSE 0.0045 END::numeric AS total_cost_usd,
        jsonb_build_object('team', 'team' || (g % 10), 'env', (ARRAY['prod','dev','ci'])[1 + g % 3]) AS dims, 1 AS sign
      FROM generate_series($1::int, $2::int) AS g), ${aggregateCtes('src')} SELECT 1`, [i, Math.min(rows, i + chunk - 1), BASE]);
  }
  console.log('aggregate build', ((performance.now() - t) / 1000).toFixed(1), 's');
  await ds.query('VACUUM ANALYZE usage_aggregates'); await ds.query('VACUUM ANALYZE usage_dim_aggregates');
  console.log(await ds.query(`SELECT bucket, count(*) FROM usage_aggregates GROUP BY 1`), await ds.query(`SELECT bucket, count(*) FROM usage_dim_aggregates GROUP BY 1`));
  for (const t of ['usage_totals','usage_aggregates_by_key','usage_aggregates_by_model']) await ds.query(`VACUUM ANALYZE ${t}`);
  const q = new LedgerQueries(ds);
  {
    const sums = `sum(requests)::text, sum(prompt_tokens)::text, sum(completion_tokens)::text, sum(total_tokens)::text, sum(cache_read_tokens)::text, sum(cache_write_tokens)::text, sum(reasoning_tokens)::text, sum(unpriced_requests)::text, sum(cost_usd)::text`;
    const sql = `SELECT bucket_start, provider, model, ${sums} FROM usage_aggregates_by_model WHERE bucket = 'hour' AND bucket_start >= $1 AND bucket_start < $2 GROUP BY bucket_start, provider, model HAVING sum(requests) <> 0 ORDER BY 1,2,3`;
    const p = [new Date(BASE + 10 * 86400000), new Date(BASE + 40 * 86400000)];
    for (let k = 0; k < 2; k++) { const t0 = performance.now(); await ds.query(sql, p); console.log('typeorm', performance.now() - t0); }
    const plan = await ds.query(`EXPLAIN (ANALYZE) ${sql}`, p);
    console.log(plan.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'));
    const jsql = `SELECT json_agg(json_build_object('b', bucket_start, 'p', provider, 'm', model, 'r', requests, 'pt', prompt_tokens, 'ct', completion_tokens, 'tt', total_tokens, 'cr', cache_read_tokens, 'cw', cache_write_tokens, 'rt', reasoning_tokens, 'u', unpriced_requests, 'c', cost_usd::text))::text AS j FROM (SELECT bucket_start, provider, model, sum(requests) AS requests, sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens, sum(total_tokens) AS total_tokens, sum(cache_read_tokens) AS cache_read_tokens, sum(cache_write_tokens) AS cache_write_tokens, sum(reasoning_tokens) AS reasoning_tokens, sum(unpriced_requests) AS unpriced_requests, sum(cost_usd) AS cost_usd FROM usage_aggregates_by_model WHERE bucket = 'hour' AND bucket_start >= $1 AND bucket_start < $2 GROUP BY bucket_start, provider, model HAVING sum(requests) <> 0 ORDER BY 1,2,3) x`;
    void jsql;
    const tsql = sql.replace('SELECT bucket_start,', `SELECT to_char(bucket_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS b,`);
    for (let k = 0; k < 3; k++) { let t0 = performance.now(); await ds.query(tsql, p); const a = performance.now() - t0; t0 = performance.now(); await ds.query(sql, p); console.log('to_char', a.toFixed(1), 'date', (performance.now() - t0).toFixed(1)); }
    await ds.query(`SET work_mem = '64MB'`);
    for (let k = 0; k < 3; k++) { let t0 = performance.now(); await ds.query(tsql, p); const a = performance.now() - t0; t0 = performance.now(); await ds.query(sql, p); console.log('64MB to_char', a.toFixed(1), 'date', (performance.now() - t0).toFixed(1)); }
    await ds.query(`RESET work_mem`);
    const { Client } = await import('pg');
    const c = new Client({ connectionString: pg.url }); await c.connect();
    for (let k = 0; k < 3; k++) { let t0 = performance.now(); await c.query(sql, p); const a = performance.now() - t0; t0 = performance.now(); await c.query({ text: sql, values: p, rowMode: 'array' }); const b = performance.now() - t0; t0 = performance.now(); await c.query(`SELECT count(*) FROM (${sql}) x`, p); console.log('raw pg', a.toFixed(1), 'array', b.toFixed(1), 'server-only', (performance.now() - t0).toFixed(1)); }
    const packed = `SELECT to_char(bucket_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS b, provider, model, concat_ws(' ', sum(requests), sum(prompt_tokens), sum(completion_tokens), sum(total_tokens), sum(cache_read_tokens), sum(cache_write_tokens), sum(reasoning_tokens), sum(unpriced_requests), sum(cost_usd)) AS m FROM usage_aggregates_by_model WHERE bucket = 'hour' AND bucket_start >= $1 AND bucket_start < $2 GROUP BY bucket_start, provider, model HAVING sum(requests) <> 0 ORDER BY bucket_start, 2, 3`;
    for (let k = 0; k < 3; k++) { let t0 = performance.now(); const r = await c.query(packed, p); const out = r.rows.map((x) => { const m = x.m.split(' '); return { b: x.b, p: x.provider, mo: x.model, r: Number(m[0]), c: m[8] }; }); console.log('packed', (performance.now() - t0).toFixed(1), out.length); t0 = performance.now(); await ds.query(packed, p); console.log('packed typeorm', (performance.now() - t0).toFixed(1)); }
    await c.end();
  }
  const from = new Date(BASE + 10 * 86400000).toISOString(), to = new Date(BASE + 40 * 86400000).toISOString();
  for (const groupBy of [[], ['provider'], ['provider', 'model'], ['api_key_id'], ['dim:team']] as const)
    for (const tenant_id of [undefined, 't3'])
      for (const interval of ['hour', 'day'] as const) {
        let best = 1e9, n = 0;
        for (let k = 0; k < 3; k++) { const t0 = performance.now(); n = (await q.analytics({ from, to, interval, groupBy: [...groupBy], tenant_id })).length; best = Math.min(best, performance.now() - t0); }
        console.log(`${interval} ${groupBy.join(',') || 'totals'} tenant=${tenant_id ?? '-'}: ${best.toFixed(1)} ms, ${n} rows`);
      }
  await opened.close(); await pg.stop();
}
main();
