// Builds extracted-usage messages for tests and the benchmark.
import {
  zeroTokens,
  type ExtractedUsage,
  type TokenCounts,
  type UsageExtractedV1,
  usageDetailDefaults,
} from '@spendops/contracts';

/** 2026-08-01 12:00 UTC, the reference tests' pricing date. */
export const AUG_2026 = Date.UTC(2026, 7, 1, 12, 0, 0);

export function extractedUsage(
  model: string,
  tokens: Partial<TokenCounts> = {},
  patch: Partial<ExtractedUsage> = {},
): ExtractedUsage {
  const t = { ...zeroTokens(), ...tokens };
  t.total_tokens = t.prompt_tokens + t.completion_tokens;
  return {
    ...t,
    usage_source: 'provider',
    endpoint_class: 'chat',
    not_billed: false,
    model,
    ...usageDetailDefaults(),
    ...patch,
  };
}

export function extractedEvent(
  provider: string,
  model: string,
  tokens: Partial<TokenCounts> = {},
  patch: Partial<ExtractedUsage> = {},
  meta: Partial<UsageExtractedV1> = {},
): UsageExtractedV1 {
  return {
    request_id: 'req-1',
    tenant_id: 'default',
    api_key_id: 'key-1',
    dims: {},
    provider,
    dialect: 'openai-compatible',
    method: 'POST',
    endpoint: '/v1/chat/completions',
    request_model: model,
    stream: false,
    stream_usage_injected: false,
    outcome: 'completed',
    http_status: 200,
    started_at_ms: AUG_2026,
    first_byte_at_ms: AUG_2026 + 100,
    ended_at_ms: AUG_2026 + 200,
    ...meta,
    usage: extractedUsage(model, tokens, patch),
  };
}
