// The capped analytics report against the truth computed from the rows themselves, on a real PostgreSQL: the
// aggregates are filled by the projection's own statement (aggregateCtes) from generated usage rows kept in a
// plain table, and every answer (totals, top groups, `other`, series) is compared with SQL over that table.
import Decimal from 'decimal.js';
import { openDataSource, type OpenedDataSource } from '@spendops/persistence';
import { startPostgres, type TestPostgres } from '@spendops/testing';
import type { AnalyticsGroup, AnalyticsReport } from '@spendops/contracts';
import { ANALYTICS_MAX_BUCKETS, bucketCount, coveringPieces, planAnalytics } from './analytics-report';
import { LedgerFilterError, LedgerQueries } from './ledger.queries';
import { LEDGER_MIGRATIONS } from './ledger.module';
import { aggregateCtes } from './projections/usage-aggregates.sql';

const fail = (param: string, message: string) => new LedgerFilterError(param, message);
const plan = (from: string, to: string, interval: 'hour' | 'day') =>
  planAnalytics({ from, to, interval }, fail);
const pieces = (from: string, to: string, interval: 'hour' | 'day') =>
  coveringPieces(plan(from, to, interval)).map(([b, f, t]) => [b, f.toISOString(), t.toISOString()]);

describe('coveringPieces: the fewest rows covering the same buckets', () => {
  it('a daily range is its daily rows', () => {
    expect(pieces('2030-01-01T00:00:00Z', '2030-01-05T00:00:00Z', 'day')).toEqual([
      ['day', '2030-01-01T00:00:00.000Z', '2030-01-05T00:00:00.000Z'],
    ]);
  });

  it('an hourly range: whole days from the daily rows, ragged ends from the hourly ones', () => {
    expect(pieces('2030-01-01T05:30:00Z', '2030-01-04T07:00:01Z', 'hour')).toEqual([
      ['day', '2030-01-02T00:00:00.000Z', '2030-01-04T00:00:00.000Z'],
      ['hour', '2030-01-01T06:00:00.000Z', '2030-01-02T00:00:00.000Z'],
      ['hour', '2030-01-04T00:00:00.000Z', '2030-01-04T08:00:00.000Z'],
    ]);
    expect(pieces('2030-01-01T00:00:00Z', '2030-01-03T00:00:00Z', 'hour')).toEqual([
      ['day', '2030-01-01T00:00:00.000Z', '2030-01-03T00:00:00.000Z'],
    ]);
  });

  it('an hourly range within a day is hours only', () => {
    expect(pieces('2030-01-01T05:00:00Z', '2030-01-01T09:00:00Z', 'hour')).toEqual([
      ['hour', '2030-01-01T05:00:00.000Z', '2030-01-01T09:00:00.000Z'],
    ]);
    expect(pieces('2030-01-01T23:00:00Z', '2030-01-02T01:00:00Z', 'hour')).toEqual([
      ['hour', '2030-01-01T23:00:00.000Z', '2030-01-02T01:00:00.000Z'],
    ]);
  });

  it('counts buckets starting in [from, to)', () => {
    expect(bucketCount(plan('2030-01-01T00:00:00Z', '2030-01-31T00:00:00Z', 'hour'))).toBe(720);
    expect(bucketCount(plan('2030-01-01T00:30:00Z', '2030-01-01T02:00:00Z', 'hour'))).toBe(1);
    expect(bucketCount(plan('2030-01-01T00:00:00Z', '2030-01-01T00:00:01Z', 'day'))).toBe(1);
  });
});

// 6,000 usage rows over 4 days from 2030-03-01 (a row every 57.6 s): 4 tenants, 30 keys, 3 providers, 12 models,
// dims team (6 values, on every row) and user (40 values, on two rows of three); costs with 12 decimals, every
// 13th unpriced.
const ROWS = `
  SELECT timestamptz '2030-03-01T00:00:00Z' + g * interval '57.6 seconds' AS ts,
    't' || (g % 4) AS tenant_id, 'k' || (g % 30) AS api_key_id,
    (ARRAY['openai','anthropic','gemini'])[1 + g % 3] AS provider, 'm' || (g % 12) AS model,
    (100 + g % 70)::bigint AS prompt_tokens, (g % 40)::bigint AS completion_tokens,
    (100 + g % 70 + g % 40)::bigint AS total_tokens, (g % 9)::bigint AS cache_read_tokens,
    (g % 5)::bigint AS cache_write_tokens, (g % 3)::bigint AS reasoning_tokens,
    (CASE WHEN g % 13 = 0 THEN NULL ELSE 0.000123456789 * (1 + (g * 7) % 50) END)::numeric AS total_cost_usd,
    (CASE WHEN g % 3 = 0 THEN jsonb_build_object('team', 'team' || (g % 6))
      ELSE jsonb_build_object('team', 'team' || (g % 6), 'user', 'u' || (g % 40)) END) AS dims
  FROM generate_series(0, 5999) AS g`;

