// Wires the pricing service to the bus: usage in, priced usage out, admin commands served.
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Commands, Topics } from '@spendops/contracts';
import { MESSAGE_BUS, type MessageBus } from '@spendops/messaging';
import { PricingService } from './pricing.service';

/** The competing-consumer queue of every pricing instance. */
export const PRICING_QUEUE = 'pricing';

@Injectable()
export class PricingConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    private readonly pricing: PricingService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.subscribe<unknown>(
      PRICING_QUEUE,
      [Topics.usageExtracted, Topics.usageIngest],
      async (payload, envelope) => {
        const priced = this.pricing.priceMessage(payload);
        // The ledger marks usage that did not pass through the proxy.
        priced.origin = envelope.topic === Topics.usageIngest ? 'ingest' : 'proxy';
        // The request id is the idempotency key downstream: a redelivered message yields the same message id.
        await this.bus.publish(Topics.usagePriced, priced, { messageId: priced.request_id });
      },
    );
    const p = this.pricing;
    await this.bus.handle(
      Commands.pricingModelsList,
      async (req: Parameters<PricingService['listModels']>[0]) => p.listModels(req ?? {}),
    );
    await this.bus.handle(Commands.pricingModelGet, async (req: Parameters<PricingService['getModel']>[0]) =>
      p.getModel(req),
    );
    await this.bus.handle(Commands.pricingUnpricedList, async () => p.listUnpriced());
    await this.bus.handle(
      Commands.pricingReprice,
      async (req: Parameters<PricingService['repricing']['reprice']>[0]) => p.repricing.reprice(req),
    );
    // Re-pricing as a job (the admin API): start answers at once, the run is polled through its row.
    await this.bus.handle(
      Commands.pricingRepriceStart,
      async (req: Parameters<PricingService['repricing']['start']>[0]) => p.repricing.start(req),
    );
    await this.bus.handle(
      Commands.pricingRepriceRunGet,
      async (req: Parameters<PricingService['repricing']['getRun']>[0]) => p.repricing.getRun(req),
    );
    await this.bus.handle(
      Commands.pricingRepriceRunsList,
      async (req: Parameters<PricingService['repricing']['listRuns']>[0]) => p.repricing.listRuns(req),
    );
    await this.bus.handle(Commands.pricingOverridesList, async () => p.listOverrides());
    await this.bus.handle(
      Commands.pricingOverridesAdd,
      async (req: Parameters<PricingService['addOverride']>[0]) => p.addOverride(req),
    );
    await this.bus.handle(
      Commands.pricingOverridesDelete,
      async (req: Parameters<PricingService['deleteOverride']>[0]) => p.deleteOverride(req),
    );
  }
}
