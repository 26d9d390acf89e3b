// Port of the reference's engine tests (internal/pricing/engine_test.go): hand-computed costs against the
// committed catalog, precedence, overrides and catalog swaps.
import type { CostSource, ExtractedUsage, TokenCounts, UsageExtractedV1 } from '@spendops/contracts';
import { loadBuiltinCatalog } from '../catalog/load';
import { extractedEvent } from '../testing/usage-builder';
import { OverrideSet } from './overrides';
import { PricingEngine } from './pricing-engine';

type Tokens = Partial<TokenCounts>;
const ev = (
  provider: string,
  model: string,
  tokens: Tokens,
  usage: Partial<ExtractedUsage> = {},
  meta: Partial<UsageExtractedV1> = {},
): UsageExtractedV1 => extractedEvent(provider, model, tokens, usage, meta);

describe('PricingEngine', () => {
  const catalog = loadBuiltinCatalog();
  const engine = new PricingEngine(catalog);

  // [name, event, expected total (null = unknown), cost_source]; each comment shows the arithmetic.
  const golden: [string, UsageExtractedV1, string | null, CostSource][] = [
    // 6000 uncached × 2.5 + 4000 cached × 1.25 + 500 out × 10 = 0.015 + 0.005 + 0.005
    [
      'openai cached input',
      ev('openai', 'gpt-4o', { prompt_tokens: 10000, cache_read_tokens: 4000, completion_tokens: 500 }),
      '0.025',
      'standard',
    ],
    [
      'openai dated response model',
      ev(
        'openai',
        'gpt-4o',
        { prompt_tokens: 10000, cache_read_tokens: 4000, completion_tokens: 500 },
        { response_model: 'gpt-4o-2024-08-06' },
      ),
      '0.025',
      'standard',
    ],
    // peers #16/#24 (1000x / 100x unit errors): 1M input tokens of gpt-4o-mini cost exactly $0.15
    ['unit check 1M tokens', ev('openai', 'gpt-4o-mini', { prompt_tokens: 1_000_000 }), '0.15', 'standard'],
    // 1000 × 3 + 2000 read × 0.3 + 1000 write5m × 3.75 + 2000 write1h × 6 + 400 × 15; writes are not billed
    // again as input (peers #4/#22), reads not at the input rate (peer #5)
    [
      'anthropic cache read and writes at both TTLs',
      ev('anthropic', 'claude-sonnet-4-5-20250929', {
        prompt_tokens: 6000,
        cache_read_tokens: 2000,
        cache_write_tokens: 3000,
        cache_write_5m_tokens: 1000,
        cache_write_1h_tokens: 2000,
        completion_tokens: 400,
      }),
      '0.02535',
      'standard',
    ],
    // write of unknown TTL priced as 5m: 1000 × 3.75
    [
      'anthropic cache write unknown ttl',
      ev('anthropic', 'claude-sonnet-4-5', { prompt_tokens: 1000, cache_write_tokens: 1000 }),
      '0.00375',
      'standard',
    ],
    // reasoning at the output rate: 1000 × 2 + 5000 × 8
    [
      'openai reasoning',
      ev('openai', 'o3', { prompt_tokens: 1000, completion_tokens: 5000, reasoning_tokens: 4000 }),
      '0.042',
      'standard',
    ],
    // price history: before 2025-06-10 o3 was 10/40
    [
      'openai price history',
      ev(
        'openai',
        'o3',
        { prompt_tokens: 1000, completion_tokens: 5000, reasoning_tokens: 4000 },
        {},
        { started_at_ms: Date.UTC(2025, 4, 1) },
      ),
      '0.21',
      'standard',
    ],
    // Gemini thoughts are output: 1000 × 0.3 + 3000 × 2.5
    [
      'google thinking',
      ev('google', 'gemini-2.5-flash', {
        prompt_tokens: 1000,
        completion_tokens: 3000,
        reasoning_tokens: 2000,
      }),
      '0.0078',
      'standard',
    ],
    // 400 × 2.5 + 600 audio × 40 + 200 × 10 + 300 audio out × 80
    [
      'openai audio tokens',
      ev('openai', 'gpt-4o-audio-preview', {
        prompt_tokens: 1000,
        prompt_audio_tokens: 600,
        completion_tokens: 500,
        completion_audio_tokens: 300,
      }),
      '0.051',
      'standard',
    ],
    // 500 text × 0.1 + 500 audio × 0.7
    [
      'google audio input',
      ev('google', 'gemini-2.0-flash', { prompt_tokens: 1000, prompt_audio_tokens: 500 }),
      '0.0004',
      'standard',
    ],
    // 2 HD 1024x1792 images × 0.12
    [
      'dall-e-3 hd images',
      ev(
        'openai',
        'dall-e-3',
        {},
        { endpoint_class: 'images', image_count: 2, image_size: '1024x1792', image_quality: 'hd' },
      ),
      '0.24',
      'standard',
    ],
    // 3 × 512x512 × 0.018 (dall-e-2 has no quality; "standard" falls back to any)
    [
      'dall-e-2 images',
      ev(
        'openai',
        'dall-e-2',
        {},
        { endpoint_class: 'images', image_count: 3, image_size: '512x512', image_quality: 'standard' },
      ),
      '0.054',
      'standard',
    ],
    // a size the price table lacks: unknown, not $0
    [
      'dall-e-3 unknown size',
      ev('openai', 'dall-e-3', {}, { endpoint_class: 'images', image_count: 1, image_size: '640x480' }),
      null,
      'none',
    ],
    // 1000 × 3 + 100 × 15 + 3 searches × 0.01
    [
      'anthropic web search',
      ev(
        'anthropic',
        'claude-sonnet-4-5',
        { prompt_tokens: 1000, completion_tokens: 100 },
        { web_search_requests: 3 },
      ),
      '0.0345',
      'standard',
    ],
    // 1000 × 3 + 1000 × 15 + 0.014 request fee
    [
      'perplexity request fee',
      ev('perplexity', 'sonar-pro', { prompt_tokens: 1000, completion_tokens: 1000 }),
      '0.032',
      'standard',
    ],
    // a provider error is not billed a request fee
    ['perplexity error no fee', ev('perplexity', 'sonar-pro', {}, {}, { http_status: 429 }), '0', 'standard'],
    // at the threshold: base rates: 200000 × 1.25 + 1000 × 10
    [
      'gemini 2.5 pro at 200k',
      ev('google', 'gemini-2.5-pro', { prompt_tokens: 200000, completion_tokens: 1000 }),
      '0.26',
      'standard',
    ],
    // one over: the whole request repriced: 200001 × 2.5 + 1000 × 15
    [
      'gemini 2.5 pro past 200k',
      ev('google', 'gemini-2.5-pro', { prompt_tokens: 200001, completion_tokens: 1000 }),
      '0.5150025',
      'standard',
    ],
    // 172001 × 5 + 100000 cached × 0.5 + 1000 × 22.5
    [
      'gpt-5.4 past 272k',
      ev('openai', 'gpt-5.4', { prompt_tokens: 272001, cache_read_tokens: 100000, completion_tokens: 1000 }),
      '0.932505',
      'standard',
    ],
    // total input counts cache: 150000 × 6 + 60000 × 0.6
    [
      'claude 200k tier counts cache reads',
      ev('anthropic', 'claude-sonnet-4-5', { prompt_tokens: 210000, cache_read_tokens: 60000 }),
      '0.936',
      'standard',
    ],
    // Opus 4.6 lost its >200k surcharge on 2026-03-13: 250000 × 10 before, × 5 after
    [
      'claude opus 4.6 tier before 2026-03-13',
      ev(
        'anthropic',
        'claude-opus-4-6',
        { prompt_tokens: 250000 },
        {},
        { started_at_ms: Date.UTC(2026, 0, 1) },
      ),
      '2.5',
      'standard',
    ],
    [
      'claude opus 4.6 no tier after',
      ev('anthropic', 'claude-opus-4-6', { prompt_tokens: 250000 }),
      '1.25',
      'standard',
    ],
    // batch at 50%: (1000 × 3 + 1000 × 15) × 0.5
    [
      'anthropic batch',
      ev(
        'anthropic',
        'claude-sonnet-4-5',
        { prompt_tokens: 1000, completion_tokens: 1000 },
        { service_tier: 'batch' },
      ),
      '0.009',
      'standard',
    ],
    // 600 × 1.25 + 400 cached × (1.25 × 0.5) + 100 × 5
    [
      'openai batch',
      ev(
        'openai',
        'gpt-4o',
        { prompt_tokens: 1000, cache_read_tokens: 400, completion_tokens: 100 },
        { service_tier: 'batch' },
      ),
      '0.0015',
      'standard',
    ],
    // flex: 1000 × 0.625 + 1000 × 5
    [
      'openai flex',
      ev('openai', 'gpt-5', { prompt_tokens: 1000, completion_tokens: 1000 }, { service_tier: 'flex' }),
      '0.005625',
      'standard',
    ],
    // priority: 1000 × 4.25 + 1000 × 17
    [
      'openai priority',
      ev('openai', 'gpt-4o', { prompt_tokens: 1000, completion_tokens: 1000 }, { service_tier: 'priority' }),
      '0.02125',
      'standard',
    ],
    // "default" and "scale" are priced as standard: 1000 × 2.5 + 1000 × 10
    [
      'openai default tier',
      ev('openai', 'gpt-4o', { prompt_tokens: 1000, completion_tokens: 1000 }, { service_tier: 'default' }),
      '0.0125',
      'standard',
    ],
    [
      'openai scale tier',
      ev('openai', 'gpt-4o', { prompt_tokens: 1000, completion_tokens: 1000 }, { service_tier: 'scale' }),
      '0.0125',
      'standard',
    ],
    // DeepSeek peak (00:30–16:30 UTC): 1M × 0.27 + 1M × 1.1; off-peak: 1M × 0.135 + 1M × 0.55
    [
      'deepseek peak hours',
      ev(
        'deepseek',
        'deepseek-chat',
        { prompt_tokens: 1_000_000, completion_tokens: 1_000_000 },
        {},
        { started_at_ms: Date.UTC(2026, 7, 1, 10) },
      ),
      '1.37',
      'standard',
    ],
    [
      'deepseek off-peak',
      ev(
        'deepseek',
        'deepseek-chat',
        { prompt_tokens: 1_000_000, completion_tokens: 1_000_000 },
        {},
        { started_at_ms: Date.UTC(2026, 7, 1, 20) },
      ),
      '0.685',
      'standard',
    ],
    // xAI cached (LiteLLM #14874 double count): 200 × 3 + 800 × 0.75 + 100 × 15
    [
      'xai cached',
      ev('xai', 'grok-3', { prompt_tokens: 1000, cache_read_tokens: 800, completion_tokens: 100 }),
      '0.0027',
      'standard',
    ],
    // Helicone #4893: not the "fast" variant's price, cache reads priced: 200 × 0.3 + 800 × 0.075 + 100 × 0.5
    [
      'openrouter grok-3-mini cached',
      ev('openrouter', 'x-ai/grok-3-mini', {
        prompt_tokens: 1000,
        cache_read_tokens: 800,
        completion_tokens: 100,
      }),
      '0.00017',
      'standard',
    ],
    // Helicone #2983: a new dated snapshot is priced as its model: 1000 × 2.5 + 1000 × 10
    [
      'new dated snapshot',
      ev('openai', 'gpt-4o-2099-01-01', { prompt_tokens: 1000, completion_tokens: 1000 }),
      '0.0125',
      'standard',
    ],
    [
      'groq',
      ev('groq', 'llama-3.3-70b-versatile', { prompt_tokens: 1000, completion_tokens: 1000 }),
      '0.00138',
      'standard',
    ],
    [
      'deepinfra',
      ev('deepinfra', 'meta-llama/Llama-3.3-70B-Instruct', { prompt_tokens: 1000, completion_tokens: 1000 }),
      '0.00063',
      'standard',
    ],
    [
      'novita',
      ev('novita', 'meta-llama/llama-3.3-70b-instruct', { prompt_tokens: 1000, completion_tokens: 1000 }),
      '0.00078',
      'standard',
    ],
    [
      'fireworks',
      ev('fireworks', 'accounts/fireworks/models/llama-v3p3-70b-instruct', {
        prompt_tokens: 1000,
        completion_tokens: 1000,
      }),
      '0.0018',
      'standard',
    ],
    [
      'cerebras',
      ev('cerebras', 'llama-3.3-70b', { prompt_tokens: 1000, completion_tokens: 1000 }),
      '0.00205',
      'standard',
    ],
    // mistral-large-latest → mistral-large: 1000 × 2 + 1000 × 6
    [
      'mistral',
      ev('mistral', 'mistral-large-latest', { prompt_tokens: 1000, completion_tokens: 1000 }),
      '0.008',
      'standard',
    ],
    [
      'nebius',
      ev('nebius', 'meta-llama/Llama-3.3-70B-Instruct', { prompt_tokens: 1000, completion_tokens: 1000 }),
      '0.00053',
      'standard',
    ],
    ['zai', ev('zai', 'glm-4.5', { prompt_tokens: 1000, completion_tokens: 1000 }), '0.0028', 'standard'],
    // alias route name and no start time (priced as of now): 1000 × 0.1 + 1000 × 0.4
    [
      'google alias, zero ts',
      ev(
        'google-ai-studio',
        'gemini-2.0-flash',
        { prompt_tokens: 1000, completion_tokens: 1000 },
        {},
        { started_at_ms: 0 },
      ),
      '0.0005',
      'standard',
    ],
    [
      'embeddings',
      ev('openai', 'text-embedding-3-small', { prompt_tokens: 1_000_000 }, { endpoint_class: 'embeddings' }),
      '0.02',
      'standard',
    ],
    // 90.5 s × 0.0001
    [
      'whisper seconds',
      ev('openai', 'whisper-1', {}, { endpoint_class: 'audio_transcription', audio_seconds: '90.5' }),
      '0.00905',
      'standard',
    ],
    // 1234 chars × 15 / 1M
    [
      'tts characters',
      ev('openai', 'tts-1', {}, { endpoint_class: 'audio_speech', input_characters: 1234 }),
      '0.01851',
      'standard',
    ],
    // OpenRouter's reported cost wins
    [
      'openrouter provider cost',
      ev(
        'openrouter',
        'anthropic/claude-4.5-sonnet-20250929',
        { prompt_tokens: 14, completion_tokens: 4 },
        { provider_cost: '0.000102' },
      ),
      '0.000102',
      'provider',
    ],
    // peers #1/#2/#21 (streams logged at $0): a stream prices like any other request
    [
      'stream priced',
      ev('openai', 'gpt-4o', { prompt_tokens: 1000, completion_tokens: 1000 }, {}, { stream: true }),
      '0.0125',
      'standard',
    ],
    // peers #6/#25 (missing model → $0): unknown → null, none
    [
      'unknown model is null',
      ev('openai', 'gpt-unknown-9', { prompt_tokens: 1000, completion_tokens: 1000 }),
      null,
      'none',
    ],
    ['custom provider is null', ev('my-vllm', 'llama', { prompt_tokens: 1000 }), null, 'none'],
    [
      'count_tokens not billed',
      ev('anthropic', 'claude-sonnet-4-5', { prompt_tokens: 5000 }, { endpoint_class: 'count_tokens' }),
      '0',
      'not_billed',
    ],
    ['models list not billed', ev('openai', '', {}, { endpoint_class: 'models' }), '0', 'not_billed'],
    ['batch poll not billed', ev('openai', '', {}, { endpoint_class: 'batch' }), '0', 'not_billed'],
    [
      'not_billed flag from extraction',
      ev(
        'google',
        'gemini-2.0-flash',
        { prompt_tokens: 5000 },
        { endpoint_class: 'other', not_billed: true },
      ),
      '0',
      'not_billed',
    ],
  ];

  it.each(golden)('%s', (_name, e, want, source) => {
    const cost = engine.price(e, e.usage);
    expect(cost.cost_source).toBe(source);
    expect(cost.total_cost_usd).toBe(want);
    expect(cost.pricing_version).toBe(catalog.version);
    expect(cost.pricing_version).toMatch(/^builtin-[0-9a-f]{12}$/);
  });

  it('reports the catalog model used, with the provider when a vendor price backed an OpenRouter name', () => {
    const dated = ev('openai', 'gpt-4o', {}, { response_model: 'gpt-4o-2024-08-06' });
    expect(engine.price(dated, dated.usage).pricing_model).toBe('gpt-4o');
    const or = ev('openrouter', 'anthropic/claude-sonnet-4.5:beta', { prompt_tokens: 1 });
    expect(engine.price(or, or.usage)).toMatchObject({
      pricing_model: 'anthropic/claude-sonnet-4.5',
      pricing_matched: true,
    });
    const bare = ev('openrouter', 'o1-mini-2024-09-12', { prompt_tokens: 1 });
    expect(engine.price(bare, bare.usage).pricing_model).toBe('openai/o1-mini');
  });

  it('keeps the calculated cost beside a provider-reported one', () => {
    const e = ev(
      'openrouter',
      'anthropic/claude-sonnet-4',
      { prompt_tokens: 1000, completion_tokens: 1000 },
      { provider_cost: '0.5' },
    );
    // 1000 × 3 + 1000 × 15
    expect(engine.price(e, e.usage)).toMatchObject({
      provider_cost: '0.5',
      calculated_cost: '0.018',
      total_cost_usd: '0.5',
      cost_source: 'provider',
      pricing_matched: true,
    });
    // no catalog match but a provider cost: cost known, not matched, nothing calculated
    const e2 = ev('openrouter', 'someone/new-model', {}, { provider_cost: '0.01' });
    expect(engine.price(e2, e2.usage)).toMatchObject({
      total_cost_usd: '0.01',
      cost_source: 'provider',
      pricing_matched: false,
      calculated_cost: null,
    });
  });

  it('never records an unknown cost as zero', () => {
    const e = ev('openai', 'gpt-unknown-9', { prompt_tokens: 0 });
    expect(engine.price(e, e.usage)).toMatchObject({
      total_cost_usd: null,
      calculated_cost: null,
      cost_source: 'none',
      pricing_matched: false,
    });
  });

  describe('tenant overrides', () => {
    const ov = new OverrideSet(3, [
      { id: 1, tenant_id: '*', model: '*', markup_pct: '10', created_at: '' },
      {
        id: 2,
        tenant_id: 'acme',
        provider: 'openai',
        model: 'gpt-4o*',
        rates: { input: '2', output: '8' },
        created_at: '',
      },
      { id: 3, tenant_id: 'thirds', model: 'gpt-4o', markup_pct: '33.333333333333', created_at: '' },
      { id: 4, tenant_id: 'disc', model: 'anthropic/*', markup_pct: '-20', created_at: '' },
      { id: 5, tenant_id: 'own', model: 'my-model', rates: { input: '1' }, created_at: '' },
    ]);
    const withOv = new PricingEngine(catalog, ov);
    const base = { prompt_tokens: 10000, cache_read_tokens: 4000, completion_tokens: 500 };
    it.each([
      // catalog 0.025 × 1.1
      ['other', 'openai', 'gpt-4o', null, '0.0275'],
      // own rates, no cache-read rate so cached tokens take the input rate: 10000 × 2 + 500 × 8
      ['acme', 'openai', 'gpt-4o', null, '0.024'],
      // 0.025 × 1.33333333333333 = 0.03333333333333325 → half-even at 12 digits
      ['thirds', 'openai', 'gpt-4o', null, '0.033333333333'],
      // discount on a provider-reported cost: 0.5 × 0.8
      ['disc', 'openrouter', 'anthropic/claude-sonnet-4', '0.5', '0.4'],
    ])('%s', (tenant, provider, model, providerCost, want) => {
      const e = ev(provider, model, base, { provider_cost: providerCost }, { tenant_id: tenant });
      const cost = withOv.price(e, e.usage);
      expect(cost.cost_source).toBe('custom');
      expect(cost.total_cost_usd).toBe(want);
      expect(cost.pricing_version).toBe(`${catalog.version}+ov3`);
    });

    it('prices a model the catalog lacks with the tenant own rates', () => {
      const e = ev('my-vllm', 'my-model', { prompt_tokens: 1000 }, {}, { tenant_id: 'own' });
      expect(withOv.price(e, e.usage)).toMatchObject({
        total_cost_usd: '0.001',
        cost_source: 'custom',
        pricing_matched: true,
        pricing_model: 'override:my-model',
      });
    });

    it('takes overrides per call (pure), leaving the engine default alone', () => {
      const e = ev('openai', 'gpt-4o', base, {}, { tenant_id: 'acme' });
      expect(engine.price(e, e.usage, ov).total_cost_usd).toBe('0.024');
      expect(engine.price(e, e.usage).total_cost_usd).toBe('0.025');
    });

    it('does not bill not-billed endpoints even with a markup', () => {
      const e = ev(
        'anthropic',
        'claude-sonnet-4-5',
        { prompt_tokens: 5000 },
        { endpoint_class: 'count_tokens' },
      );
      expect(withOv.price(e, e.usage)).toMatchObject({ total_cost_usd: '0', cost_source: 'not_billed' });
    });
  });

  it('swaps catalogs: events priced after the swap carry the new version', () => {
    const en = new PricingEngine(catalog);
    const e = ev('openai', 'gpt-4o', { prompt_tokens: 1000 });
    expect(en.price(e, e.usage).pricing_version).toBe(catalog.version);
    en.setCatalog(catalog.withVersion('v2-test'));
    expect(en.price(e, e.usage)).toMatchObject({ pricing_version: 'v2-test', total_cost_usd: '0.0025' });
  });
});
