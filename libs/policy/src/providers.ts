// Provider and model allow-lists (docs/dimensions.md, "Provider and model allow-lists").
import { trimSpace } from './text';

/** Alternative route names of a provider. */
const PROVIDER_ALIASES: Readonly<Record<string, string>> = { 'google-ai-studio': 'google' };

/** The provider name an alias stands for (`google-ai-studio` → `google`). */
export function canonicalProvider(name: string): string {
  return PROVIDER_ALIASES[name] ?? name;
}

/** Whether the provider allow-list admits `provider`. An empty list or one holding `*` admits every provider. */
export function providerAllowed(list: readonly string[], provider: string): boolean {
  if (list.length === 0) return true;
  const prov = canonicalProvider(provider);
  return list.some((a) => a === '*' || canonicalProvider(a.toLowerCase()) === prov);
}

/**
 * Whether the model allow-list restricts requests to `provider` at all: not when it is empty or holds `*` or
 * `{provider}:*`. Only then must request bodies be inspected (and an unreadable body refused). Without a
 * provider: whether it restricts any provider.
 */
export function modelsRestricted(patterns: readonly string[], provider?: string): boolean {
  if (patterns.length === 0) return false;
  const prov = provider === undefined ? undefined : canonicalProvider(provider);
  for (const pat of patterns) {
    if (pat === '*') return false;
    if (prov === undefined) continue;
    const colon = pat.indexOf(':');
    if (
      colon >= 0 &&
      pat.slice(colon + 1) === '*' &&
      canonicalProvider(pat.slice(0, colon).toLowerCase()) === prov
    ) {
      return false;
    }
  }
  return true;
}

/** The form patterns are matched against: trimmed, lower-case. */
export function normModel(model: string): string {
  return trimSpace(model).toLowerCase();
}

/**
 * Whether `model`, sent to `provider`, matches one of the patterns `*`, `provider:exact`, `provider:prefix*`.
 * Matching ignores case and the model's surrounding whitespace. An empty list matches everything.
 */
export function matchModel(patterns: readonly string[], provider: string, model: string): boolean {
  if (patterns.length === 0) return true;
  const prov = canonicalProvider(provider);
  const m = normModel(model);
  for (const pat of patterns) {
    if (pat === '*') return true;
    const colon = pat.indexOf(':');
    if (colon < 0 || canonicalProvider(pat.slice(0, colon).toLowerCase()) !== prov) continue;
    const rest = pat.slice(colon + 1).toLowerCase();
    if (rest.endsWith('*') ? m.startsWith(rest.slice(0, -1)) : m === rest) return true;
  }
  return false;
}
