// Port of catalog_test.go and refs_test.go (TestCatalogMatchesGenerator, TestCrossCheckReferences).
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildCatalog, findExact } from './build-catalog';
import { Catalog, periodAt } from './catalog';
import { compileModel } from './compiled';
import { convertGenAI } from './convert-genai';
import { convertLiteLLM } from './convert-litellm';
import { defaultRefDir, generateCatalogText } from './generate';
import { builtinCatalogPath, loadBuiltinCatalog } from './load';
import { canonicalProvider } from './provider-names';
import { RATE_FIELDS, type CatalogModel, type ProviderFile } from './schema';

const AT = new Date(Date.UTC(2026, 7, 1, 12));
const refDir = defaultRefDir();
const haveRefs = existsSync(refDir);
if (!haveRefs && process.env.CI) throw new Error(`pricing reference data missing at ${refDir}`);
const describeWithRefs = haveRefs ? describe : describe.skip;

describe('Catalog lookup', () => {
  const c = loadBuiltinCatalog();

  // The provider pages' example models and the names responses really carry must all resolve.
  it.each([
    ['openai', 'gpt-4o', 'gpt-4o'],
    ['openai', 'gpt-4o-2024-08-06', 'gpt-4o'],
    ['anthropic', 'claude-sonnet-4-20250514', 'claude-sonnet-4-0'],
    ['google', 'gemini-2.0-flash', 'gemini-2.0-flash'],
    ['google', 'models/gemini-2.0-flash', 'gemini-2.0-flash'],
    ['openrouter', 'anthropic/claude-sonnet-4-20250514', ''],
    ['xai', 'grok-3', 'grok-3'],
    ['groq', 'llama-3.3-70b-versatile', 'llama-3.3-70b-versatile'],
    ['deepinfra', 'meta-llama/Llama-3.3-70B-Instruct', 'meta-llama/Llama-3.3-70B-Instruct'],
    ['deepseek', 'deepseek-chat', 'deepseek-chat'],
    ['mistral', 'mistral-large-latest', ''],
    ['perplexity', 'sonar-pro', 'sonar-pro'],
    ['fireworks', 'accounts/fireworks/models/llama-v3p3-70b-instruct', ''],
    ['cerebras', 'llama-3.3-70b', ''],
    ['nebius', 'meta-llama/Llama-3.3-70B-Instruct', ''],
    ['zai', 'glm-4.5', 'glm-4.5'],
    ['novita', 'meta-llama/llama-3.3-70b-instruct', ''],
    // normalisation: case, provider prefixes, dated snapshots, OpenRouter vendor ids
    ['openai', 'GPT-4O', 'gpt-4o'],
    ['openai', 'openai/gpt-4o', 'gpt-4o'],
    ['openai', 'gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['openai', 'gpt-5-mini-2025-08-07', 'gpt-5-mini'],
    ['google', 'gemini/gemini-2.0-flash', 'gemini-2.0-flash'],
    ['google', 'gemini-2.5-pro-preview-06-05', 'gemini-2.5-pro'],
    ['google-ai-studio', 'gemini-2.0-flash', 'gemini-2.0-flash'],
    ['anthropic', 'claude-3-5-haiku-20241022', 'claude-3-5-haiku-latest'],
    ['anthropic', 'claude-opus-4-1-20250805', 'claude-opus-4-1'],
    ['openrouter', 'openai/gpt-4o', 'openai/gpt-4o'],
    ['openrouter', 'anthropic/claude-sonnet-4.5:beta', 'anthropic/claude-sonnet-4.5'],
    ['openrouter', 'o1-mini-2024-09-12', 'o1-mini'],
    ['mistral', 'mistral-small-2506', ''],
  ])('%s %s resolves', (provider, model, want) => {
    const mp = c.lookup(canonicalProvider(provider), model, AT);
    expect(mp).toBeDefined();
    if (want) expect(mp!.model.id).toBe(want);
  });

  // Names that must stay unpriced rather than borrow a neighbour's price.
  it.each([
    ['openai', 'gpt-4o-mini-foo'],
    ['openai', ''],
    ['anthropic', 'gpt-4o'],
    ['my-vllm', 'gpt-4o'],
  ])('%s %s stays unpriced', (provider, model) => {
    expect(c.lookup(provider, model, AT)).toBeUndefined();
  });

  it('names the vendor provider when an OpenRouter name fell back to it', () => {
    expect(c.lookup('openrouter', 'o1-mini-2024-09-12', AT)?.provider).toBe('openai');
    expect(c.lookup('openrouter', 'openai/gpt-4o', AT)?.provider).toBe('openrouter');
  });

  it('has a stable content version and hundreds of models', () => {
    expect(c.version).toMatch(/^builtin-[0-9a-f]{12}$/);
    const again = Catalog.fromDocument(JSON.parse(readFileSync(builtinCatalogPath(), 'utf8')));
    expect(again.version).toBe(c.version);
    expect(c.models().length).toBeGreaterThan(300);
    expect(c.models().length).toBeLessThan(1500);
  });
});

describe('Catalog validation', () => {
  const model = (prices: CatalogModel['prices'], extra: Partial<CatalogModel> = {}): ProviderFile[] => [
    { provider: 'p', models: [{ id: 'm', source: 'manual', prices, ...extra }] },
  ];
  it.each<[string, ProviderFile[], RegExp]>([
    ['no prices', model([]), /no prices/],
    ['undated second period', model([{ rates: {} }, { rates: {} }]), /only the first period/],
    [
      'periods out of order',
      model([
        { effective_from: '2025-02-01', rates: {} },
        { effective_from: '2025-01-01', rates: {} },
      ]),
      /increasing/,
    ],
    ['bad date', model([{ effective_from: '2025-13-45x', rates: {} }]), /not a date/],
    [
      'tiers not increasing',
      model([
        {
          rates: {},
          tiers: [
            { above_input_tokens: 2, rates: {} },
            { above_input_tokens: 1, rates: {} },
          ],
        },
      ]),
      /thresholds/,
    ],
    [
      'bad time window',
      model([{ rates: {}, time_windows: [{ start: '25:00', end: '01:00', rates: {} }] }]),
      /bad start/,
    ],
    ['bad pattern', model([{ rates: {} }], { patterns: ['(unclosed'] }), /pattern/],
    ['duplicate provider', [...model([{ rates: {} }]), ...model([{ rates: {} }])], /appears twice/],
  ])('rejects %s', (_name, files, err) => {
    expect(() => Catalog.fromProviders(files)).toThrow(err);
  });

  it('picks the period in force by UTC date', () => {
    const m = compileModel({
      id: 'm',
      source: 'manual',
      prices: [{ rates: { input: '1' } }, { effective_from: '2025-06-10', rates: { input: '2' } }],
    });
    expect(periodAt(m, new Date('2025-06-09T23:59:59Z')).rates.input?.toString()).toBe('1');
    expect(periodAt(m, new Date('2025-06-10T00:00:00Z')).rates.input?.toString()).toBe('2');
  });
});

describeWithRefs('catalog generator', () => {
  // The committed catalog must be what the generator makes from the references and manual.json, so nobody
  // edits generated prices by hand. (Content, not bytes: prettier owns the layout.)
  it('matches the committed catalog.json', () => {
    const generated = JSON.parse(generateCatalogText().text) as unknown;
    const committed = JSON.parse(readFileSync(builtinCatalogPath(), 'utf8')) as unknown;
    expect(committed).toEqual(generated);
  });

  it('is deterministic', () => {
    const genai = readFileSync(
      path.join(refDir, 'genai-prices', 'prices', 'new_data', 'v2', 'data.json'),
      'utf8',
    );
    const litellm = readFileSync(
      path.join(refDir, 'litellm', 'model_prices_and_context_window.json'),
      'utf8',
    );
    const a = buildCatalog(genai, litellm, { providers: [] });
    const b = buildCatalog(genai, litellm, { providers: [] });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  // Every price field of every entry is compared with both references. A value differing from the entry's
  // preferred reference must be listed here with its reason; reference disagreements are counted.
  const DELIBERATE: Record<string, string> = {
    'openai/dall-e-2 images':
      "manual: OpenAI's per-image list prices instead of LiteLLM's per-pixel float approximations",
  };
  it('agrees with its preferred reference on every price field, or lists why not', () => {
    const genai = readFileSync(
      path.join(refDir, 'genai-prices', 'prices', 'new_data', 'v2', 'data.json'),
      'utf8',
    );
    const litellm = readFileSync(
      path.join(refDir, 'litellm', 'model_prices_and_context_window.json'),
      'utf8',
    );
    const gc = Catalog.fromProviders(convertGenAI(genai), 'genai');
    const lc = Catalog.fromProviders(convertLiteLLM(litellm), 'litellm');
    const ours = loadBuiltinCatalog();
    const now = new Date();
    let checked = 0;
    let refDisagree = 0;
    const listed = new Set<string>();
    const unexplained: string[] = [];
    for (const { provider, model } of ours.models()) {
      const flat = (m: CatalogModel | undefined) =>
        m ? flattenPeriod(periodAt(compileModel(m), now).source) : undefined;
      const o = flat(model)!;
      const g = flat(findExact(gc.provider(provider), model.id));
      const lm = findExact(lc.provider(provider), model.id);
      const l = lm && lm.id.toLowerCase() === model.id.toLowerCase() ? flat(lm) : undefined;
      if (!g && !l && !model.source.includes('manual')) {
        unexplained.push(`${provider}/${model.id}: in neither reference and not manual`);
        continue;
      }
      const genaiPreferred = model.source.startsWith('genai-prices');
      const pref = genaiPreferred ? g : l;
      for (const [f, v] of Object.entries(o)) {
        checked++;
        let want = pref?.[f];
        // fields LiteLLM added to a genai-prices entry are checked against LiteLLM
        if (want === undefined && genaiPreferred && l) want = l[f];
        if (want === v) {
          if (g?.[f] !== undefined && l?.[f] !== undefined && g[f] !== l[f]) refDisagree++;
          continue;
        }
        const key = `${provider}/${model.id} ${f.startsWith('images.') ? 'images' : f}`;
        if (DELIBERATE[key]) {
          listed.add(key);
          continue;
        }
        unexplained.push(`${provider}/${model.id} ${f} = ${v}, preferred reference has ${String(want)}`);
      }
    }
    expect(unexplained).toEqual([]);
    expect([...listed].sort()).toEqual(Object.keys(DELIBERATE).sort());
    expect(checked).toBeGreaterThan(2000);
    // Reference disagreements (genai-prices taken by policy) are expected, not errors.
    expect(refDisagree).toBeGreaterThan(0);
  });
});

/** A period's prices as flat "field" → decimal string entries, for field-by-field comparison. */
function flattenPeriod(p: CatalogModel['prices'][number]): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (prefix: string, r: Partial<Record<string, string>> | undefined) => {
    for (const f of RATE_FIELDS) if (r?.[f] !== undefined) out[prefix + f] = r[f]!;
  };
  put('', p.rates);
  for (const t of p.tiers ?? []) put(`tier>${t.above_input_tokens}.`, t.rates);
  for (const w of p.time_windows ?? []) put(`window ${w.start}-${w.end}.`, w.rates);
  for (const [name, st] of Object.entries(p.service_tiers ?? {})) {
    if (st.multiplier !== undefined) out[`service_tier ${name}.multiplier`] = st.multiplier;
    put(`service_tier ${name}.`, st.rates);
    for (const t of st.tiers ?? []) put(`service_tier ${name}.tier>${t.above_input_tokens}.`, t.rates);
  }
  for (const i of p.images ?? []) out[`images.${i.size ?? ''}/${i.quality ?? ''}`] = i.price;
  return out;
}
