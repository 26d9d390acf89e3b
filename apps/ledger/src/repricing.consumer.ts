// Consumes `usage.repriced.v1` from pricing and appends it as `UsageRepriced` (LedgerService.appendRepricing).
// Idempotent: a redelivery finds the cost already current and appends nothing. A re-pricing of a request the
// ledger has not recorded yet is retried (the recording may still be in flight), then dead-lettered.
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Topics, type UsageRepricedV1 } from '@spendops/contracts';
import { MESSAGE_BUS, PoisonMessageError, type MessageBus } from '@spendops/messaging';
import { LedgerService } from './ledger.service';

export const LEDGER_REPRICING_QUEUE = 'ledger.repricing';

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
      { prefetch: 20 },
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
  await ledger.appendRepricing(p.request_id, p.cost, reason, actor);
}
