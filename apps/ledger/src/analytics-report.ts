// Analytics at volume: totals and the groups of a range come from the coarsest rows that cover it (whole days
// from the daily rows, only the ragged edges of an hourly range from the hourly ones), and the time series is
// capped to the `limit` costliest groups plus one `other` group, so an answer stays a few thousand rows however
// many keys, models or dimension values the range holds. Costs stay exact: sums are NUMERIC in PostgreSQL and
// `other` is total minus the top groups in decimal.js.
import Decimal from 'decimal.js';
import type { DataSource } from 'typeorm';
import {
  ANALYTICS_OTHER_GROUP,
  type AnalyticsGroup,
  type AnalyticsGroupTotals,
  type AnalyticsReport,
  type AnalyticsReportRequest,
  type AnalyticsRequest,
  type AnalyticsSeriesBucket,
  type AnalyticsTotals,
} from '@spendops/contracts';
import { AGGREGATE_TABLES } from './projections/usage-aggregates.sql';
import { formatCost } from './usage-view.mapper';

/** Thrown for a query the ledger cannot answer; `param` names the query parameter at fault. */
export type FilterErrorFactory = (param: string, message: string) => Error;

export const ANALYTICS_DEFAULT_LIMIT = 10;
export const ANALYTICS_MAX_LIMIT = 1000;
/** The most buckets one answer may have: 62 days hourly, about 4 years daily. */
export const ANALYTICS_MAX_BUCKETS = 1500;

const HOUR = 3_600_000;
const DAY = 86_400_000;
const COUNTS = [
  'requests',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'unpriced_requests',
] as const;
const MEASURES = [...COUNTS, 'cost_usd'] as const;

/** Which aggregate table answers a query, with which filter and grouping columns. */
export interface AnalyticsPlan {
  interval: 'hour' | 'day';
  from: Date;
  to: Date;
  table: string;
  /** Grouping columns of `table`, in the order of the request (a dimension's value is `dim_value`). */
  groupCols: string[];
  /** The API's name of each grouping column (`dim:<key>` for dim_value). */
  groupNames: string[];
  dimKey: string | null;
  tenantId: string | null;
}

function parseTime(param: string, value: string, fail: FilterErrorFactory): Date {
  // An unescaped "+01:00" offset arrives as " 01:00"; take it as meant.
  const v = value.replace(/ /g, '+');
  const ok = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(v);
  const d = new Date(v);
  if (!ok || Number.isNaN(d.getTime()))
    throw fail(param, 'want an RFC 3339 time such as 2026-01-02T15:04:05Z');
  return d;
}

const ceilTo = (ms: number, unit: number): number => Math.ceil(ms / unit) * unit;

/** Validates a request and picks the smallest aggregate table that has every grouping column. */
export function planAnalytics(query: AnalyticsRequest, fail: FilterErrorFactory): AnalyticsPlan {
  const from = parseTime('from', query.from, fail);
  const to = parseTime('to', query.to, fail);
  if (from >= to) throw fail('to', 'must be after from');
  if (query.interval !== 'hour' && query.interval !== 'day') throw fail('interval', 'want hour or day');
  const groupBy: AnalyticsGroup[] = query.groupBy ?? [];
  const dimKeys = groupBy.filter((g) => g.startsWith('dim:')).map((g) => g.slice(4));
  if (dimKeys.length > 1) throw fail('group_by', 'at most one dimension');
  const fixed = groupBy.filter((g) => !g.startsWith('dim:'));
  for (const g of fixed)
    if (!['tenant_id', 'api_key_id', 'provider', 'model'].includes(g)) throw fail('group_by', `unknown ${g}`);
  if (new Set(groupBy).size !== groupBy.length) throw fail('group_by', 'a group is named twice');
  if (dimKeys.length === 1 && fixed.some((g) => g !== 'tenant_id'))
    throw fail('group_by', 'a dimension groups only with tenant_id');
  const dimKey = dimKeys.length === 1 ? dimKeys[0] : null;
  const table = dimKey
    ? 'usage_dim_aggregates'
    : AGGREGATE_TABLES.find((t) => fixed.every((g) => t.keys.includes(g)))!.table;
  return {
    interval: query.interval,
    from,
    to,
    table,
    groupCols: groupBy.map((g) => (g.startsWith('dim:') ? 'dim_value' : g)),
    groupNames: [...groupBy],
    dimKey,
    tenantId: query.tenant_id ?? null,
  };
}