describe('LedgerQueries.analyticsReport (PostgreSQL)', () => {
  let pg: TestPostgres;
  let opened: OpenedDataSource;
  let queries: LedgerQueries;

  beforeAll(async () => {
    pg = await startPostgres();
    opened = await openDataSource({
      databaseUrl: pg.url,
      dataDir: '/nonexistent',
      migrations: LEDGER_MIGRATIONS,
      poolSize: 2,
    });
    const ds = opened.dataSource;
    await ds.query(`CREATE TABLE truth AS ${ROWS}`);
    await ds.query(`WITH src AS (SELECT truth.*, 1 AS sign FROM truth), ${aggregateCtes('src')} SELECT 1`);
    // A re-priced row: removed and added back with another cost, as the projection does (sign -1, then +1).
    await ds.query(
      `WITH src AS (SELECT truth.*, -1 AS sign FROM truth WHERE ts = timestamptz '2030-03-02T00:00:00Z'),
       ${aggregateCtes('src')} SELECT 1`,
    );
    await ds.query(
      `UPDATE truth SET total_cost_usd = 7.000000000001 WHERE ts = timestamptz '2030-03-02T00:00:00Z'`,
    );
    await ds.query(
      `WITH src AS (SELECT truth.*, 1 AS sign FROM truth WHERE ts = timestamptz '2030-03-02T00:00:00Z'),
       ${aggregateCtes('src')} SELECT 1`,
    );
    queries = new LedgerQueries(ds);
  }, 60_000);

  afterAll(async () => {
    await opened?.close();
    await pg?.stop();
  });

  /** The truth per group over a range of `interval` buckets, as the report must give it. */
  async function truthGroups(
    groupBy: AnalyticsGroup[],
    from: string,
    to: string,
    interval: 'hour' | 'day',
    tenant?: string,
  ): Promise<{ key: string; requests: number; tokens: number; cost: string; unpriced: number }[]> {
    const exprs = groupBy.map((g) => (g.startsWith('dim:') ? `dims->>'${g.slice(4)}'` : g));
    const dimWhere = groupBy
      .filter((g) => g.startsWith('dim:'))
      .map((g) => ` AND dims ? '${g.slice(4)}'`)
      .join('');
    const key = exprs.length ? `concat_ws('|', ${exprs.join(', ')})` : "''";
    return opened.dataSource.query(
      `SELECT ${key} AS key, count(*)::int AS requests, sum(total_tokens)::int AS tokens,
         coalesce(sum(total_cost_usd), 0)::text AS cost, (count(*) FILTER (WHERE total_cost_usd IS NULL))::int AS unpriced
       FROM truth WHERE date_trunc($1, ts, 'UTC') >= $2 AND date_trunc($1, ts, 'UTC') < $3
         AND ($4::text IS NULL OR tenant_id = $4)${dimWhere}
       GROUP BY 1 ORDER BY coalesce(sum(total_cost_usd), 0) DESC, count(*) DESC, 1`,
      [interval, from, to, tenant ?? null],
    );
  }

  const num = (s: string) => new Decimal(s).toFixed();

  async function expectReport(
    groupBy: AnalyticsGroup[],
    from: string,
    to: string,
    interval: 'hour' | 'day',
    limit: number,
    tenant?: string,
  ): Promise<AnalyticsReport> {
    const report = await queries.analyticsReport({ from, to, interval, groupBy, limit, tenant_id: tenant });
    const truth = await truthGroups(groupBy, from, to, interval, tenant);
    const keyOf = (g: Record<string, string>) => groupBy.map((n) => g[n]).join('|');
    expect(report.groups_total).toBe(groupBy.length ? truth.length : Math.min(truth.length, 1));
    const top = truth.slice(0, limit);
    const rest = truth.slice(limit);
    const want = top.map((t) => [t.key, t.requests, t.tokens, num(t.cost), t.unpriced]);
    if (rest.length && groupBy.length) {
      const sum = (f: (t: (typeof truth)[number]) => number) => rest.reduce((a, t) => a + f(t), 0);
      const cost = (
        await opened.dataSource.query(
          `SELECT (${rest.map((t) => `${t.cost}::numeric`).join(' + ')})::text AS c`,
        )
      )[0].c as string;
      want.push([
        groupBy.map(() => '(other)').join('|'),
        sum((t) => t.requests),
        sum((t) => t.tokens),
        num(cost),
        sum((t) => t.unpriced),
      ]);
    }
    expect(
      report.groups.map((g) => [
        keyOf(g.group),
        g.requests,
        g.total_tokens,
        num(g.cost_usd),
        g.unpriced_requests,
      ]),
    ).toEqual(want);
    expect(report.groups.every((g) => /^\d+\.\d{9,}$/.test(g.cost_usd))).toBe(true);
    // Totals are the sum of the groups; the series sums to them too, per group.
    const all = truth.reduce((a, t) => a + t.requests, 0);
    expect(report.totals.requests).toBe(all);
    for (const g of report.groups) {
      const points = report.series.filter((s) => keyOf(s.group) === keyOf(g.group));
      expect(points.reduce((a, s) => a + s.requests, 0)).toBe(g.requests);
      expect(points.reduce((a, s) => a + s.total_tokens, 0)).toBe(g.total_tokens);
      const cost = points.length
        ? ((
            await opened.dataSource.query(
              `SELECT (${points.map((p) => `${p.cost_usd}::numeric`).join(' + ')})::text AS c`,
            )
          )[0].c as string)
        : '0';
      expect(num(cost)).toBe(num(g.cost_usd));
      expect(points.every((p) => (p.other === true) === (g.other === true))).toBe(true);
    }
    // Buckets ascend; within a bucket the groups come in the groups' order, `other` last.
    const order = new Map(report.groups.map((g, i) => [keyOf(g.group), i]));
    for (let i = 1; i < report.series.length; i++) {
      const [a, b] = [report.series[i - 1], report.series[i]];
      expect(a.bucket_start <= b.bucket_start).toBe(true);
      if (a.bucket_start === b.bucket_start)
        expect(order.get(keyOf(a.group))!).toBeLessThan(order.get(keyOf(b.group))!);
    }
    return report;
  }

  const FROM = '2030-03-01T00:00:00Z';
  const TO = '2030-03-05T00:00:00Z';

  it.each<[AnalyticsGroup[], number]>([
    [[], 10],
    [['provider'], 10],
    [['model'], 5],
    [['provider', 'model'], 4],
    [['api_key_id'], 7],
    [['api_key_id', 'model'], 10],
    [['tenant_id'], 2],
    [['tenant_id', 'api_key_id', 'provider', 'model'], 3],
    [['dim:team'], 3],
    [['dim:user'], 10],
    [['tenant_id', 'dim:user'], 6],
  ])('group by %j, limit %d: top groups, exact other, series that sum to them', async (groupBy, limit) => {
    for (const interval of ['hour', 'day'] as const) await expectReport(groupBy, FROM, TO, interval, limit);
  });

  it('ragged hourly ranges read the same buckets as the hourly rows would', async () => {
    const r = await expectReport(['model'], '2030-03-01T05:30:00Z', '2030-03-03T07:00:01Z', 'hour', 4);
    expect(r.series[0].bucket_start).toBe('2030-03-01T06:00:00.000Z');
    expect(r.series[r.series.length - 1].bucket_start).toBe('2030-03-03T07:00:00.000Z');
    await expectReport(['dim:user'], '2030-03-02T22:00:00Z', '2030-03-03T02:00:00Z', 'hour', 3, 't1');
  });

  it('one tenant', async () => {
    await expectReport(['api_key_id'], FROM, TO, 'hour', 3, 't2');
    await expectReport(['dim:team'], FROM, TO, 'day', 2, 't3');
  });

  it('no other when every group fits; nothing in an empty range', async () => {
    const r = await expectReport(['provider'], FROM, TO, 'day', 3);
    expect(r.groups.some((g) => g.other)).toBe(false);
    expect(r.groups_total).toBe(3);
    const empty = await queries.analyticsReport({
      from: '2031-01-01T00:00:00Z',
      to: '2031-01-02T00:00:00Z',
      interval: 'hour',
      groupBy: ['model'],
    });
    expect(empty).toMatchObject({
      groups: [],
      series: [],
      groups_total: 0,
      totals: { requests: 0, cost_usd: '0.000000000' },
    });
  });

  it('refuses what it cannot answer, naming the parameter', async () => {
    const err = (q: Partial<Parameters<LedgerQueries['analyticsReport']>[0]>) =>
      queries
        .analyticsReport({ from: FROM, to: TO, interval: 'hour', ...q })
        .catch((e: LedgerFilterError) => e.param);
    expect(await err({ limit: 0 })).toBe('limit');
    expect(await err({ limit: 1001 })).toBe('limit');
    expect(await err({ limit: 2.5 })).toBe('limit');
    expect(await err({ to: '2030-06-01T00:00:00Z' })).toBe('interval');
    expect(ANALYTICS_MAX_BUCKETS).toBeGreaterThanOrEqual(24 * 31);
    expect(await err({ groupBy: ['provider', 'provider'] })).toBe('group_by');
    expect(await err({ groupBy: ['dim:a', 'model'] })).toBe('group_by');
  });
});
