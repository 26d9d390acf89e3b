// Shapes shared by every service. Field names are the wire format (snake_case where the admin API and the
// queue integrations expose them; the hosted product's usage event uses those names).

export type Outcome = 'completed' | 'cancelled' | 'error';
/** Where token counts came from. An estimate is never shown as provider-reported. */
export type UsageSource = 'provider' | 'estimate' | 'partial' | 'none';
/** Where the total cost came from. `not_billed` = zero by definition; `none` = unknown (null), never $0. */
export type CostSource = 'provider' | 'custom' | 'standard' | 'none' | 'not_billed';

export const ENDPOINT_CLASSES = [
  'chat',
  'completions',
  'responses',
  'embeddings',
  'images',
  'audio_transcription',
  'audio_translation',
  'audio_speech',
  'moderations',
  'messages',
  'count_tokens',
  'generate_content',
  'embed_content',
  'models',
  'batch',
  'other',
] as const;
export type EndpointClass = (typeof ENDPOINT_CLASSES)[number];

/**
 * Normalised token counts in OpenAI's convention whatever the provider (decisions.md, "Usage and cost"):
 * prompt = uncached + cache read + cache write (cache/audio/image fields are subsets of prompt);
 * completion includes reasoning (reasoning/audio/image fields are subsets of completion); total = sum.
 * cache_write = cache_write_5m + cache_write_1h (+ writes of unknown TTL).
 */
export interface TokenCounts {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cache_write_5m_tokens: number;
  cache_write_1h_tokens: number;
  reasoning_tokens: number;
  prompt_audio_tokens: number;
  prompt_image_tokens: number;
  completion_audio_tokens: number;
  completion_image_tokens: number;
}

export function zeroTokens(): TokenCounts {
  return {
    prompt_tokens: 0,
    completion_tokens: 0,
    total_tokens: 0,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    cache_write_5m_tokens: 0,
    cache_write_1h_tokens: 0,
    reasoning_tokens: 0,
    prompt_audio_tokens: 0,
    prompt_image_tokens: 0,
    completion_audio_tokens: 0,
    completion_image_tokens: 0,
  };
}

/** A body copy as captured by the proxy: the bytes as received (still compressed), capped with head and tail. */
export interface CapturedBody {
  /** base64 of the first bytes (all of them when not truncated). */
  head: string;
  /** base64 of the last bytes, present only when the body was longer than the cap. */
  tail?: string;
  /** Total length seen on the wire. */
  total_bytes: number;
  truncated: boolean;
}

/** Facts about a request that every later message repeats, so each stage is self-contained. */
export interface RequestMeta {
  request_id: string;
  tenant_id: string;
  api_key_id: string;
  dims: Record<string, string>;
  provider: string;
  /** Dialect of the provider definition: how its bodies are shaped. */
  dialect: ProviderDialect;
  method: string;
  /** Path relative to the provider route, without query: `/v1/chat/completions` (never the upstream's prefix). */
  endpoint: string;
  /** The model the request named (JSON body `model`, or the URL for Gemini-native paths); '' when none. */
  request_model: string;
  stream: boolean;
  /** True when SpendOps injected `stream_options.include_usage`. */
  stream_usage_injected: boolean;
  outcome: Outcome;
  http_status: number;
  started_at_ms: number;
  first_byte_at_ms: number;
  ended_at_ms: number;
}

export type ProviderDialect = 'openai-compatible' | 'anthropic' | 'gemini';

/** `usage.captured.v1` — published by the proxy after the client has its last byte. */
export interface UsageCapturedV1 extends RequestMeta {
  /** Response `Content-Encoding` (e.g. `gzip`, `br, zstd`), '' when identity. */
  content_encoding: string;
  response_content_type: string;
  request_content_type: string;
  request_body: CapturedBody;
  response_body: CapturedBody;
  /** Set when the upstream could not be reached or failed mid-body (no content, a reason). */
  upstream_error?: string;
  /** The stream's end marker was seen ([DONE], message_stop, a final Responses event, a Gemini finishReason). */
  stream_complete: boolean;
}

/** What extraction found: usage in the event convention plus what pricing needs. */
export interface ExtractedUsage extends TokenCounts {
  usage_source: UsageSource;
  endpoint_class: EndpointClass;
  /** Token-counting and read-only endpoints: zero cost with a reason. */
  not_billed: boolean;
  model: string;
  response_model: string;
  generation_id: string;
  service_tier: string;
  web_search_requests: number;
  image_count: number;
  image_size: string;
  image_quality: string;
  /** Decimal string, exact as reported ("0" when not billed by time). */
  audio_seconds: string;
  input_characters: number;
  /** Decimal USD string reported by the provider, or null. */
  provider_cost: string | null;
  /** The provider's usage object as received; null when none. */
  raw_usage: unknown;
  /** Why usage is unknown or estimated (parse failure, cut stream), '' otherwise. Never content. */
  extraction_note: string;
}