/** Buckets of the plan's interval that start in [from, to). */
export function bucketCount(plan: AnalyticsPlan): number {
  const unit = plan.interval === 'hour' ? HOUR : DAY;
  return (ceilTo(plan.to.getTime(), unit) - ceilTo(plan.from.getTime(), unit)) / unit;
}

/**
 * The same buckets as the plan's interval covers, as few rows as possible: [bucket, from, to) pieces. An hourly
 * range is its whole days from the daily rows plus its first and last partial days from the hourly ones (a day's
 * row is the sum of its hours' rows, by construction of the projection).
 */
export function coveringPieces(plan: AnalyticsPlan): [bucket: 'hour' | 'day', from: Date, to: Date][] {
  if (plan.interval === 'day') return [['day', plan.from, plan.to]];
  const h1 = ceilTo(plan.from.getTime(), HOUR);
  const h2 = ceilTo(plan.to.getTime(), HOUR);
  const d1 = ceilTo(h1, DAY);
  const d2 = Math.floor(h2 / DAY) * DAY;
  if (d1 >= d2) return [['hour', new Date(h1), new Date(h2)]];
  const pieces: [bucket: 'hour' | 'day', from: Date, to: Date][] = [['day', new Date(d1), new Date(d2)]];
  if (h1 < d1) pieces.push(['hour', new Date(h1), new Date(d1)]);
  if (d2 < h2) pieces.push(['hour', new Date(d2), new Date(h2)]);
  return pieces;
}

const zeroTotals = (): AnalyticsTotals => ({
  ...(Object.fromEntries(COUNTS.map((c) => [c, 0])) as Record<(typeof COUNTS)[number], number>),
  cost_usd: '0.000000000',
});

function totalsOf(row: Record<string, unknown>, prefix = ''): AnalyticsTotals {
  const out = zeroTotals();
  for (const c of COUNTS) out[c] = Number(row[prefix + c]);
  out.cost_usd = formatCost(row[`${prefix}cost_usd`] as string) ?? '0.000000000';
  return out;
}

function minus(a: AnalyticsTotals, parts: AnalyticsTotals[]): AnalyticsTotals {
  const out = { ...a };
  let cost = new Decimal(a.cost_usd);
  for (const p of parts) {
    for (const c of COUNTS) out[c] -= p[c];
    cost = cost.minus(p.cost_usd);
  }
  out.cost_usd = formatCost(cost.toFixed()) ?? '0.000000000';
  return out;
}

export class AnalyticsReports {
  constructor(
    private readonly dataSource: DataSource,
    private readonly fail: FilterErrorFactory,
  ) {}

