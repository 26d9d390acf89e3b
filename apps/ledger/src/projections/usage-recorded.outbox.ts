// The outbox: every stored or re-priced usage event is published as `usage.recorded.v1` (body = EVENT). The
// checkpoint advances in the transaction that commits after bus.publish resolved, so a crash or a bus outage
// republishes (at least once, message id = the event id, so consumers deduplicate) and never loses one.
import type { EntityManager } from 'typeorm';
import { Topics, type UsageEventView } from '@spendops/contracts';
import type { MessageBus } from '@spendops/messaging';
import type { EventStore, Projection, StoredEvent } from '@spendops/event-store';
import { LedgerEventTypes, type UsageRecordedData, type UsageRepricedData } from '../ledger.events';
import { viewFromPriced, withCosts } from '../usage-view.mapper';

export class UsageRecordedOutbox implements Projection {
  readonly name = 'usage_recorded_outbox';
  readonly types = [LedgerEventTypes.usageRecorded, LedgerEventTypes.usageRepriced];
  readonly batchSize = 500;

  constructor(
    private readonly bus: MessageBus,
    private readonly store: EventStore,
  ) {}

  async handle(events: StoredEvent[], manager: EntityManager): Promise<void> {
    // The streams of every re-priced request in one read (a re-pricing run is hundreds per batch).
    const streams = await this.store.readStreams(
      events.filter((e) => e.type === LedgerEventTypes.usageRepriced).map((e) => e.stream_id),
      this.types,
      manager,
    );
    const messages: { id: string; body: UsageEventView }[] = [];
    for (const event of events) {
      const body =
        event.type === LedgerEventTypes.usageRecorded
          ? viewFromPriced(event.data as UsageRecordedData)
          : viewAt(event, streams.get(event.stream_id) ?? []);
      if (body) messages.push({ id: event.event_id, body });
    }
    await Promise.all(
      messages.map((m) => this.bus.publish(Topics.usageRecorded, m.body, { messageId: m.id })),
    );
  }
}

/** The EVENT as of a re-pricing: the recording with this and earlier re-pricings of its stream applied. */
function viewAt(event: StoredEvent, stream: StoredEvent[]): UsageEventView | null {
  let view: UsageEventView | null = null;
  for (const e of stream) {
    if (e.type === LedgerEventTypes.usageRecorded && !view)
      view = viewFromPriced(e.data as UsageRecordedData);
    if (e.type === LedgerEventTypes.usageRepriced && view)
      view = { ...view, ...withCosts((e.data as UsageRepricedData).cost) };
    if (e.event_id === event.event_id) break;
  }
  return view;
}
