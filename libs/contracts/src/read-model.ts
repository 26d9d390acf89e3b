// The query side's port: what the admin API reads. Implemented by the ledger's read models (LedgerQueries over
// PostgreSQL); the launcher binds the implementation, so the api app never imports the ledger app.
import type { RequestDeniedV1, UsageEventView } from './usage';

export interface EventFilter {
  request_id?: string;
  provider?: string;
  model?: string;
  key_id?: string;
  tenant_id?: string;
  /** RFC 3339; inclusive. */
  from?: string;
  /** RFC 3339; exclusive. */
  to?: string;
  dims?: Record<string, string>;
  limit?: number;
  order?: 'asc' | 'desc';
  next?: string;
}

export type AnalyticsGroup = 'tenant_id' | 'api_key_id' | 'provider' | 'model' | `dim:${string}`;

export interface AnalyticsRequest {
  from: string;
  to: string;
  interval: 'hour' | 'day';
  groupBy?: AnalyticsGroup[];
  tenant_id?: string;
}

export interface AnalyticsBucket {
  bucket_start: string;
  group: Record<string, string>;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_usd: string;
  unpriced_requests: number;
}

export interface UsageReadModel {
  findEvents(filter: EventFilter): Promise<{ events: UsageEventView[]; next: string | null }>;
  findDenials(filter: EventFilter): Promise<{ denials: RequestDeniedV1[]; next: string | null }>;
  analytics(query: AnalyticsRequest): Promise<AnalyticsBucket[]>;
  /** Totals, groups and a capped series in one answer (see AnalyticsReportRequest). */
  analyticsReport(query: AnalyticsReportRequest): Promise<AnalyticsReport>;
}

/**
 * Errors of the read model that name the query parameter at fault (the API answers 400 naming it). The ledger's
 * LedgerFilterError has this shape: `{ name: 'LedgerFilterError', param, message }`.
 */
export function isFilterError(err: unknown): err is Error & { param: string } {
  return err instanceof Error && typeof (err as { param?: unknown }).param === 'string';
}

/** Nest injection token of the process's UsageReadModel. */
export const USAGE_READ_MODEL = Symbol('USAGE_READ_MODEL');

/** The sums of a set of aggregate rows (a bucket or a group without its keys). */
export type AnalyticsTotals = Omit<AnalyticsBucket, 'bucket_start' | 'group'>;

/**
 * Analytics with the number of series capped: the `limit` costliest groups of the range (default 10), every
 * other group summed into one `other` group (its group values are ANALYTICS_OTHER_GROUP, `other: true`).
 */
export interface AnalyticsReportRequest extends AnalyticsRequest {
  limit?: number;
}

/** Group values of the group that sums every group past the limit. */
export const ANALYTICS_OTHER_GROUP = '(other)';

export interface AnalyticsGroupTotals extends AnalyticsTotals {
  group: Record<string, string>;
  /** Present (true) only on the group summing the groups past the limit. */
  other?: true;
}

export interface AnalyticsSeriesBucket extends AnalyticsBucket {
  other?: true;
}

export interface AnalyticsReport {
  totals: AnalyticsTotals;
  /** The top `limit` groups by cost (then requests, then group values), then `other` if any group is left. */
  groups: AnalyticsGroupTotals[];
  /** Per bucket (ascending), the top groups in `groups` order, then `other`; buckets without requests omitted. */
  series: AnalyticsSeriesBucket[];
  /** How many distinct groups the range has (before the limit). */
  groups_total: number;
  limit: number;
}
