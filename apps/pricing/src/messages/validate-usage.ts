// Shape check of incoming usage messages: anything that can never be priced is poison (dead-lettered at once).
// Missing optional usage fields get their zero value, so trusted ingest producers may send less.
import {
  ENDPOINT_CLASSES,
  zeroTokens,
  type ExtractedUsage,
  type UsageExtractedV1,
} from '@spendops/contracts';
import { isDecimalString } from '@spendops/money';
import { PoisonMessageError } from '@spendops/messaging';

const USAGE_SOURCES = ['provider', 'estimate', 'partial', 'none'];
const OUTCOMES = ['completed', 'cancelled', 'error'];
const COUNT_FIELDS = [
  ...(Object.keys(zeroTokens()) as (keyof ExtractedUsage)[]),
  'web_search_requests',
  'image_count',
  'input_characters',
] as const;
const STRING_FIELDS = [
  'model',
  'response_model',
  'generation_id',
  'service_tier',
  'image_size',
  'image_quality',
  'extraction_note',
] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A usage message (`usage.extracted.v1` or `usage.ingest.v1`) with defaults filled, or PoisonMessageError. */
export function validateUsageMessage(payload: unknown): UsageExtractedV1 {
  const bad = (why: string): never => {
    throw new PoisonMessageError(`invalid usage message: ${why}`);
  };
  if (!isRecord(payload)) return bad('not an object');
  for (const k of ['request_id', 'tenant_id', 'provider'] as const) {
    if (typeof payload[k] !== 'string' || payload[k] === '') bad(`${k} must be a non-empty string`);
  }
  for (const k of ['api_key_id', 'method', 'endpoint', 'request_model', 'dialect'] as const) {
    if (payload[k] !== undefined && typeof payload[k] !== 'string') bad(`${k} must be a string`);
  }
  for (const k of ['http_status', 'started_at_ms', 'first_byte_at_ms', 'ended_at_ms'] as const) {
    const v = payload[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0))
      bad(`${k} must be a non-negative number`);
  }
  if (payload.outcome !== undefined && !OUTCOMES.includes(payload.outcome as string))
    bad('outcome is unknown');
  if (payload.dims !== undefined && !isRecord(payload.dims)) bad('dims must be an object');
  const u = payload.usage;
  if (!isRecord(u)) return bad('usage must be an object');
  const usage: Record<string, unknown> = { ...u };
  for (const k of COUNT_FIELDS) {
    const v = (usage[k] ??= 0);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      bad(`usage.${k} must be a non-negative integer`);
  }
  for (const k of STRING_FIELDS) {
    if (typeof (usage[k] ??= '') !== 'string') bad(`usage.${k} must be a string`);
  }
  usage.endpoint_class ??= 'other';
  if (!(ENDPOINT_CLASSES as readonly string[]).includes(usage.endpoint_class as string))
    bad('usage.endpoint_class is unknown');
  usage.usage_source ??= 'provider';
  if (!USAGE_SOURCES.includes(usage.usage_source as string)) bad('usage.usage_source is unknown');
  usage.not_billed ??= false;
  if (typeof usage.not_billed !== 'boolean') bad('usage.not_billed must be a boolean');
  usage.audio_seconds ??= '0';
  if (typeof usage.audio_seconds !== 'string' || !isDecimalString(usage.audio_seconds))
    bad('usage.audio_seconds must be a decimal string');
  usage.provider_cost ??= null;
  const pc = usage.provider_cost;
  if (pc !== null && (typeof pc !== 'string' || !isDecimalString(pc)))
    bad('usage.provider_cost must be a decimal string or null');
  usage.raw_usage ??= null;
  return {
    api_key_id: '',
    dims: {},
    dialect: 'openai-compatible',
    method: '',
    endpoint: '',
    request_model: '',
    stream: false,
    stream_usage_injected: false,
    outcome: 'completed',
    http_status: 200,
    started_at_ms: 0,
    first_byte_at_ms: 0,
    ended_at_ms: 0,
    ...(payload as Partial<UsageExtractedV1>),
    usage: usage as unknown as ExtractedUsage,
  } as UsageExtractedV1;
}
