// The generator's core (docs/pricing.md §10): genai-prices first, LiteLLM for what it lacks, then the reviewed
// manual entries. Deterministic: the same inputs give the same catalog, byte for byte.
import { Catalog } from './catalog';
import { convertGenAI } from './convert-genai';
import { convertLiteLLM } from './convert-litellm';
import { byteOrder } from './json-read';
import { RATE_FIELDS, type CatalogModel, type ProviderFile } from './schema';

/** OpenRouter vendors kept (OpenRouter reports each request's cost itself; its table only backs the calculated cost). */
const OPENROUTER_VENDORS = [
  'anthropic/',
  'openai/',
  'google/',
  'x-ai/',
  'meta-llama/',
  'mistralai/',
  'deepseek/',
  'qwen/',
  'z-ai/',
  'moonshotai/',
  'perplexity/',
];

/** Providers whose chat models missing from genai-prices come from LiteLLM; others only get non-chat models. */
const LITELLM_CHAT_PROVIDERS = new Set([
  'openai',
  'anthropic',
  'google',
  'xai',
  'mistral',
  'deepseek',
  'perplexity',
  'cerebras',
  'groq',
  'zai',
  'deepinfra',
  'nebius',
]);

/** Fields LiteLLM may add to a genai-prices model (never its token rates for input/output/cache). */
const ENRICHING_FIELDS = [
  'web_search',
  'request',
  'audio_second',
  'input_mchars',
  'input_audio',
  'output_audio',
  'input_image',
  'output_image',
  'reasoning',
] as const;

/** The reviewed hand-written part: provider-wide service tiers and models that add to or replace generated ones. */
export interface ManualEntries {
  providers: (Omit<ProviderFile, 'models'> & { models?: CatalogModel[] })[];
}

export function buildCatalog(genaiText: string, litellmText: string, manual: ManualEntries): ProviderFile[] {
  const files = new Map<string, ProviderFile>();
  for (const pf of convertGenAI(genaiText)) {
    files.set(pf.provider, { ...pf, models: keepModels(pf.provider, pf.models) });
  }
  // Match rules of genai-prices alone decide whether a LiteLLM entry is already covered.
  const base = Catalog.fromProviders(structuredClone([...files.values()]), 'genai');
  const fileOf = (provider: string): ProviderFile => {
    let pf = files.get(provider);
    if (!pf) files.set(provider, (pf = { provider, models: [] }));
    return pf;
  };
  for (const lf of convertLiteLLM(litellmText)) {
    const pf = fileOf(lf.provider);
    for (const lm of lf.models) {
      const gm = findExact(pf, lm.id);
      if (gm) {
        // Only the entry for the model itself enriches it: an alias can be a variant with its own fees
        // (gpt-4o-mini's alias gpt-4o-mini-search-preview carries a per-request fee).
        if (gm.id.toLowerCase() === lm.id.toLowerCase()) enrich(gm, lm);
        continue;
      }
      if (base.resolveStrict(lf.provider, lm.id)) continue; // covered by a genai-prices pattern or prefix
      // Fireworks lists ~290 chat models; only its Llama family (the provider page's example) is taken.
      const fireworksLlama = lf.provider === 'fireworks' && lm.id.startsWith('llama');
      if (lm.kind === 'chat' && !LITELLM_CHAT_PROVIDERS.has(lf.provider) && !fireworksLlama) continue;
      if (lm.id.startsWith('ft:')) continue; // fine-tune templates, not callable model names
      pf.models.push(lm);
    }
  }
  for (const mp of manual.providers) {
    const pf = fileOf(mp.provider);
    if (mp.service_tiers) pf.service_tiers = { ...pf.service_tiers, ...structuredClone(mp.service_tiers) };
    for (const mm of structuredClone(mp.models ?? [])) {
      const gm = findExact(pf, mm.id);
      if (!gm) {
        pf.models.push({ ...mm, source: 'manual' });
        continue;
      }
      if (mm.prices.length > 0) gm.prices = mm.prices;
      for (const k of ['aliases', 'prefixes', 'patterns'] as const) {
        if (mm[k]?.length) gm[k] = [...(gm[k] ?? []), ...(mm[k] ?? [])];
      }
      if (mm.kind) gm.kind = mm.kind;
      gm.source += '+manual';
      gm.provenance = `${gm.provenance ?? ''}; manual: ${mm.provenance ?? ''}`;
    }
  }
  const out = [...files.values()].sort((a, b) => byteOrder(a.provider, b.provider));
  for (const pf of out) pf.models.sort((a, b) => byteOrder(a.id, b.id));
  Catalog.fromProviders(out, 'check'); // validates every model, pattern and period
  return out;
}

