// Whether a usage event falls in a budget's scope: every field the scope gives must equal the event's, and every
// listed dimension must have that value. An empty scope matches everything (a global budget).
import type { BudgetScope } from '@spendops/contracts';

/** The fields of a usage event (the EVENT of the admin API) a scope is matched against. */
export interface ScopedUsage {
  tenant_id: string;
  api_key_id: string;
  provider: string;
  model: string;
  dims?: Record<string, string> | null;
}

export function scopeMatches(scope: BudgetScope, event: ScopedUsage): boolean {
  if (scope.tenant !== undefined && scope.tenant !== event.tenant_id) return false;
  if (scope.key_id !== undefined && scope.key_id !== event.api_key_id) return false;
  if (scope.provider !== undefined && scope.provider !== event.provider) return false;
  if (scope.model !== undefined && scope.model !== event.model) return false;
  if (scope.dims) {
    const dims = event.dims ?? {};
    for (const [key, value] of Object.entries(scope.dims)) {
      if (!Object.prototype.hasOwnProperty.call(dims, key) || dims[key] !== value) return false;
    }
  }
  return true;
}
