// Budget alert delivery: the BudgetThresholdCrossed projection into the alert outbox, the delivery worker
// (signed webhook, Slack, SMTP email, budget.alert.v1), and the alert history command. Needs what the ledger
// needs: the global PersistenceModule (with BUDGET_ALERTS_MIGRATIONS), EventStoreModule.forRoot() and MESSAGE_BUS.
import { Module, type DynamicModule, type OnModuleInit, Injectable } from '@nestjs/common';
import { EventStore, ProjectionRunner } from '@spendops/event-store';
import { AlertDeliveriesProjection } from './alert-deliveries.projection';
import { AlertDeliveryStore } from './alert-delivery.store';
import { AlertDeliveryWorker } from './alert-delivery.worker';
import { AlertSenders } from './alert-senders';
import { BudgetAlertsConsumer } from './budget-alerts.consumer';
import { BudgetAlertDeliveries1733000000170 } from './budget-alerts.migration';
import {
  BUDGET_ALERTS_OPTIONS,
  resolveBudgetAlertsOptions,
  type BudgetAlertsOptions,
} from './budget-alerts.options';

/** For PersistenceModule.forRoot({ migrations }) beside LEDGER_MIGRATIONS. */
export const BUDGET_ALERTS_MIGRATIONS = [BudgetAlertDeliveries1733000000170];

@Injectable()
class AlertProjectionRegistrar implements OnModuleInit {
  constructor(
    private readonly runner: ProjectionRunner,
    private readonly store: EventStore,
    private readonly deliveries: AlertDeliveryStore,
  ) {}

  onModuleInit(): void {
    this.runner.register(new AlertDeliveriesProjection(this.store, this.deliveries));
  }
}

@Module({})
export class BudgetAlertsModule {
  static forRoot(options: BudgetAlertsOptions = {}): DynamicModule {
    return {
      module: BudgetAlertsModule,
      providers: [
        { provide: BUDGET_ALERTS_OPTIONS, useValue: resolveBudgetAlertsOptions(options) },
        AlertDeliveryStore,
        AlertSenders,
        AlertDeliveryWorker,
        AlertProjectionRegistrar,
        BudgetAlertsConsumer,
      ],
      exports: [AlertDeliveryWorker, AlertDeliveryStore, BudgetAlertsConsumer],
    };
  }
}
