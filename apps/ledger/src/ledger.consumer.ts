// Consumes priced usage and denials from the bus. The handler resolves only after the append committed, so
// the bus acks only then; a redelivery appends nothing (deterministic event ids). Messages delivered together
// are appended together (LedgerService's group commit), so the prefetch is also the largest batch.
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Topics, type RequestDeniedV1, type UsagePricedV1 } from '@spendops/contracts';
import { MESSAGE_BUS, PoisonMessageError, type MessageBus } from '@spendops/messaging';
import type { UsageIngestedData } from './ledger.events';
import { LedgerService } from './ledger.service';

export const LEDGER_QUEUES = {
  usage: 'ledger.usage',
  denials: 'ledger.denials',
  ingest: 'ledger.ingest',
} as const;

/** Messages in flight per queue: enough that a burst fills one multi-row append rather than many small ones. */
export const USAGE_PREFETCH = 200;

@Injectable()
export class LedgerConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    private readonly ledger: LedgerService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.subscribe<UsagePricedV1>(
      LEDGER_QUEUES.usage,
      [Topics.usagePriced],
      async (payload) => {
        if (
          !isObject(payload) ||
          typeof payload.request_id !== 'string' ||
          !payload.request_id ||
          !isObject(payload.cost)
        )
          throw new PoisonMessageError('usage.priced.v1 without request_id or cost');
        await this.ledger.recordUsage(payload);
      },
      { prefetch: USAGE_PREFETCH },
    );
    await this.bus.subscribe<RequestDeniedV1>(
      LEDGER_QUEUES.denials,
      [Topics.requestDenied],
      async (payload) => {
        if (!isObject(payload) || typeof payload.request_id !== 'string' || !payload.request_id)
          throw new PoisonMessageError('request.denied.v1 without request_id');
        await this.ledger.recordDenial(payload);
      },
      { prefetch: USAGE_PREFETCH },
    );
    // The receipt of ingested usage (pricing consumes the same messages on its own queue and prices them).
    await this.bus.subscribe<unknown>(
      LEDGER_QUEUES.ingest,
      [Topics.usageIngest],
      async (payload) => {
        if (!isObject(payload) || typeof payload.request_id !== 'string' || !payload.request_id)
          throw new PoisonMessageError('usage.ingest.v1 without request_id');
        await this.ledger.recordIngestReceipt(payload as UsageIngestedData);
      },
      { prefetch: USAGE_PREFETCH },
    );
  }
}

function isObject(v: unknown): v is Record<string, unknown> & object {
  return typeof v === 'object' && v !== null;
}
