// An immutable, versioned, indexed catalog: model-name resolution (docs/pricing.md §3) and the period in force.
import { createHash } from 'node:crypto';
import {
  clockSeconds,
  compileModel,
  compileServiceTiers,
  type CompiledModel,
  type CompiledPeriod,
  type CompiledServiceTier,
} from './compiled';
import { PROVIDER_MODEL_PREFIXES } from './provider-names';
import type { CatalogDocument, CatalogModel, ProviderFile } from './schema';

/** A resolved catalog entry: the model, the period in force at the lookup time, the provider-wide service tiers. */
export interface ModelPrice {
  provider: string;
  model: CatalogModel;
  period: CompiledPeriod;
  providerServiceTiers: Map<string, CompiledServiceTier>;
}

interface ProviderIndex {
  file: ProviderFile;
  exact: Map<string, CompiledModel>;
  patterns: { re: RegExp; model: CompiledModel }[];
  /** Longest first. */
  prefixes: { prefix: string; model: CompiledModel }[];
  serviceTiers: Map<string, CompiledServiceTier>;
}

const DATE_SUFFIX = /(-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-latest|-\d{3,4}|-v\d+(:\d+)?)$/i;
/** OpenRouter model vendors → our providers (a vendor's direct price backs OpenRouter names it lacks). */
const VENDOR_TO_PROVIDER: Readonly<Record<string, string>> = {
  anthropic: 'anthropic',
  openai: 'openai',
  google: 'google',
  'x-ai': 'xai',
  xai: 'xai',
  mistralai: 'mistral',
  mistral: 'mistral',
  deepseek: 'deepseek',
  perplexity: 'perplexity',
  'z-ai': 'zai',
  zai: 'zai',
  cerebras: 'cerebras',
  groq: 'groq',
};
/** Bare upstream names OpenRouter sometimes answers with, by family. */
const MODEL_FAMILIES: ReadonlyArray<[string, string]> = [
  ['claude', 'anthropic'],
  ['gpt-', 'openai'],
  ['o1', 'openai'],
  ['o3', 'openai'],
  ['o4', 'openai'],
  ['gemini', 'google'],
  ['grok', 'xai'],
  ['mistral', 'mistral'],
  ['deepseek', 'deepseek'],
  ['glm', 'zai'],
];
const RESOLVE_CACHE_LIMIT = 20_000;

export class Catalog {
  private readonly index = new Map<string, ProviderIndex>();
  private readonly resolved = new Map<string, { model: CompiledModel; provider: string } | null>();

  private constructor(
    readonly version: string,
    readonly providers: readonly ProviderFile[],
  ) {
    for (const pf of providers) {
      if (!pf.provider) throw new Error('catalog: a provider name is empty');
      if (this.index.has(pf.provider)) throw new Error(`catalog: provider "${pf.provider}" appears twice`);
      const ix: ProviderIndex = {
        file: pf,
        exact: new Map(),
        patterns: [],
        prefixes: [],
        serviceTiers: compileServiceTiers(pf.service_tiers),
      };
      for (const m of pf.models) {
        validateModel(pf.provider, m);
        const cm = compileModel(m);
        for (const name of [m.id, ...(m.aliases ?? [])]) {
          const k = name.toLowerCase();
          if (!ix.exact.has(k)) ix.exact.set(k, cm);
        }
        for (const p of m.patterns ?? []) {
          try {
            ix.patterns.push({ re: new RegExp(p, 'i'), model: cm });
          } catch (err) {
            throw new Error(`catalog ${pf.provider}/${m.id}: pattern ${JSON.stringify(p)}: ${String(err)}`);
          }
        }
        for (const p of m.prefixes ?? []) ix.prefixes.push({ prefix: p.toLowerCase(), model: cm });
      }
      // stable: equal lengths keep catalog order
      ix.prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
      this.index.set(pf.provider, ix);
    }
  }

  /** Indexes provider files; the version defaults to "builtin-" + 12 hex of the SHA-256 of their JSON. */
  static fromProviders(providers: ProviderFile[], version?: string): Catalog {
    const sorted = [...providers].sort((a, b) =>
      a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : 0,
    );
    return new Catalog(version ?? `builtin-${contentHash(sorted)}`, sorted);
  }

  static fromDocument(doc: CatalogDocument, version?: string): Catalog {
    if (doc.schema_version !== 1 || !Array.isArray(doc.providers))
      throw new Error('catalog: unknown document format');
    return Catalog.fromProviders(doc.providers, version);
  }

  /** A copy carrying another version name (tests, imported versions). */
  withVersion(version: string): Catalog {
    return new Catalog(version, this.providers);
  }

  /** Every (provider, model) in file order. */
  models(): { provider: string; model: CatalogModel }[] {
    return this.providers.flatMap((pf) => pf.models.map((model) => ({ provider: pf.provider, model })));
  }

  provider(name: string): ProviderFile | undefined {
    return this.index.get(name)?.file;
  }

