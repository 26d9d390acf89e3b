// Analytics from the aggregates: the time series as stored, plus totals overall and per group.
import { Inject, Injectable } from '@nestjs/common';
import Decimal from 'decimal.js';
import {
  USAGE_READ_MODEL,
  type AnalyticsBucket,
  type AnalyticsGroup,
  type UsageReadModel,
} from '@spendops/contracts';
import { badParam } from '../common/api-error';
import { readModelCall } from '../common/read-model-errors';
import { timeRange } from '../common/query';
import type { AnalyticsQueryDto } from './analytics-query.dto';

const FIXED_GROUPS = ['tenant_id', 'api_key_id', 'provider', 'model'];
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

export type AnalyticsTotals = Omit<AnalyticsBucket, 'bucket_start' | 'group'>;

export interface AnalyticsResponse {
  from: string;
  to: string;
  interval: 'hour' | 'day';
  group_by: AnalyticsGroup[];
  totals: AnalyticsTotals;
  groups: ({ group: Record<string, string> } & AnalyticsTotals)[];
  series: AnalyticsBucket[];
}

export function parseGroupBy(text: string | undefined): AnalyticsGroup[] {
  if (!text) return [];
  return text.split(',').map((raw) => {
    const g = raw.trim();
    if (FIXED_GROUPS.includes(g) || (g.startsWith('dim:') && g.length > 4)) return g as AnalyticsGroup;
    throw badParam(
      'group_by',
      `unknown group ${JSON.stringify(g)} (want ${FIXED_GROUPS.join(', ')} or dim:<key>)`,
    );
  });
}

/** Exact decimal string with at least 9 decimals, as costs are everywhere in the API. */
function costText(d: Decimal): string {
  const [int, frac = ''] = d.toFixed().split('.');
  return `${int}.${frac.padEnd(9, '0')}`;
}

function sum(rows: AnalyticsBucket[]): AnalyticsTotals {
  const out = Object.fromEntries(COUNTS.map((c) => [c, 0])) as Record<(typeof COUNTS)[number], number>;
  let cost = new Decimal(0);
  for (const r of rows) {
    for (const c of COUNTS) out[c] += r[c];
    cost = cost.plus(r.cost_usd);
  }
  return { ...out, cost_usd: costText(cost) };
}

@Injectable()
export class AnalyticsService {
  constructor(@Inject(USAGE_READ_MODEL) private readonly readModel: UsageReadModel) {}

  async query(q: AnalyticsQueryDto): Promise<AnalyticsResponse> {
    const { from = q.from, to = q.to } = timeRange(q.from, q.to);
    const groupBy = parseGroupBy(q.group_by);
    const interval = q.interval ?? 'day';
    const series = await readModelCall(() =>
      this.readModel.analytics({
        from,
        to,
        interval,
        groupBy,
        tenant_id: q.tenant_id || undefined,
      }),
    );
    const byGroup = new Map<string, AnalyticsBucket[]>();
    for (const row of series) {
      const key = JSON.stringify(groupBy.map((g) => row.group[g] ?? ''));
      byGroup.set(key, [...(byGroup.get(key) ?? []), row]);
    }
    const groups = [...byGroup.values()]
      .map((rows) => ({ group: rows[0].group, ...sum(rows) }))
      .sort((a, b) => new Decimal(b.cost_usd).cmp(a.cost_usd) || b.requests - a.requests);
    return { from, to, interval, group_by: groupBy, totals: sum(series), groups, series };
  }
}
