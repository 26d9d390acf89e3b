// Budgets in the ledger: the commands (Commands.budgets*), the budgets projection (budgets_view, spend per
// period, BudgetThresholdCrossed, budget.spend.v1; registered with the ledger's projections) and its migration. Imported by LedgerModule; needs the same
// globals (PersistenceModule's DataSource, EventStoreModule, a MESSAGE_BUS).
import { Module } from '@nestjs/common';
import { EventStore, type Projection } from '@spendops/event-store';
import type { MessageBus } from '@spendops/messaging';
import { BudgetCommandsHandler } from './budget-commands.handler';
import { BudgetService } from './budget.service';
import { BudgetsProjection } from './budgets.projection';
import { BudgetsSchema1733000000160 } from './budgets.migration';

/** For LEDGER_MIGRATIONS. */
export const BUDGETS_MIGRATIONS = [BudgetsSchema1733000000160];

/** The budgets projection; without a bus (the CLI's `projections rebuild`) it publishes nothing. */
export function budgetsProjections(bus: MessageBus | null, store: EventStore): Projection[] {
  return [new BudgetsProjection(store, bus)];
}

@Module({
  providers: [BudgetService, BudgetCommandsHandler],
  exports: [BudgetService],
})
export class BudgetsModule {}
