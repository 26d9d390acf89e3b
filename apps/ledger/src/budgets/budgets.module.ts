// Budgets in the ledger: the commands (Commands.budgets*), the budgets projection (budgets_view, spend per
// period, BudgetThresholdCrossed, budget.spend.v1) and its migration. Imported by LedgerModule; needs the same
// globals (PersistenceModule's DataSource, EventStoreModule, a MESSAGE_BUS).
import { Inject, Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { EventStore, ProjectionRunner, type Projection } from '@spendops/event-store';
import { MESSAGE_BUS, type MessageBus } from '@spendops/messaging';
import { BudgetCommandsHandler } from './budget-commands.handler';
import { BudgetService } from './budget.service';
import { BUDGETS_PROJECTION, BudgetsProjection } from './budgets.projection';
import { BudgetsSchema1733000000160 } from './budgets.migration';

/** For LEDGER_MIGRATIONS. */
export const BUDGETS_MIGRATIONS = [BudgetsSchema1733000000160];

/** The budgets projection; without a bus (the CLI's `projections rebuild`) it publishes nothing. */
export function budgetsProjections(bus: MessageBus | null, store: EventStore): Projection[] {
  return [new BudgetsProjection(store, bus)];
}

/**
 * Registers the budgets projection on the process's runner. BudgetsModule is imported by LedgerModule, so this
 * runs before LedgerProjections registers the others: the budgets projection comes first in each pass, and a
 * bus outage that makes the usage.recorded outbox fail its batch does not hold back threshold crossings.
 * (If ledgerProjections() ever lists the budgets projection, drop this provider.)
 */
@Injectable()
export class BudgetsProjectionRegistrar implements OnModuleInit {
  constructor(
    private readonly runner: ProjectionRunner,
    private readonly store: EventStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
  ) {}

  onModuleInit(): void {
    if (this.runner.names().includes(BUDGETS_PROJECTION)) return;
    for (const projection of budgetsProjections(this.bus, this.store)) this.runner.register(projection);
  }
}

@Module({
  providers: [BudgetService, BudgetCommandsHandler, BudgetsProjectionRegistrar],
  exports: [BudgetService],
})
export class BudgetsModule {}
