// Serves the alert history to the admin API: Commands.budgetsAlerts ({ budget_id }) → { alerts }.
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Commands, type BudgetsAlertsReply, type BudgetsAlertsRequest } from '@spendops/contracts';
import { MESSAGE_BUS, type MessageBus } from '@spendops/messaging';
import { AlertDeliveryStore } from './alert-delivery.store';

/** The contract's request, plus how many of the newest crossings to return (default 200, at most 1000). */
export type BudgetAlertsQuery = BudgetsAlertsRequest & { limit?: number };

@Injectable()
export class BudgetAlertsConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    private readonly store: AlertDeliveryStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.handle<BudgetAlertsQuery, BudgetsAlertsReply>(Commands.budgetsAlerts, (req) =>
      this.alerts(req),
    );
  }

  /** An unknown budget has no alerts (the API answers 404 from its own budget lookup). */
  async alerts(req: BudgetAlertsQuery): Promise<BudgetsAlertsReply> {
    if (typeof req?.budget_id !== 'string' || req.budget_id === '') throw new Error('budget_id is required');
    const limit = Math.min(1000, Math.max(1, Math.floor(Number(req.limit ?? 200)) || 200));
    return { alerts: await this.store.history(req.budget_id, limit) };
  }
}
