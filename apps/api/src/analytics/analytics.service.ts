// Analytics from the aggregates: totals, the costliest groups (the rest summed as `other`) and their series.
import { Inject, Injectable } from '@nestjs/common';
import {
  USAGE_READ_MODEL,
  type AnalyticsGroup,
  type AnalyticsGroupTotals,
  type AnalyticsSeriesBucket,
  type AnalyticsTotals,
  type UsageReadModel,
} from '@spendops/contracts';
import { badParam } from '../common/api-error';
import { readModelCall } from '../common/read-model-errors';
import { timeRange } from '../common/query';
import type { AnalyticsQueryDto } from './analytics-query.dto';

const FIXED_GROUPS = ['tenant_id', 'api_key_id', 'provider', 'model'];
/** `interval=auto`: hourly up to this range, daily beyond. */
export const AUTO_HOURLY_UP_TO_MS = 2 * 86_400_000;

export type { AnalyticsTotals };

export interface AnalyticsResponse {
  from: string;
  to: string;
  interval: 'hour' | 'day';
  group_by: AnalyticsGroup[];
  /** The most groups listed (and given a series) before the rest are summed in one `other` group. */
  limit: number;
  /** Distinct groups in the range, before the limit. */
  groups_total: number;
  totals: AnalyticsTotals;
  groups: AnalyticsGroupTotals[];
  series: AnalyticsSeriesBucket[];
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

function parseLimit(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text)) throw badParam('limit', 'want a positive integer');
  return Number(text);
}

@Injectable()
export class AnalyticsService {
  constructor(@Inject(USAGE_READ_MODEL) private readonly readModel: UsageReadModel) {}

  async query(q: AnalyticsQueryDto): Promise<AnalyticsResponse> {
    const { from = q.from, to = q.to } = timeRange(q.from, q.to);
    const groupBy = parseGroupBy(q.group_by);
    const interval =
      q.interval === 'auto'
        ? Date.parse(to) - Date.parse(from) <= AUTO_HOURLY_UP_TO_MS
          ? 'hour'
          : 'day'
        : (q.interval ?? 'day');
    const report = await readModelCall(() =>
      this.readModel.analyticsReport({
        from,
        to,
        interval,
        groupBy,
        tenant_id: q.tenant_id || undefined,
        limit: parseLimit(q.limit),
      }),
    );
    return {
      from,
      to,
      interval,
      group_by: groupBy,
      limit: report.limit,
      groups_total: report.groups_total,
      totals: report.totals,
      groups: report.groups,
      series: report.series,
    };
  }
}