export function keepModels(provider: string, models: CatalogModel[]): CatalogModel[] {
  if (provider === 'openrouter')
    return models.filter((m) => OPENROUTER_VENDORS.some((v) => m.id.startsWith(v)));
  // Claude on genai-prices' google provider is Vertex AI; the Gemini API serves none.
  if (provider === 'google') return models.filter((m) => !m.id.includes('claude'));
  return models;
}

export function findExact(pf: ProviderFile | undefined, id: string): CatalogModel | undefined {
  const want = id.toLowerCase();
  return pf?.models.find(
    (m) => m.id.toLowerCase() === want || (m.aliases ?? []).some((a) => a.toLowerCase() === want),
  );
}

/** Adds to a genai-prices model, in its current period, what only LiteLLM has. */
function enrich(gm: CatalogModel, lm: CatalogModel): void {
  const cur = gm.prices[gm.prices.length - 1];
  const src = lm.prices[0];
  const added: string[] = [];
  if (src.service_tiers && Object.keys(src.service_tiers).length > 0 && !cur.service_tiers) {
    cur.service_tiers = src.service_tiers;
    added.push('service tiers');
  }
  if (src.images?.length && !cur.images?.length) {
    cur.images = src.images;
    added.push('per-image prices');
  }
  // Modality and reasoning rates genai-prices lacks would otherwise bill audio or image tokens at the text rate.
  for (const f of ENRICHING_FIELDS) {
    const v = src.rates[f];
    if (v !== undefined && cur.rates[f] === undefined) {
      cur.rates[f] = v;
      added.push(f);
    }
  }
  if (added.length > 0) {
    if (!gm.source.includes('litellm')) gm.source += '+litellm';
    gm.provenance = `${gm.provenance ?? ''}; ${lm.provenance ?? ''}: ${added.join(', ')}`;
  }
}

/** Canonical JSON of a catalog: fixed key order, empty collections left out, two-space indent. */
export function serializeCatalog(providers: ProviderFile[], generatedBy: string): string {
  const rates = (r: Record<string, string | undefined>) =>
    Object.fromEntries(RATE_FIELDS.filter((f) => r[f] !== undefined).map((f) => [f, r[f]]));
  const nonEmpty = <T>(a: T[] | undefined): T[] | undefined => (a && a.length > 0 ? a : undefined);
  const sortedKeys = <T>(o: Record<string, T> | undefined, f: (v: T) => unknown) =>
    o && Object.keys(o).length > 0
      ? Object.fromEntries(
          Object.keys(o)
            .sort(byteOrder)
            .map((k) => [k, f(o[k])]),
        )
      : undefined;
  const tiers = (
    ts: { above_input_tokens: number; rates: Record<string, string | undefined> }[] | undefined,
  ) => nonEmpty(ts)?.map((t) => ({ above_input_tokens: t.above_input_tokens, rates: rates(t.rates) }));
  const serviceTiers = (st: ProviderFile['service_tiers']) =>
    sortedKeys(st, (s) => ({
      multiplier: s.multiplier,
      rates: s.rates && Object.keys(s.rates).length > 0 ? rates(s.rates) : undefined,
      tiers: tiers(s.tiers),
    }));
  const doc = {
    schema_version: 1,
    generated_by: generatedBy,
    providers: providers.map((pf) => ({
      provider: pf.provider,
      service_tiers: serviceTiers(pf.service_tiers),
      models: pf.models.map((m) => ({
        id: m.id,
        kind: m.kind || undefined,
        aliases: nonEmpty(m.aliases),
        prefixes: nonEmpty(m.prefixes),
        patterns: nonEmpty(m.patterns),
        source: m.source,
        provenance: m.provenance || undefined,
        prices: m.prices.map((p) => ({
          effective_from: p.effective_from || undefined,
          rates: rates(p.rates),
          tiers: tiers(p.tiers),
          time_windows: nonEmpty(p.time_windows)?.map((w) => ({
            start: w.start,
            end: w.end,
            rates: rates(w.rates),
          })),
          service_tiers: serviceTiers(p.service_tiers),
          images: nonEmpty(p.images)?.map((i) => ({
            size: i.size || undefined,
            quality: i.quality || undefined,
            price: i.price,
          })),
        })),
      })),
    })),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
