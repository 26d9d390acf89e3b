// Helpers for specs that run a service module on a real bus: provide the bus globally as the launcher does, and
// collect what the module publishes.
import type { DynamicModule } from '@nestjs/common';
import { MESSAGE_BUS, type Envelope, type MessageBus } from '@spendops/messaging';

/** A global module providing `bus` as MESSAGE_BUS (what MessagingModule does in a process). */
export function globalBusModule(bus: MessageBus): DynamicModule {
  return {
    module: class TestBusModule {},
    global: true,
    providers: [{ provide: MESSAGE_BUS, useValue: bus }],
    exports: [MESSAGE_BUS],
  };
}

export interface CapturedMessages<T> {
  readonly envelopes: Envelope<T>[];
  /** Resolves once at least `n` messages have arrived. */
  waitFor(n: number): Promise<void>;
}

/** Subscribes `queue` to `topics` and keeps every envelope delivered. */
export async function captureMessages<T>(
  bus: MessageBus,
  queue: string,
  topics: string[],
): Promise<CapturedMessages<T>> {
  const envelopes: Envelope<T>[] = [];
  let waiters: (() => void)[] = [];
  await bus.subscribe<T>(queue, topics, async (_payload, envelope) => {
    envelopes.push(envelope);
    const wake = waiters;
    waiters = [];
    wake.forEach((w) => w());
  });
  return {
    envelopes,
    waitFor: (n) =>
      new Promise<void>((resolve) => {
        const check = () => (envelopes.length >= n ? resolve() : waiters.push(check));
        check();
      }),
  };
}
