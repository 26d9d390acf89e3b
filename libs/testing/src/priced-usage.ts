// A usage.priced.v1 message for tests: an OpenAI chat completion with provider usage and a standard cost, every
// field present; a spec overrides what it is about. The usage's model follows an overridden request_model (what
// the extractor reports when the response names no other), unless the usage override names one.
import { usageDetailDefaults, zeroTokens, type UsagePricedV1 } from '@spendops/contracts';

/** What a spec may override: any top-level field, and any of the usage and cost fields. */
export type PricedUsageOverrides = Partial<Omit<UsagePricedV1, 'usage' | 'cost'>> & {
  usage?: Partial<UsagePricedV1['usage']>;
  cost?: Partial<UsagePricedV1['cost']>;
};

export function pricedUsage(over: PricedUsageOverrides = {}): UsagePricedV1 {
  const { usage, cost, ...rest } = over;
  return {
    request_id: 'req-1',
    tenant_id: 'acme',
    api_key_id: 'key_a',
    dims: {},
    provider: 'openai',
    dialect: 'openai-compatible',
    method: 'POST',
    endpoint: '/v1/chat/completions',
    request_model: 'gpt-4o',
    stream: false,
    stream_usage_injected: false,
    outcome: 'completed',
    http_status: 200,
    started_at_ms: 0,
    first_byte_at_ms: 100,
    ended_at_ms: 200,
    ...rest,
    usage: {
      ...zeroTokens(),
      usage_source: 'provider',
      endpoint_class: 'chat',
      not_billed: false,
      model: rest.request_model ?? 'gpt-4o',
      ...usageDetailDefaults(),
      raw_usage: {},
      ...usage,
    },
    cost: {
      provider_cost: null,
      calculated_cost: null,
      total_cost_usd: null,
      cost_source: 'standard',
      pricing_matched: true,
      pricing_model: 'gpt-4o',
      pricing_version: '',
      ...cost,
    },
  };
}
