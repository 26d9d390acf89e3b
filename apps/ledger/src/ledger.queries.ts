// The read side: filtered, keyset-paginated events and denials, and analytics from the aggregates.
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type {
  AnalyticsBucket,
  AnalyticsGroup,
  AnalyticsReport,
  AnalyticsReportRequest,
  AnalyticsRequest,
  EventFilter,
  RequestDeniedV1,
  UsageEventView,
} from '@spendops/contracts';
import { AnalyticsReports, planAnalytics } from './analytics-report';
import { VIEW_COLUMNS, denialFromRow, formatCost, viewFromRow } from './usage-view.mapper';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/** The read model's filter (libs/contracts' EventFilter): every field optional; limit default 100, max 1000;
 * order default desc; `next` continues only a query of the same order; a model filter on denials is an error. */
export type LedgerFilter = EventFilter;

/** A filter the ledger cannot apply; `param` names the query parameter at fault (a 400 for the API). */
export class LedgerFilterError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(`invalid ${param}: ${message}`);
    this.name = 'LedgerFilterError';
  }
}

const filterError = (param: string, message: string): Error => new LedgerFilterError(param, message);

export interface Page<T> {
  items: T[];
  next: string | null;
}

export type AnalyticsDimension = AnalyticsGroup;

export type AnalyticsQuery = AnalyticsRequest;

export type AnalyticsRow = AnalyticsBucket;

const CURSOR_VERSION = 'v1';

export function encodeCursor(asc: boolean, tsMicros: string, requestId: string): string {
  return Buffer.from([CURSOR_VERSION, asc ? 'a' : 'd', tsMicros, requestId].join('\u0000')).toString(
    'base64url',
  );
}

function decodeCursor(cursor: string, asc: boolean): { ts: string; id: string } {
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split('\u0000');
  if (
    parts.length !== 4 ||
    parts[0] !== CURSOR_VERSION ||
    !['a', 'd'].includes(parts[1]) ||
    !/^-?\d+$/.test(parts[2])
  )
    throw new LedgerFilterError('next', 'malformed cursor');
  if ((parts[1] === 'a') !== asc)
    throw new LedgerFilterError('next', 'cursor belongs to a query of the other order');
  return { ts: parts[2], id: parts[3] };
}

function parseTime(param: string, value: string): Date {
  // An unescaped "+01:00" offset arrives as " 01:00"; take it as meant.
  const v = value.replace(/ /g, '+');
  const ok = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(v);
  const d = new Date(v);
  if (!ok || Number.isNaN(d.getTime()))
    throw new LedgerFilterError(param, 'want an RFC 3339 time such as 2026-01-02T15:04:05Z');
  return d;
}

interface Table {
  name: string;
  columns: string;
  events: boolean;
}

const EVENTS: Table = {
  name: 'usage_events_view',
  columns: VIEW_COLUMNS.map((c) => `e.${c}`).join(', '),
  events: true,
};
const DENIALS: Table = {
  name: 'denials_view',
  columns:
    'e.request_id, e.ts, e.type, e.reason, e.http_status, e.tenant_id, e.api_key_id, e.provider, e.path, e.dims',
  events: false,
};

@Injectable()
export class LedgerQueries {
  private readonly reports: AnalyticsReports;

  constructor(private readonly dataSource: DataSource) {
    this.reports = new AnalyticsReports(dataSource, filterError);
  }

  async findEvents(filter: LedgerFilter = {}): Promise<{ events: UsageEventView[]; next: string | null }> {
    const page = await this.page(EVENTS, filter, viewFromRow);
    return { events: page.items, next: page.next };
  }

  async findDenials(filter: LedgerFilter = {}): Promise<{ denials: RequestDeniedV1[]; next: string | null }> {
    const page = await this.page(DENIALS, filter, denialFromRow);
    return { denials: page.items, next: page.next };
  }