  async report(query: AnalyticsReportRequest): Promise<AnalyticsReport> {
    const plan = planAnalytics(query, this.fail);
    const limit = query.limit ?? ANALYTICS_DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > ANALYTICS_MAX_LIMIT)
      throw this.fail('limit', `want an integer from 1 to ${ANALYTICS_MAX_LIMIT}`);
    const buckets = bucketCount(plan);
    if (buckets > ANALYTICS_MAX_BUCKETS)
      throw this.fail(
        'interval',
        `${buckets} ${plan.interval === 'hour' ? 'hourly' : 'daily'} buckets asked; at most ${ANALYTICS_MAX_BUCKETS}` +
          (plan.interval === 'hour' ? ': use interval=day or a shorter range' : ': use a shorter range'),
      );
    const { top, groupsTotal, totals } = await this.groups(plan, limit);
    const truncated = groupsTotal > top.length;
    const series = await this.series(plan, top, truncated);
    const groups: AnalyticsGroupTotals[] = [...top];
    if (truncated) groups.push({ group: this.otherGroup(plan), other: true, ...minus(totals, top) });
    return { totals, groups, series, groups_total: groupsTotal, limit };
  }

  private otherGroup(plan: AnalyticsPlan): Record<string, string> {
    return Object.fromEntries(plan.groupNames.map((n) => [n, ANALYTICS_OTHER_GROUP]));
  }

  /** `AND ...` conditions of the dimension key and tenant, on columns prefixed with `alias`. */
  private filters(plan: AnalyticsPlan, params: unknown[], alias = ''): string {
    let where = '';
    if (plan.dimKey !== null) {
      params.push(plan.dimKey);
      where += ` AND ${alias}dim_key = $${params.length}`;
    }
    if (plan.tenantId) {
      params.push(plan.tenantId);
      where += ` AND ${alias}tenant_id = $${params.length}`;
    }
    return where;
  }

  /** The top `limit` groups of the range, how many groups there are, and the range's totals: one statement. */
  private async groups(
    plan: AnalyticsPlan,
    limit: number,
  ): Promise<{ top: AnalyticsGroupTotals[]; groupsTotal: number; totals: AnalyticsTotals }> {
    const params: unknown[] = [];
    const filters = this.filters(plan, params);
    const cols = plan.groupCols;
    const pieces = coveringPieces(plan).map(([bucket, from, to]) => {
      params.push(bucket, from, to);
      const n = params.length;
      return `SELECT ${[...cols, ...MEASURES].join(', ')} FROM ${plan.table}
        WHERE bucket = $${n - 2} AND bucket_start >= $${n - 1} AND bucket_start < $${n}${filters}`;
    });
    params.push(limit);
    const sums = MEASURES.map((m) => `sum(${m}) AS ${m}`).join(', ');
    const texts = MEASURES.map((m) => `${m}::text, (sum(${m}) OVER ())::text AS total_${m}`).join(', ');
    // Qualified: the bare names would sort by the selected text columns.
    const order = ['g.cost_usd DESC', 'g.requests DESC', ...cols.map((c) => `g.${c}`)].join(', ');
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `WITH g AS (
         SELECT ${[...cols, sums].join(', ')} FROM (${pieces.join(' UNION ALL ')}) r
         ${cols.length ? `GROUP BY ${cols.join(', ')}` : ''} HAVING sum(requests) <> 0)
       SELECT ${[...cols, texts].join(', ')}, count(*) OVER () AS groups_total
       FROM g ORDER BY ${order} LIMIT $${params.length}`,
      params,
    );
    if (rows.length === 0) return { top: [], groupsTotal: 0, totals: zeroTotals() };
    const top = rows.map((r) => ({
      group: Object.fromEntries(plan.groupNames.map((n, i) => [n, r[cols[i]] as string])),
      ...totalsOf(r),
    }));
    return { top, groupsTotal: Number(rows[0].groups_total), totals: totalsOf(rows[0], 'total_') };
  }

  /**
   * Per bucket and group, ascending by bucket then by the groups' order; when `truncated`, only the top groups and
   * one `other` row per bucket summing the rest. PostgreSQL builds the whole series as one JSON array (parsed once
   * here): mapping thousands of rows field by field in JavaScript cost more than the query.
   */
  private async series(
    plan: AnalyticsPlan,
    top: AnalyticsGroupTotals[],
    truncated: boolean,
  ): Promise<AnalyticsSeriesBucket[]> {
    const params: unknown[] = [plan.interval, plan.from, plan.to];
    const filters = this.filters(plan, params, 'a.');
    const cols = plan.groupCols;
    const where = `a.bucket = $1 AND a.bucket_start >= $2 AND a.bucket_start < $3${filters}`;
    // The listed groups as parallel arrays, numbered in their order (ORDINALITY = rank).
    const arrays = cols.map((_, i) => {
      params.push(top.map((g) => g.group[plan.groupNames[i]]));
      return `$${params.length}::text[]`;
    });
    const names = plan.groupNames.map((n) => {
      params.push(n);
      return `$${params.length}::text`;
    });
    const groups = cols.length
      ? `unnest(${arrays.join(', ')}) WITH ORDINALITY AS t(${cols.join(', ')}, rank)`
      : '(SELECT 1::bigint AS rank) t';
    const on = cols.length ? cols.map((c) => `a.${c} = t.${c}`).join(' AND ') : 'true';
    const plain = MEASURES.map((m) => `sum(a.${m}) AS ${m}`).join(', ');
    const point = (s: string, group: string, extra = '') =>
      `json_build_object('bucket_start', (extract(epoch FROM ${s}.bucket_start) * 1000)::bigint,
         'group', ${group}, ${COUNTS.map((m) => `'${m}', ${s}.${m}`).join(', ')},
         'cost_usd', round(${s}.cost_usd, greatest(scale(${s}.cost_usd), 9))::text${extra})`;
    const listedGroup = `json_build_object(${names.map((n, i) => `${n}, s.${cols[i]}`).join(', ')})`;
    let sql: string;
    if (!truncated) {
      // Every group: one scan of the range; the join to the groups only numbers them.
      const keys = ['a.bucket_start', ...cols.map((c) => `a.${c}`)].join(', ');
      sql = `SELECT json_agg(${point('s', listedGroup)} ORDER BY s.bucket_start, s.rank) AS series FROM (
           SELECT ${keys}, min(t.rank) AS rank, ${plain} FROM ${plan.table} a JOIN ${groups} ON ${on}
           WHERE ${where} GROUP BY ${keys} HAVING sum(a.requests) <> 0) s`;
    } else {
      // The top groups' rows, read through an index leading with the grouping columns (LATERAL: one index range
      // scan per top group, where a join was planned as a scan of the whole range); `other` per bucket is the
      // bucket's total minus them (exact: NUMERIC and bigint arithmetic).
      const totalsTable = plan.dimKey !== null ? 'usage_dim_key_totals' : 'usage_totals';
      const rest = MEASURES.map((m) => `a.${m} - coalesce(x.${m}, 0) AS ${m}`).join(', ');
      const topSums = MEASURES.map((m) => `sum(${m}) AS ${m}`).join(', ');
      const otherGroup = `json_build_object(${names.map((n) => `${n}, '${ANALYTICS_OTHER_GROUP}'`).join(', ')})`;
      sql = `WITH top AS (
           SELECT x.*, t.rank, ${cols.map((c) => `t.${c}`).join(', ')}
           FROM ${groups}
           CROSS JOIN LATERAL (
             SELECT a.bucket_start, ${plain} FROM ${plan.table} a
             WHERE ${on} AND ${where} GROUP BY a.bucket_start) x),
         total AS (
           SELECT a.bucket_start, ${plain} FROM ${totalsTable} a WHERE ${where} GROUP BY a.bucket_start),
         top_sum AS (SELECT bucket_start, ${topSums} FROM top GROUP BY bucket_start),
         rest AS (
           SELECT a.bucket_start, ${rest} FROM total a LEFT JOIN top_sum x USING (bucket_start))
         SELECT json_agg(p.point ORDER BY p.bucket_start, p.rank NULLS LAST) AS series FROM (
           SELECT s.bucket_start, s.rank, ${point('s', listedGroup)} AS point FROM top s WHERE s.requests <> 0
           UNION ALL
           SELECT s.bucket_start, NULL, ${point('s', otherGroup, ", 'other', true")}
           FROM rest s WHERE s.requests <> 0) p`;
    }
    const [row] = (await this.dataSource.query(sql, params)) as {
      series: (Omit<AnalyticsSeriesBucket, 'bucket_start'> & { bucket_start: number | string })[] | null;
    }[];
    // Bucket starts come as epoch milliseconds (to_char per point cost more than this): each distinct one is
    // formatted once.
    const iso = new Map<number, string>();
    const series = row.series ?? [];
    for (const point of series) {
      const ms = point.bucket_start as number;
      let text = iso.get(ms);
      if (text === undefined) iso.set(ms, (text = new Date(ms).toISOString()));
      point.bucket_start = text;
    }
    return series as AnalyticsSeriesBucket[];
  }
}