/** `usage.extracted.v1` — published by extraction. */
export interface UsageExtractedV1 extends RequestMeta {
  usage: ExtractedUsage;
}

export interface CostFields {
  /** Exact decimal USD strings, null when unknown. */
  provider_cost: string | null;
  calculated_cost: string | null;
  total_cost_usd: string | null;
  cost_source: CostSource;
  pricing_matched: boolean;
  pricing_model: string;
  pricing_version: string;
}

/** `usage.priced.v1` — published by pricing; the ledger appends it as `UsageRecorded`. */
export interface UsagePricedV1 extends RequestMeta {
  usage: ExtractedUsage;
  cost: CostFields;
  /**
   * How the usage arrived: 'ingest' when pricing consumed it from `usage.ingest.v1` (a trusted producer, not
   * the proxy); absent or 'proxy' otherwise. Pricing sets it from the topic, never from the producer's body.
   * The ledger keeps it in the event's metadata (`source`), not in the EVENT.
   */
  origin?: UsageOrigin;
}

export type UsageOrigin = 'proxy' | 'ingest';

/** `usage.ingest.v1` — usage from trusted producers that did not pass through the proxy. */
export interface UsageIngestV1 extends RequestMeta {
  usage: ExtractedUsage;
}

export const DENIAL_TYPES = [
  'missing_key',
  'invalid_key',
  'inactive_key',
  'unknown_provider',
  'invalid_path',
  'provider_blocked',
  'dimension_validation',
  'model_blocked',
  'body_too_large',
  'bad_request',
  'budget_exceeded',
  'rate_limited',
] as const;
export type DenialType = (typeof DENIAL_TYPES)[number];

/** `request.denied.v1` — one per rejected request; the DENIAL object of the admin API. */
export interface RequestDeniedV1 {
  request_id: string;
  ts: string;
  type: DenialType;
  reason: string;
  http_status: number;
  tenant_id: string;
  api_key_id: string;
  provider: string;
  path: string;
  dims: Record<string, string>;
}

/** The EVENT object of the admin API and of `usage.recorded.v1` (interface.md). */
export interface UsageEventView extends TokenCounts, CostFields {
  request_id: string;
  ts: string;
  tenant_id: string;
  api_key_id: string;
  provider: string;
  method: string;
  endpoint: string;
  endpoint_class: EndpointClass;
  model: string;
  response_model: string;
  generation_id: string;
  service_tier: string;
  stream: boolean;
  stream_usage_injected: boolean;
  outcome: Outcome;
  usage_source: UsageSource;
  http_status: number;
  dims: Record<string, string>;
  web_search_requests: number;
  image_count: number;
  image_size: string;
  image_quality: string;
  audio_seconds: string;
  input_characters: number;
  started_at_ms: number;
  first_byte_at_ms: number;
  ended_at_ms: number;
  raw_usage: unknown;
}

/**
 * `usage.repriced.v1` — published by pricing when a stored event's cost changes (a price was added, a catalog
 * imported, or an operator re-priced a range); the ledger appends it as `UsageRepriced`, idempotently.
 */
export interface UsageRepricedV1 {
  request_id: string;
  /** The cost the re-pricing replaced (as the read model showed it). */
  previous: CostFields;
  /** The new cost; `pricing_version` names the catalog and override set ("<catalog>+ov<N>"). */
  cost: CostFields;
  /** Why, for the audit trail: the trigger and the run. */
  reason: string;
  /** Who asked: "cli", "api:<user>", "pricing" for automatic runs. */
  actor: string;
  /** The pricing run (pricing_reprice_runs.id) that produced this change. */
  run_id: string;
  catalog_version: string;
  overrides_version: number;
}

/**
 * The detail fields of ExtractedUsage when the provider reported none of them: no ids, no per-request fees, no
 * provider cost, no raw usage. Spread it where a message is built field by field (ingest defaults, tests).
 */
export function usageDetailDefaults(): Pick<
  ExtractedUsage,
  | 'response_model'
  | 'generation_id'
  | 'service_tier'
  | 'web_search_requests'
  | 'image_count'
  | 'image_size'
  | 'image_quality'
  | 'audio_seconds'
  | 'input_characters'
  | 'provider_cost'
  | 'raw_usage'
  | 'extraction_note'
> {
  return {
    response_model: '',
    generation_id: '',
    service_tier: '',
    web_search_requests: 0,
    image_count: 0,
    image_size: '',
    image_quality: '',
    audio_seconds: '0',
    input_characters: 0,
    provider_cost: null,
    raw_usage: null,
    extraction_note: '',
  };
}
