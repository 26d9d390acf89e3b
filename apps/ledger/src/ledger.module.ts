// The ledger: consumes priced usage and denials, appends them to the event store, projects the read models,
// publishes usage.recorded.v1. Needs (global) PersistenceModule.forRoot({ migrations: LEDGER_MIGRATIONS, ... }),
// EventStoreModule.forRoot() and a MESSAGE_BUS provider.
import { DynamicModule, Module } from '@nestjs/common';
import { EVENT_STORE_MIGRATIONS } from '@spendops/event-store';
import { LedgerAggregateRollups1733000000130 } from './aggregate-rollups.migration';
import { BUDGET_ALERTS_MIGRATIONS, BudgetAlertsModule, type BudgetAlertsOptions } from './budget-alerts';
import { BUDGETS_MIGRATIONS, BudgetsModule } from './budgets';
import { LedgerAnalyticsVolume1733000000140 } from './analytics-volume.migration';
import { LedgerUnpricedModelsIndex1733000000150 } from './unpriced-models.migration';
import { LedgerConsumer } from './ledger.consumer';
import { LedgerReadModels1733000000100 } from './ledger.migration';
import { LedgerProjections } from './ledger-projections';
import { LedgerQueries } from './ledger.queries';
import { LedgerService } from './ledger.service';
import { LedgerRepricingConsumer } from './repricing.consumer';

/** The ledger's migrations (the event store's included), for PersistenceModule.forRoot({ migrations }). */
export const LEDGER_MIGRATIONS = [
  ...EVENT_STORE_MIGRATIONS,
  LedgerReadModels1733000000100,
  LedgerAggregateRollups1733000000130,
  LedgerAnalyticsVolume1733000000140,
  LedgerUnpricedModelsIndex1733000000150,
  ...BUDGETS_MIGRATIONS,
  ...BUDGET_ALERTS_MIGRATIONS,
];

// Budgets (commands, projection, spend messages) and their alerts are part of the ledger.
export * from './budgets';
export * from './budget-alerts';

export interface LedgerModuleOptions {
  /** Delivery of budget threshold alerts (SMTP, retries). */
  budgetAlerts?: BudgetAlertsOptions;
}

@Module({
  imports: [BudgetsModule],
  providers: [LedgerService, LedgerQueries, LedgerConsumer, LedgerProjections, LedgerRepricingConsumer],
  exports: [LedgerService, LedgerQueries],
})
export class LedgerModule {
  /** The ledger with its budget alert delivery (the bare module has none: specs that only need the ledger). */
  static forRoot(options: LedgerModuleOptions = {}): DynamicModule {
    return { module: LedgerModule, imports: [BudgetAlertsModule.forRoot(options.budgetAlerts)] };
  }
}
