// LiteLLM model_prices_and_context_window.json → catalog provider files (facts only; docs/pricing.md §10).
// Per-token prices become per million; "_above_Nk_tokens" keys become long-context tiers; "_batches", "_flex"
// and "_priority" keys become service tiers; "quality/WxH/model" keys become per-image prices (per-pixel
// values, float approximations of list prices, are multiplied out and rounded to $0.001).
import { Decimal, formatDecimal, parseJsonExact, type ExactJson } from '@spendops/money';
import { sortedTiers } from './convert-genai';
import { asDecimal, asObject, asString, byteOrder, shifted, type JsonObject } from './json-read';
import { kindOf } from './kind';
import { PROVIDER_MODEL_PREFIXES } from './provider-names';
import type { CatalogModel, ImagePrice, Period, ProviderFile, RateField, Rates, ServiceTier } from './schema';

/** LiteLLM `litellm_provider` values → SpendOps provider names. */
export const LITELLM_PROVIDERS: Readonly<Record<string, string>> = {
  openai: 'openai',
  'text-completion-openai': 'openai',
  anthropic: 'anthropic',
  gemini: 'google',
  openrouter: 'openrouter',
  xai: 'xai',
  groq: 'groq',
  deepinfra: 'deepinfra',
  novita: 'novita',
  fireworks_ai: 'fireworks',
  'fireworks_ai-embedding-models': 'fireworks',
  perplexity: 'perplexity',
  cerebras: 'cerebras',
  mistral: 'mistral',
  deepseek: 'deepseek',
  nebius: 'nebius',
  zai: 'zai',
};

const IMAGE_KEY = /^(?:(standard|hd|low|medium|high)\/)?(\d+)-x-(\d+)\/(.+)$/;
const TIER_KEY = /_above_(\d+)k_tokens$/;
const BASE_FIELD: Readonly<Record<string, RateField>> = {
  input_cost_per_token: 'input',
  output_cost_per_token: 'output',
  cache_read_input_token_cost: 'cache_read',
  input_cost_per_token_cache_hit: 'cache_read',
  cache_creation_input_token_cost: 'cache_write',
  cache_creation_input_token_cost_above_1hr: 'cache_write_1h',
  output_cost_per_reasoning_token: 'reasoning',
  input_cost_per_audio_token: 'input_audio',
  output_cost_per_audio_token: 'output_audio',
  input_cost_per_image_token: 'input_image',
  output_cost_per_image_token: 'output_image',
};
const MODES: Readonly<Record<string, string>> = {
  chat: 'chat',
  responses: 'chat',
  completion: 'chat',
  embedding: 'embedding',
  image_generation: 'image',
  image_edit: 'image',
  audio_transcription: 'audio',
  audio_speech: 'audio',
  moderation: 'moderation',
};
const SERVICE_TIER_SUFFIXES: ReadonlyArray<[string, string]> = [
  ['_batches', 'batch'],
  ['_flex', 'flex'],
  ['_priority', 'priority'],
];

type Draft = CatalogModel & { prices: [Period] };

export function convertLiteLLM(text: string): ProviderFile[] {
  const raw = asObject(parseJsonExact(text));
  if (!raw) throw new Error('litellm: not a JSON object');
  const byProvider = new Map<string, Map<string, Draft>>();
  const draft = (provider: string, id: string): Draft => {
    let models = byProvider.get(provider);
    if (!models) byProvider.set(provider, (models = new Map()));
    let m = models.get(id);
    if (!m) models.set(id, (m = { id, kind: kindOf(id), source: 'litellm', prices: [{ rates: {} }] }));
    return m;
  };
  for (const key of Object.keys(raw).sort(byteOrder)) {
    const e = asObject(raw[key]);
    const lp = asString(e?.litellm_provider) ?? '';
    const our = LITELLM_PROVIDERS[lp];
    const kind = MODES[asString(e?.mode) ?? ''];
    if (!e || !our || !kind) continue;
    const id = stripProviderPrefix(our, lp, key);
    const img = IMAGE_KEY.exec(id);
    if (img) {
      const m = draft(our, stripProviderPrefix(our, lp, img[4]));
      m.kind = 'image';
      const price = imagePrice(e, img[2], img[3]);
      if (price) {
        const ip: ImagePrice = { size: `${img[2]}x${img[3]}`, price: formatDecimal(price) };
        if (img[1]) ip.quality = img[1];
        (m.prices[0].images ??= []).push(ip);
        m.provenance = `litellm ${m.id} (+ size/quality entries)`;
      }
      continue;
    }
    const m = draft(our, id);
    m.kind = kind;
    m.provenance = `litellm ${key}`;
    fill(m, our, e);
  }
  const out: ProviderFile[] = [];
  for (const [provider, models] of byProvider) {
    const pf: ProviderFile = { provider, models: [] };
    for (const m of models.values()) {
      const p = m.prices[0];
      if (Object.keys(p.rates).length > 0 || (p.images?.length ?? 0) > 0) {
        p.images?.sort(
          (a, b) => byteOrder(a.size ?? '', b.size ?? '') || byteOrder(a.quality ?? '', b.quality ?? ''),
        );
        pf.models.push(m);
      }
    }
    pf.models.sort((a, b) => byteOrder(a.id, b.id));
    out.push(pf);
  }
  return out.sort((a, b) => byteOrder(a.provider, b.provider));
}

