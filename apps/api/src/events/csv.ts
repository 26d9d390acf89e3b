// CSV of EVENT and DENIAL rows: a fixed header of the JSON field names (no first pass over the rows to learn
// dimension keys), empty cells for null, objects (dims, raw_usage) as JSON text, costs as their exact strings.
import type { RequestDeniedV1, UsageEventView } from '@spendops/contracts';

export const EVENT_FIELDS = [
  'request_id',
  'ts',
  'tenant_id',
  'api_key_id',
  'provider',
  'method',
  'endpoint',
  'endpoint_class',
  'model',
  'response_model',
  'generation_id',
  'service_tier',
  'stream',
  'stream_usage_injected',
  'outcome',
  'usage_source',
  'http_status',
  'dims',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'cache_write_5m_tokens',
  'cache_write_1h_tokens',
  'reasoning_tokens',
  'prompt_audio_tokens',
  'prompt_image_tokens',
  'completion_audio_tokens',
  'completion_image_tokens',
  'web_search_requests',
  'image_count',
  'image_size',
  'image_quality',
  'audio_seconds',
  'input_characters',
  'provider_cost',
  'calculated_cost',
  'total_cost_usd',
  'cost_source',
  'pricing_matched',
  'pricing_model',
  'pricing_version',
  'started_at_ms',
  'first_byte_at_ms',
  'ended_at_ms',
  'raw_usage',
] as const satisfies readonly (keyof UsageEventView)[];

export const DENIAL_FIELDS = [
  'request_id',
  'ts',
  'type',
  'reason',
  'http_status',
  'tenant_id',
  'api_key_id',
  'provider',
  'path',
  'dims',
] as const satisfies readonly (keyof RequestDeniedV1)[];

/** One cell, quoted as RFC 4180 (and Go's encoding/csv) do. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]|^\s/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: readonly unknown[]): string {
  return cells.map(csvCell).join(',') + '\n';
}

export function csvRecord(fields: readonly string[], row: object): string {
  const r = row as Record<string, unknown>;
  return csvLine(fields.map((f) => r[f]));
}
