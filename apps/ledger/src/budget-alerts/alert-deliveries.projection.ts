// BudgetThresholdCrossed → the alert outbox. Its rows and its checkpoint commit together, so each crossing gets
// its deliveries exactly once (a replay or a second ledger finds them stored and adds nothing). Channels come
// from the budget's latest definition in its stream. Not rebuildable: a rebuild would alert everyone again.
import type { EntityManager } from 'typeorm';
import {
  BudgetEventTypes,
  type BudgetAlertV1,
  type BudgetChangedData,
  type BudgetDefinedData,
  type BudgetRecord,
  type BudgetThresholdCrossedData,
} from '@spendops/contracts';
import type { EventStore, Projection, StoredEvent } from '@spendops/event-store';
import { deliveryTargets } from './alert-channels';
import type { AlertDeliveryStore } from './alert-delivery.store';

export const BUDGET_ALERTS_PROJECTION = 'budget_alert_deliveries';

export function budgetStreamId(budgetId: string): string {
  return `budget:${budgetId}`;
}

export class AlertDeliveriesProjection implements Projection {
  readonly name = BUDGET_ALERTS_PROJECTION;
  readonly types = [BudgetEventTypes.thresholdCrossed];
  readonly batchSize = 100;

  constructor(
    private readonly store: EventStore,
    private readonly deliveries: AlertDeliveryStore,
  ) {}

  async handle(events: StoredEvent[], manager: EntityManager): Promise<void> {
    for (const event of events) {
      const crossing = crossingOf(event.data);
      // A malformed event can never be delivered; skipping it keeps the projection moving.
      if (!crossing) continue;
      const budget = await this.latestDefinition(crossing.budget_id, manager);
      await this.deliveries.insertAlert(manager, event.event_id, alertOf(crossing), deliveryTargets(budget));
    }
  }

  /** The budget as its latest BudgetDefined/BudgetChanged left it (null if its stream has neither). */
  private async latestDefinition(budgetId: string, manager: EntityManager): Promise<BudgetRecord | null> {
    let budget: BudgetRecord | null = null;
    for (const e of await this.store.readStream(budgetStreamId(budgetId), manager)) {
      if (e.type === BudgetEventTypes.defined || e.type === BudgetEventTypes.changed) {
        const data = e.data as BudgetDefinedData | BudgetChangedData;
        if (data?.budget) budget = data.budget;
      }
    }
    return budget;
  }
}

function crossingOf(data: unknown): BudgetThresholdCrossedData | null {
  if (typeof data !== 'object' || data === null) return null;
  const d = data as Partial<BudgetThresholdCrossedData>;
  const ok =
    typeof d.budget_id === 'string' &&
    d.budget_id !== '' &&
    typeof d.threshold === 'number' &&
    typeof d.crossed_at === 'string' &&
    !Number.isNaN(Date.parse(d.crossed_at));
  return ok ? (d as BudgetThresholdCrossedData) : null;
}

function alertOf(c: BudgetThresholdCrossedData): BudgetAlertV1 {
  return {
    budget_id: c.budget_id,
    name: c.name ?? '',
    threshold: c.threshold,
    spent_usd: c.spent_usd ?? '',
    amount_usd: c.amount_usd ?? '',
    period_start: c.period_start ?? '',
    crossed_at: c.crossed_at,
  };
}
