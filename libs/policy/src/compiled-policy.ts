// A key policy turned once into the lookups the request path needs: provider and model allow-lists as sets and
// prefix lists, dimension limits resolved. Cached per policy object: a key's record (and so its policy) is
// replaced, never changed in place, when the key changes, so a new policy takes effect on the next request.
import type { KeyPolicy } from '@spendops/contracts';
import type { DimsPolicy } from './dims';
import { type DimsLimits, dimsLimitsOf } from './policy-defaults';
import { canonicalProvider, normModel } from './providers';

/** The model patterns `{provider}:exact` and `{provider}:prefix*` of one provider, lower-cased. */
interface ProviderModels {
  exact: Set<string>;
  prefixes: string[];
}

export interface CompiledModels {
  /** No patterns, or `*`: every model of every provider. */
  any: boolean;
  /** Canonical providers whose models are all allowed (`{provider}:*`). */
  anyOf: Set<string>;
  byProvider: Map<string, ProviderModels>;
}

export interface CompiledDims extends DimsLimits {
  allowedSet: ReadonlySet<string>;
  pinned: ReadonlyMap<string, string>;
  defaults: ReadonlyMap<string, string>;
  required: boolean;
}

export interface CompiledPolicy {
  /** Canonical providers the list admits; null when it admits every provider. */
  providers: Set<string> | null;
  models: CompiledModels;
  dims: CompiledDims;
}

const compiledPolicies = new WeakMap<KeyPolicy, CompiledPolicy>();
const compiledDims = new WeakMap<DimsPolicy, CompiledDims>();

export function compilePolicy(p: KeyPolicy): CompiledPolicy {
  let c = compiledPolicies.get(p);
  if (c === undefined) {
    c = {
      providers: compileProviders(p.providers ?? []),
      models: compileModels(p.models ?? []),
      dims: compileDims(p),
    };
    compiledPolicies.set(p, c);
  }
  return c;
}

export function compileDims(p: DimsPolicy): CompiledDims {
  let c = compiledDims.get(p);
  if (c === undefined) {
    const limits = dimsLimitsOf(p);
    c = {
      ...limits,
      allowedSet: new Set(limits.allowed),
      pinned: new Map(Object.entries(p.dims_pinned ?? {})),
      defaults: new Map(Object.entries(p.dims_default ?? {})),
      required: p.dims_required === true,
    };
    compiledDims.set(p, c);
  }
  return c;
}

function compileProviders(list: readonly string[]): Set<string> | null {
  if (list.length === 0 || list.includes('*')) return null;
  return new Set(list.map((a) => canonicalProvider(a.toLowerCase())));
}

function compileModels(patterns: readonly string[]): CompiledModels {
  const c: CompiledModels = { any: patterns.length === 0, anyOf: new Set(), byProvider: new Map() };
  for (const pat of patterns) {
    if (pat === '*') c.any = true;
    const colon = pat.indexOf(':');
    if (colon < 0) continue;
    const prov = canonicalProvider(pat.slice(0, colon).toLowerCase());
    if (pat.slice(colon + 1) === '*') c.anyOf.add(prov);
    let pm = c.byProvider.get(prov);
    if (pm === undefined) {
      pm = { exact: new Set(), prefixes: [] };
      c.byProvider.set(prov, pm);
    }
    const rest = pat.slice(colon + 1).toLowerCase();
    if (rest.endsWith('*')) pm.prefixes.push(rest.slice(0, -1));
    else pm.exact.add(rest);
  }
  return c;
}

/** providerAllowed for a canonical provider name. */
export function compiledProviderAllowed(c: CompiledPolicy, prov: string): boolean {
  return c.providers === null || c.providers.has(prov);
}

/** modelsRestricted for a canonical provider name. */
export function compiledModelsRestricted(m: CompiledModels, prov: string): boolean {
  return !m.any && !m.anyOf.has(prov);
}

/** matchModel for a canonical provider name. */
export function compiledMatchModel(m: CompiledModels, prov: string, model: string): boolean {
  if (m.any) return true;
  const pm = m.byProvider.get(prov);
  if (pm === undefined) return false;
  const norm = normModel(model);
  if (pm.exact.has(norm)) return true;
  for (const prefix of pm.prefixes) if (norm.startsWith(prefix)) return true;
  return false;
}
