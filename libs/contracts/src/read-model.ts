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
