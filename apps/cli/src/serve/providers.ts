import { BUILTIN_PROVIDERS, PROVIDER_ALIASES } from '@spendops/providers';

/** Names of the built-in providers and aliases (for `SPENDOPS_UPSTREAM_<NAME>` mapping). */
export function knownProviderNames(): string[] {
  return [...BUILTIN_PROVIDERS.map((p) => p.name), ...Object.keys(PROVIDER_ALIASES)];
}
