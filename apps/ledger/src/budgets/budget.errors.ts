// Errors of the budget commands; their names travel over the bus (RemoteCommandError.remoteName) and the
// admin API maps them: not found → 404, invalid → 400 with the field named first in the message.
import { BudgetErrors } from '@spendops/contracts';
import { describeErrors, type FieldError } from '@spendops/budgets';

export class BudgetNotFoundError extends Error {
  constructor(readonly budgetId: string) {
    super(`budget ${budgetId} not found`);
    this.name = BudgetErrors.notFound;
  }
}

/** Message: `field: problem; field: problem` (e.g. `amount_usd: must be greater than zero`). */
export class BudgetValidationError extends Error {
  constructor(readonly errors: FieldError[]) {
    super(describeErrors(errors));
    this.name = BudgetErrors.invalid;
  }
}
