// Analytics query latency over the aggregates of `--events` usage rows (issue 15: p99 < 100 ms over 1,000,000),
// measured at the read model (LedgerQueries.analyticsReport, what GET /api/v1/analytics runs) and, for
// comparison, the uncapped LedgerQueries.analytics (every bucket x group row). Random queries: windows of 1-30
// days ending anywhere in the seeded span, hour or day buckets, 8 groupings (two dimensions, one of 200 values),
// half of them for one tenant. Rounds, reported as min / median / max.
//
//   npm run build && node dist/test/bench/analytics.js [--events 1000000] [--rounds 3] [--queries 300]
//     [--url postgres://...]   (a database seeded before: reused as is)
import '../../apps/cli/src/aliases';
import { openDataSource } from '@spendops/persistence';
import { startPostgres, type TestPostgres } from '@spendops/testing';
import type { AnalyticsGroup, AnalyticsReportRequest } from '@spendops/contracts';
import { LEDGER_MIGRATIONS, LedgerQueries } from '../../apps/ledger/src';
import { seedReadModels } from './analytics-data';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const DAY = 86_400_000;
const P99_TARGET_MS = 100;
const GROUPINGS: AnalyticsGroup[][] = [
  [],
  ['provider'],
  ['model'],
  ['provider', 'model'],
  ['api_key_id'],
  ['api_key_id', 'model'],
  ['dim:team'],
  ['dim:user'],
];

interface Timed {
  ms: number;
  what: string;
  kind: string;
}

const at = (sorted: Timed[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)].ms;

async function round(
  queries: LedgerQueries,
  span: { start: number; end: number },
  count: number,
  seed: number,
  uncapped: boolean,
): Promise<{ p50: number; p99: number; slowest: string; rows: number }> {
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const timed: Timed[] = [];
  let maxRows = 0;
  const spanDays = Math.floor((span.end - span.start) / DAY);
  for (let n = 0; n < count; n++) {
    const days = 1 + Math.floor(rand() * 30);
    const startDay = Math.floor(rand() * Math.max(1, spanDays - days));
    const query: AnalyticsReportRequest = {
      from: new Date(span.start + startDay * DAY).toISOString(),
      to: new Date(span.start + (startDay + days) * DAY).toISOString(),
      interval: rand() < 0.5 ? 'hour' : 'day',
      groupBy: GROUPINGS[n % GROUPINGS.length],
      tenant_id: rand() < 0.5 ? `t${n % 10}` : undefined,
    };
    const s = performance.now();
    const rows = uncapped
      ? (await queries.analytics(query)).length
      : (await queries.analyticsReport(query)).series.length;
    const ms = performance.now() - s;
    maxRows = Math.max(maxRows, rows);
    timed.push({
      ms,
      kind: `${query.interval} by [${query.groupBy?.join(',')}]`,
      what: `${query.interval} x ${days} d by [${query.groupBy?.join(',')}] tenant ${query.tenant_id ?? 'all'}: ${rows} rows`,
    });
  }
  timed.sort((a, b) => a.ms - b.ms);
  if (process.argv.includes('--by-kind'))
    for (const kind of [...new Set(timed.map((t) => t.kind))].sort()) {
      const of = timed.filter((t) => t.kind === kind);
      console.log(
        `  ${kind.padEnd(32)} n=${String(of.length).padStart(3)} p50 ${at(of, 0.5).toFixed(1)} max ${of[of.length - 1].ms.toFixed(1)} ms`,
      );
    }
  const last = timed[timed.length - 1];
  return {
    p50: at(timed, 0.5),
    p99: at(timed, 0.99),
    slowest: `${last.what} (${last.ms.toFixed(1)} ms)`,
    rows: maxRows,
  };
}

function line(label: string, values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  return `  ${label}: min ${s[0].toFixed(1)} / median ${s[Math.floor((s.length - 1) / 2)].toFixed(1)} / max ${s[s.length - 1].toFixed(1)} ms (${values.map((v) => v.toFixed(1)).join(', ')})`;
}

async function main(): Promise<void> {
  const events = arg('events', 1_000_000);
  const rounds = arg('rounds', 3);
  const count = arg('queries', 300);
  const urlAt = process.argv.indexOf('--url');
  const pg: TestPostgres | null = urlAt >= 0 ? null : await startPostgres();
  const opened = await openDataSource({
    databaseUrl: urlAt >= 0 ? process.argv[urlAt + 1] : pg!.url,
    dataDir: '/nonexistent',
    migrations: LEDGER_MIGRATIONS,
    poolSize: 2,
  });
  const ds = opened.dataSource;
  try {
    const [{ n }] = (await ds.query('SELECT count(*)::int AS n FROM usage_events_view')) as { n: number }[];
    if (n === 0) {
      const seeded = await seedReadModels(ds, events, undefined, (l) => console.log(l));
      console.log(`seeded ${events.toLocaleString('en-US')} rows in ${seeded.seconds.toFixed(0)} s`);
    }
    const [bounds] = (await ds.query(
      `SELECT (extract(epoch FROM min(ts)) * 1000)::bigint::text AS a, (extract(epoch FROM max(ts)) * 1000)::bigint::text AS b,
         count(*)::int AS n FROM usage_events_view`,
    )) as { a: string; b: string; n: number }[];
    const span = { start: Math.ceil(Number(bounds.a) / DAY) * DAY, end: Number(bounds.b) };
    console.log(
      `${bounds.n.toLocaleString('en-US')} usage rows, ${((span.end - span.start) / DAY).toFixed(0)} whole days`,
    );
    const queries = new LedgerQueries(ds);
    const results: Record<'report' | 'uncapped', { p50: number; p99: number }[]> = {
      report: [],
      uncapped: [],
    };
    for (let r = 0; r < rounds; r++)
      for (const kind of ['report', 'uncapped'] as const) {
        const res = await round(queries, span, count, 42 + r, kind === 'uncapped');
        results[kind].push(res);
        console.log(
          `round ${r + 1} ${kind}: p50 ${res.p50.toFixed(1)} ms, p99 ${res.p99.toFixed(1)} ms, largest series ${res.rows} rows; slowest ${res.slowest}`,
        );
      }
    console.log(`\n${count} random queries per round, ${rounds} rounds:`);
    for (const kind of ['report', 'uncapped'] as const) {
      console.log(
        line(
          `${kind} p50`,
          results[kind].map((x) => x.p50),
        ),
      );
      console.log(
        line(
          `${kind} p99`,
          results[kind].map((x) => x.p99),
        ),
      );
    }
    const p99 = [...results.report.map((x) => x.p99)].sort((a, b) => a - b)[Math.floor((rounds - 1) / 2)];
    console.log(
      `target: analyticsReport p99 < ${P99_TARGET_MS} ms over 1,000,000 events: ${p99.toFixed(1)} ms over ` +
        `${bounds.n.toLocaleString('en-US')} -> ${bounds.n < 1_000_000 ? 'MISS (fewer events)' : p99 < P99_TARGET_MS ? 'PASS' : 'MISS'}`,
    );
  } finally {
    await opened.close();
    await pg?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
