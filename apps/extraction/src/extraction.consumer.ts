// Wires extraction to the bus: usage.captured.v1 in (queue `extraction`), usage.extracted.v1 out.
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Topics } from '@spendops/contracts';
import { MESSAGE_BUS, type MessageBus } from '@spendops/messaging';
import { ExtractionMetrics } from './extraction.metrics';
import { ExtractionService } from './extraction.service';

/** The competing-consumer queue of every extraction instance. */
export const EXTRACTION_QUEUE = 'extraction';

@Injectable()
export class ExtractionConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    private readonly extraction: ExtractionService,
    private readonly metrics: ExtractionMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.subscribe<unknown>(EXTRACTION_QUEUE, [Topics.usageCaptured], async (payload) => {
      const extracted = this.extraction.extractMessage(payload);
      try {
        // The request id is the idempotency key downstream: a redelivery publishes the same message id.
        await this.bus.publish(Topics.usageExtracted, extracted, { messageId: extracted.request_id });
      } catch (err) {
        this.metrics.failures.inc({ reason: 'publish' });
        throw err; // retried by the bus
      }
    });
  }
}
