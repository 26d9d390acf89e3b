// Whether a request is in a budget's scope: every field the scope gives equals the request's, every listed
// dimension has that value; an empty scope matches every request. The same rule as the ledger's spend projection
// (libs/budgets scopeMatches), applied to what the proxy knows at admission.
import type { AdmissionInput, BudgetScope } from '@spendops/contracts';

export function requestInScope(scope: BudgetScope, input: AdmissionInput): boolean {
  if (scope.tenant !== undefined && scope.tenant !== input.key.tenant_id) return false;
  if (scope.key_id !== undefined && scope.key_id !== input.key.id) return false;
  if (scope.provider !== undefined && scope.provider !== input.provider) return false;
  if (scope.model !== undefined && scope.model !== input.model) return false;
  if (scope.dims) {
    for (const [key, value] of Object.entries(scope.dims)) {
      if (!Object.prototype.hasOwnProperty.call(input.dims, key) || input.dims[key] !== value) return false;
    }
  }
  return true;
}
