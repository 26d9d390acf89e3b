// Interim wiring until libs/messaging's MessagingModule lands: the in-process bus, and an outbound queue that
// publishes without waiting (no spool).
import { DynamicModule, Global, Module, OnApplicationShutdown, Inject } from '@nestjs/common';
import {
  InProcessBus,
  MESSAGE_BUS,
  OUTBOUND_QUEUE,
  type MessageBus,
  type OutboundQueue,
} from '@spendops/messaging';

class ForwardingQueue implements OutboundQueue {
  private readonly pending = new Set<Promise<void>>();
  constructor(private readonly bus: MessageBus) {}
  enqueue<T>(topic: string, payload: T, messageId?: string): void {
    const p = this.bus.publish(topic, payload, { messageId }).catch(() => undefined);
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
  async drain(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}

class BusCloser implements OnApplicationShutdown {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(OUTBOUND_QUEUE) private readonly queue: OutboundQueue,
  ) {}
  async onApplicationShutdown(): Promise<void> {
    await this.queue.drain();
    await this.bus.close();
  }
}

@Global()
@Module({})
export class InterimBusModule {
  static forRoot(): DynamicModule {
    return {
      module: InterimBusModule,
      global: true,
      providers: [
        { provide: MESSAGE_BUS, useFactory: () => new InProcessBus() },
        {
          provide: OUTBOUND_QUEUE,
          inject: [MESSAGE_BUS],
          useFactory: (bus: MessageBus) => new ForwardingQueue(bus),
        },
        BusCloser,
      ],
      exports: [MESSAGE_BUS, OUTBOUND_QUEUE],
    };
  }
}