export function stripProviderPrefix(our: string, lp: string, key: string): string {
  for (const p of [`${lp}/`, ...(PROVIDER_MODEL_PREFIXES[our] ?? [])]) {
    if (p !== 'models/' && key.startsWith(p) && key.length > p.length) key = key.slice(p.length);
  }
  return key;
}

function imagePrice(e: JsonObject, w: string, h: string): Decimal | undefined {
  for (const k of ['input_cost_per_image', 'output_cost_per_image']) {
    const d = asDecimal(e[k]);
    if (d?.isPositive() && !d.isZero()) return d;
  }
  const perPixel = asDecimal(e.input_cost_per_pixel);
  if (perPixel && perPixel.isPositive() && !perPixel.isZero()) {
    return perPixel.times(new Decimal(w).times(h)).toDecimalPlaces(3, Decimal.ROUND_HALF_EVEN);
  }
  return undefined;
}

function positive(v: ExactJson | undefined): Decimal | undefined {
  const d = asDecimal(v);
  return d && d.isPositive() && !d.isZero() ? d : undefined;
}

function fill(m: Draft, our: string, e: JsonObject): void {
  const p = m.prices[0];
  const tiers = new Map<string, Map<number, Rates>>();
  const serviceTier = (name: string): ServiceTier => ((p.service_tiers ??= {})[name] ??= {});
  for (const [k, v] of Object.entries(e)) {
    const d = asDecimal(v);
    if (!d) continue;
    let name = k;
    let st = '';
    for (const [suffix, tierName] of SERVICE_TIER_SUFFIXES) {
      if (name.endsWith(suffix)) {
        name = name.slice(0, -suffix.length);
        st = tierName;
      }
    }
    let threshold = 0;
    const t = TIER_KEY.exec(name);
    if (t) {
      threshold = Number(t[1]) * 1000;
      name = name.slice(0, -t[0].length);
    }
    const field = BASE_FIELD[name];
    if (!field || k === 'input_cost_per_token_cache_hit') continue;
    const val = shifted(d, 6);
    if (threshold > 0) {
      let byThreshold = tiers.get(st);
      if (!byThreshold) tiers.set(st, (byThreshold = new Map()));
      const r = byThreshold.get(threshold) ?? {};
      r[field] = val;
      byThreshold.set(threshold, r);
    } else if (st !== '') {
      const s = serviceTier(st);
      (s.rates ??= {})[field] = val;
    } else {
      p.rates[field] = val;
    }
  }
  for (const [st, byThreshold] of tiers) {
    const sorted = sortedTiers(byThreshold);
    if (st === '') p.tiers = sorted;
    else serviceTier(st).tiers = sorted;
  }
  // DeepSeek-style entries name the cache-read price "cache hit".
  const cacheHit = asDecimal(e.input_cost_per_token_cache_hit);
  if (cacheHit && p.rates.cache_read === undefined) p.rates.cache_read = shifted(cacheHit, 6);
  // whisper-1 lists the same per-second price as input and output: one charge per second, taken once.
  const inSecond = positive(e.input_cost_per_second);
  const outSecond = positive(e.output_cost_per_second);
  if (inSecond) p.rates.audio_second = formatDecimal(inSecond);
  else if (outSecond && m.kind === 'audio' && p.rates.input === undefined)
    p.rates.audio_second = formatDecimal(outSecond);
  const perChar = positive(e.input_cost_per_character);
  if (perChar) p.rates.input_mchars = shifted(perChar, 6);
  const perRequest = positive(e.input_cost_per_request);
  if (perRequest) p.rates.request = formatDecimal(perRequest);
  for (const k of ['output_cost_per_image', 'input_cost_per_image']) {
    const d = positive(e[k]);
    if (d && (m.kind === 'image' || k === 'output_cost_per_image')) {
      p.images = [{ price: formatDecimal(d) }];
      break;
    }
  }
  const medium = positive(asObject(e.search_context_cost_per_query)?.search_context_size_medium);
  if (medium) {
    // Perplexity and OpenAI's search-preview chat models charge per request by search context size; the
    // others per search call.
    if (our === 'perplexity' || (our === 'openai' && m.id.includes('search')))
      p.rates.request = formatDecimal(medium);
    else p.rates.web_search = formatDecimal(medium);
  }
}
