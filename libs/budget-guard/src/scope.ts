// Whether a request is in a budget's scope: the ledger's rule (libs/budgets scopeMatches), applied to what the
// proxy knows at admission, so the proxy enforces exactly the spend the ledger counts.
import { scopeMatches } from '@spendops/budgets';
import type { AdmissionInput, BudgetScope } from '@spendops/contracts';

export function requestInScope(scope: BudgetScope, input: AdmissionInput): boolean {
  return scopeMatches(scope, {
    tenant_id: input.key.tenant_id,
    api_key_id: input.key.id,
    provider: input.provider,
    model: input.model,
    dims: input.dims,
  });
}
