// Registers the ledger's projections on the process's ProjectionRunner.
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { EventStore, ProjectionRunner, type Projection } from '@spendops/event-store';
import { MESSAGE_BUS, type MessageBus } from '@spendops/messaging';
import { budgetsProjections } from './budgets/budgets.module';
import { DenialsProjection } from './projections/denials.projection';
import { UsageEventsProjection } from './projections/usage-events.projection';
import { UsageRecordedOutbox } from './projections/usage-recorded.outbox';

export const LEDGER_PROJECTIONS = {
  usageEvents: 'usage_events_view',
  denials: 'denials_view',
  outbox: 'usage_recorded_outbox',
} as const;

/**
 * The ledger's projections, in the order they run (budgets first: a bus outage that fails the outbox's batch does
 * not hold back threshold crossings). Without a bus (the CLI) the outbox is a stand-in with the same name and
 * types, enough for status; it refuses to run, since only a server publishes. The budget alerts' deliveries are a
 * projection of their own module, registered by it and never rebuilt (a rebuild would alert everyone again).
 */
export function ledgerProjections(bus: MessageBus | null, store: EventStore): Projection[] {
  const outbox = new UsageRecordedOutbox(bus ?? refusingBus(), store);
  return [...budgetsProjections(bus, store), new UsageEventsProjection(), new DenialsProjection(), outbox];
}

function refusingBus(): MessageBus {
  const refuse = (): Promise<never> =>
    Promise.reject(new Error('usage.recorded.v1 is published by a running ledger service, not the CLI'));
  return {
    publish: refuse,
    subscribe: refuse,
    handle: refuse,
    request: refuse,
    health: () => ({ ok: false, transport: 'in-process', detail: 'no bus (CLI)' }),
    close: async () => undefined,
  };
}

@Injectable()
export class LedgerProjections implements OnModuleInit {
  constructor(
    private readonly runner: ProjectionRunner,
    private readonly store: EventStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
  ) {}

  onModuleInit(): void {
    for (const projection of ledgerProjections(this.bus, this.store)) this.runner.register(projection);
  }
}