  /**
   * Resolves a model name for a (canonical) provider at a time; first hit wins, case-insensitive:
   * the name, without "models/" and without a prefix naming this provider; for each: exact id or alias, a
   * pattern, the longest prefix; then the same with a date or version suffix removed; then OpenRouter's
   * vendor/model names at the vendor's own price and bare names by family.
   */
  lookup(provider: string, model: string, at: Date): ModelPrice | undefined {
    const key = `${provider}\u0000${model}`;
    let hit = this.resolved.get(key);
    if (hit === undefined) {
      hit = this.resolve(provider, model, false) ?? null;
      if (this.resolved.size >= RESOLVE_CACHE_LIMIT) this.resolved.clear();
      this.resolved.set(key, hit);
    }
    if (!hit) return undefined;
    return {
      provider: hit.provider,
      model: hit.model.model,
      period: periodAt(hit.model, at),
      providerServiceTiers: this.index.get(hit.provider)?.serviceTiers ?? new Map(),
    };
  }

  /** Resolution without fallbacks (suffix removal, other providers): the generator's "already covered" test. */
  resolveStrict(provider: string, model: string): CatalogModel | undefined {
    return this.resolve(provider, model, true)?.model.model;
  }

  private resolve(
    provider: string,
    model: string,
    strict: boolean,
  ): { model: CompiledModel; provider: string } | undefined {
    const name = model.trim().toLowerCase();
    if (name === '') return undefined;
    const ix = this.index.get(provider);
    if (ix) {
      const cands = [name];
      if (name.startsWith('models/')) cands.push(name.slice('models/'.length));
      for (const p of PROVIDER_MODEL_PREFIXES[provider] ?? []) {
        for (const c of [...cands]) {
          if (c.startsWith(p) && c.length > p.length) cands.push(c.slice(p.length));
        }
      }
      for (const c of cands) {
        const m = match(ix, c);
        if (m) return { model: m, provider };
      }
      if (strict) return undefined;
      for (const c of cands) {
        const s = c.replace(DATE_SUFFIX, '');
        if (s !== c && s !== '') {
          const m = match(ix, s);
          if (m) return { model: m, provider };
        }
      }
    }
    if (strict) return undefined;
    if (provider === 'openrouter' && !name.includes('/')) {
      const family = MODEL_FAMILIES.find(([prefix]) => name.startsWith(prefix));
      if (family) return this.resolve(family[1], name, false);
    }
    const slash = name.indexOf('/');
    if (slash >= 0 && (provider === 'openrouter' || !ix)) {
      const our = VENDOR_TO_PROVIDER[name.slice(0, slash)];
      if (our && our !== provider) {
        const rest = name.slice(slash + 1).split(':')[0]; // ":beta", ":thinking" variants bill as the base model
        return this.resolve(our, rest, false);
      }
    }
    return undefined;
  }
}

function match(ix: ProviderIndex, name: string): CompiledModel | undefined {
  const exact = ix.exact.get(name);
  if (exact) return exact;
  for (const p of ix.patterns) if (p.re.test(name)) return p.model;
  for (const p of ix.prefixes) if (name.startsWith(p.prefix)) return p.model;
  return undefined;
}

/** The last period whose effective_from (a UTC date) is not after `at`; before the first dated one, the first. */
export function periodAt(m: CompiledModel, at: Date): CompiledPeriod {
  const day = at.toISOString().slice(0, 10);
  let p = m.periods[0];
  for (const q of m.periods) if (q.effectiveFrom === '' || q.effectiveFrom <= day) p = q;
  return p;
}

function validateModel(provider: string, m: CatalogModel): void {
  const fail = (why: string): never => {
    throw new Error(`catalog ${provider}/${m.id}: ${why}`);
  };
  if (!m.id) fail('model id is empty');
  if (!m.prices || m.prices.length === 0) fail('no prices');
  let prev = '';
  m.prices.forEach((p, i) => {
    if (p.effective_from !== undefined && p.effective_from !== '') {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(p.effective_from) || Number.isNaN(Date.parse(p.effective_from))) {
        fail(`prices[${i}].effective_from: not a date`);
      }
    } else if (i > 0) fail(`prices[${i}]: only the first period may omit effective_from`);
    const from = p.effective_from ?? '';
    if (i > 0 && from <= prev) fail(`prices[${i}]: periods must be in increasing effective_from order`);
    prev = from;
    const tiers = p.tiers ?? [];
    for (let j = 1; j < tiers.length; j++) {
      if (tiers[j].above_input_tokens <= tiers[j - 1].above_input_tokens)
        fail(`prices[${i}].tiers: thresholds must increase`);
    }
    for (const w of p.time_windows ?? []) {
      if (clockSeconds(w.start) === undefined)
        fail(`prices[${i}].time_windows: bad start ${JSON.stringify(w.start)}`);
      if (clockSeconds(w.end) === undefined)
        fail(`prices[${i}].time_windows: bad end ${JSON.stringify(w.end)}`);
    }
  });
}

function contentHash(providers: readonly ProviderFile[]): string {
  return createHash('sha256').update(JSON.stringify(providers)).digest('hex').slice(0, 12);
}