  /** Every (bucket, group) row of a range, uncapped (the report below caps the series for the API). */
  async analytics(query: AnalyticsQuery): Promise<AnalyticsRow[]> {
    const plan = planAnalytics(query, filterError);
    const params: unknown[] = [plan.interval, plan.from, plan.to];
    let where = 'bucket = $1 AND bucket_start >= $2 AND bucket_start < $3';
    if (plan.dimKey !== null) {
      params.push(plan.dimKey);
      where += ` AND dim_key = $${params.length}`;
    }
    if (plan.tenantId) {
      params.push(plan.tenantId);
      where += ` AND tenant_id = $${params.length}`;
    }
    const groupCols = plan.groupCols;
    const sums = [
      'requests',
      'prompt_tokens',
      'completion_tokens',
      'total_tokens',
      'cache_read_tokens',
      'cache_write_tokens',
      'reasoning_tokens',
      'unpriced_requests',
    ];
    // Milliseconds, not a timestamptz: parsing tens of thousands of timestamps into Dates was a large part of a
    // big result's time; each distinct bucket is converted once below.
    const select = [
      '(extract(epoch FROM bucket_start) * 1000)::bigint::text AS bucket_ms',
      ...groupCols,
      ...sums.map((s) => `sum(${s})::text AS ${s}`),
      'sum(cost_usd)::text AS cost_usd',
    ].join(', ');
    const group = ['bucket_start', ...groupCols].join(', ');
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT ${select} FROM ${plan.table} WHERE ${where} GROUP BY ${group} HAVING sum(requests) <> 0 ORDER BY ${group}`,
      params,
    );
    const iso = new Map<string, string>();
    const bucketStart = (ms: string): string => {
      let text = iso.get(ms);
      if (text === undefined) iso.set(ms, (text = new Date(Number(ms)).toISOString()));
      return text;
    };
    return rows.map((r) => {
      const g: Record<string, string> = {};
      groupCols.forEach((c, i) => (g[plan.groupNames[i]] = r[c] as string));
      return {
        bucket_start: bucketStart(r.bucket_ms as string),
        group: g,
        requests: Number(r.requests),
        prompt_tokens: Number(r.prompt_tokens),
        completion_tokens: Number(r.completion_tokens),
        total_tokens: Number(r.total_tokens),
        cache_read_tokens: Number(r.cache_read_tokens),
        cache_write_tokens: Number(r.cache_write_tokens),
        reasoning_tokens: Number(r.reasoning_tokens),
        cost_usd: formatCost(r.cost_usd as string) ?? '0.000000000',
        unpriced_requests: Number(r.unpriced_requests),
      };
    });
  }

  /**
   * Totals, the top `limit` groups (+ `other`) and their series, read from the coarsest aggregate rows that
   * cover the range (see analytics-report.ts): what GET /api/v1/analytics answers.
   */
  analyticsReport(query: AnalyticsReportRequest): Promise<AnalyticsReport> {
    return this.reports.report(query);
  }

  private async page<T>(
    table: Table,
    f: LedgerFilter,
    map: (row: Record<string, unknown>) => T,
  ): Promise<Page<T>> {
    if (!table.events && f.model) throw new LedgerFilterError('model', 'denials have no model');
    if (f.limit !== undefined && (!Number.isInteger(f.limit) || f.limit < 1))
      throw new LedgerFilterError('limit', 'want a positive integer');
    if (f.order !== undefined && f.order !== 'asc' && f.order !== 'desc')
      throw new LedgerFilterError('order', 'want asc or desc');
    const limit = Math.min(f.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
    const asc = f.order === 'asc';
    const from = f.from ? parseTime('from', f.from) : null;
    const to = f.to ? parseTime('to', f.to) : null;
    if (from && to && from >= to) throw new LedgerFilterError('to', 'must be after from');
    const conds: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      conds.push(sql(`$${params.length}`));
    };
    if (f.request_id) add((p) => `e.request_id = ${p}`, f.request_id);
    if (f.provider) add((p) => `e.provider = ${p}`, f.provider);
    if (f.model) add((p) => `e.model = ${p}`, f.model);
    if (f.key_id) add((p) => `e.api_key_id = ${p}`, f.key_id);
    if (f.tenant_id) add((p) => `e.tenant_id = ${p}`, f.tenant_id);
    if (f.dims && Object.keys(f.dims).length > 0) {
      if (Object.keys(f.dims).some((k) => k === ''))
        throw new LedgerFilterError('dim.', 'empty dimension key');
      add((p) => `e.dims @> ${p}::jsonb`, JSON.stringify(f.dims));
    }
    if (from) add((p) => `e.ts >= ${p}`, from);
    if (to) add((p) => `e.ts < ${p}`, to);
    if (f.next) {
      const c = decodeCursor(f.next, asc);
      params.push(c.ts, c.id);
      const [ts, id] = [`$${params.length - 1}`, `$${params.length}`];
      // Microseconds since the epoch: the cursor keeps the stored precision exactly.
      conds.push(
        `(e.ts, e.request_id) ${asc ? '>' : '<'} (to_timestamp(0) + ${ts}::bigint * interval '1 microsecond', ${id})`,
      );
    }
    const dir = asc ? 'ASC' : 'DESC';
    params.push(limit + 1);
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT ${table.columns}, (extract(epoch from e.ts) * 1000000)::bigint::text AS cursor_ts
       FROM ${table.name} e ${conds.length ? `WHERE ${conds.join(' AND ')}` : ''}
       ORDER BY e.ts ${dir}, e.request_id ${dir} LIMIT $${params.length}`,
      params,
    );
    const more = rows.length > limit;
    const kept = more ? rows.slice(0, limit) : rows;
    const last = kept[kept.length - 1];
    return {
      items: kept.map(map),
      next: more && last ? encodeCursor(asc, last.cursor_ts as string, last.request_id as string) : null,
    };
  }
}
