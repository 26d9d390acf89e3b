// Consumes `usage.repriced.v1` from pricing and appends it as `UsageRepriced` (LedgerService.appendRepricing,
// which group-commits the messages in flight together).
// Idempotent: a redelivery finds the cost already current, or its run's re-pricing already stored, and appends
// nothing. A re-pricing of a request the ledger has not recorded yet is retried (the recording may still be in
// flight), then dead-lettered.
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Topics, type UsageRepricedV1 } from '@spendops/contracts';
import { MESSAGE_BUS, PoisonMessageError, type MessageBus } from '@spendops/messaging';
import { LedgerService } from './ledger.service';

export const LEDGER_REPRICING_QUEUE = 'ledger.repricing';

/** Messages in flight: a run's messages arrive back to back, and those in flight are applied as one batch. */
export const REPRICING_PREFETCH = 200;

@Injectable()
export class LedgerRepricingConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    private readonly ledger: LedgerService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.subscribe<UsageRepricedV1>(
      LEDGER_REPRICING_QUEUE,
      [Topics.usageRepriced],
      async (payload) => {
        await applyRepricing(this.ledger, payload);
      },
      { prefetch: REPRICING_PREFETCH },
    );
  }
}

/** Validates a `usage.repriced.v1` payload and appends it; exported for launchers that wire the bus by hand. */
export async function applyRepricing(ledger: LedgerService, payload: UsageRepricedV1): Promise<void> {
  const p = payload as Partial<UsageRepricedV1> | null;
  if (
    !p ||
    typeof p.request_id !== 'string' ||
    !p.request_id ||
    typeof p.cost !== 'object' ||
    p.cost === null ||
    typeof p.cost.cost_source !== 'string'
  )
    throw new PoisonMessageError('usage.repriced.v1 without request_id or cost');
  const reason = typeof p.reason === 'string' && p.reason ? p.reason : 'repriced';
  const actor = typeof p.actor === 'string' && p.actor ? p.actor : 'pricing';
  // The run id makes a late redelivery (after a later run changed the cost again) a no-op too.
  const runId = typeof p.run_id === 'string' && p.run_id ? p.run_id : undefined;
  await ledger.appendRepricing(p.request_id, p.cost, reason, actor, runId);
}
