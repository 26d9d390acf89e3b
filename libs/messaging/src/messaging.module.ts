// One global module per process: MESSAGE_BUS (RabbitMQ when an AMQP URL is configured, otherwise the
// in-process transport of the all-in-one mode) and OUTBOUND_QUEUE (spooling publisher for the request path).
import {
  BeforeApplicationShutdown,
  DynamicModule,
  Global,
  Inject,
  Injectable,
  Module,
  OnApplicationShutdown,
} from '@nestjs/common';
import { MESSAGE_BUS, MessageBus, OUTBOUND_QUEUE } from './bus';
import { InProcessBus } from './in-process/in-process-bus';
import { SpoolingOutboundQueue, SpoolingOutboundQueueOptions } from './outbound/spooling-outbound-queue';
import { RabbitMqBus } from './rabbitmq/rabbitmq-bus';
import { RetryOptions } from './retry-policy';

export interface MessagingModuleOptions {
  /** amqp://… — RabbitMQ transport; absent: in-process transport. */
  amqpUrl?: string;
  /** Topic exchange of all events (default `spendops.events`). */
  exchange?: string;
  /** Directory of the outbound queue's disk spool (must be private to this process). */
  spoolDir: string;
  /** In-memory outbound queue bound before messages spill to the spool (default 10,000). */
  queueSize?: number;
  /** Messages per confirmed publish batch (default 500). */
  batch?: number;
  /** Shown in the broker's connection list. */
  connectionName?: string;
  /** Subscription defaults: attempts before dead-lettering and retry backoff. */
  retry?: Partial<RetryOptions>;
  /** Outbound queue tuning (segment size, fsync interval, replay retry pause). */
  spool?: SpoolingOutboundQueueOptions;
  /** How long shutdown waits for the outbound queue to publish before leaving the rest on disk (default 10 s). */
  drainTimeoutMs?: number;
  /** RabbitMQ: redeliveries after consumer deaths before the broker dead-letters a message (default 20). */
  deliveryLimit?: number;
}

export const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');

/** Shutdown order: publish what is queued, stop consuming and wait for handlers, then spool any stragglers. */
@Injectable()
export class MessagingLifecycle implements BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(OUTBOUND_QUEUE) private readonly outbound: SpoolingOutboundQueue,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingModuleOptions,
  ) {}

  // Before other modules' shutdown hooks run (database pools close in onApplicationShutdown), so handlers
  // still in flight can finish their work.
  async beforeApplicationShutdown(): Promise<void> {
    await this.outbound.drain(this.options.drainTimeoutMs ?? 10_000);
    await this.bus.close();
  }

  async onApplicationShutdown(): Promise<void> {
    // Whatever handlers enqueued while the bus closed goes to disk for the next run.
    await this.outbound.close(0);
  }
}

@Global()
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingModuleOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      providers: [
        { provide: MESSAGING_OPTIONS, useValue: options },
        {
          provide: MESSAGE_BUS,
          useFactory: async (): Promise<MessageBus> => {
            if (!options.amqpUrl) return new InProcessBus(options.retry);
            const bus = new RabbitMqBus({
              url: options.amqpUrl,
              exchange: options.exchange,
              connectionName: options.connectionName,
              deliveryLimit: options.deliveryLimit,
              ...options.retry,
            });
            // Boot does not wait for the broker: publishes spool until it is there, subscriptions start then.
            await bus.start();
            return bus;
          },
        },
        {
          provide: OUTBOUND_QUEUE,
          useFactory: (bus: MessageBus) =>
            new SpoolingOutboundQueue(bus, options.spoolDir, options.queueSize, options.batch, options.spool),
          inject: [MESSAGE_BUS],
        },
        MessagingLifecycle,
      ],
      exports: [MESSAGE_BUS, OUTBOUND_QUEUE],
    };
  }
}
