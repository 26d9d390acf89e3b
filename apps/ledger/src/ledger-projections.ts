// Registers the ledger's projections on the process's ProjectionRunner.
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { EventStore, ProjectionRunner } from '@spendops/event-store';
import { MESSAGE_BUS, type MessageBus } from '@spendops/messaging';
import { DenialsProjection } from './projections/denials.projection';
import { UsageEventsProjection } from './projections/usage-events.projection';
import { UsageRecordedOutbox } from './projections/usage-recorded.outbox';

export const LEDGER_PROJECTIONS = {
  usageEvents: 'usage_events_view',
  denials: 'denials_view',
  outbox: 'usage_recorded_outbox',
} as const;

@Injectable()
export class LedgerProjections implements OnModuleInit {
  constructor(
    private readonly runner: ProjectionRunner,
    private readonly store: EventStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
  ) {}

  onModuleInit(): void {
    this.runner.register(new UsageEventsProjection());
    this.runner.register(new DenialsProjection());
    this.runner.register(new UsageRecordedOutbox(this.bus, this.store));
  }
}
