/** Names of the built-in providers (for `SPENDOPS_UPSTREAM_<NAME>` mapping). */
export function knownProviderNames(): string[] {
  return [];
}
