// The outbox: every stored or re-priced usage event is published as `usage.recorded.v1` (body = EVENT). The
// checkpoint advances in the transaction that commits after bus.publish resolved, so a crash or a bus outage
// republishes (at least once, message id = the event id, so consumers deduplicate) and never loses one.
import type { EntityManager } from 'typeorm';
import { Topics, type UsageEventView } from '@spendops/contracts';
import type { MessageBus } from '@spendops/messaging';
import type { Projection, StoredEvent } from '@spendops/event-store';
import { LedgerEventTypes, type UsageRecordedData, type UsageRepricedData } from '../ledger.events';
import { viewFromPriced, withCosts } from '../usage-view.mapper';

type StreamEvent = Pick<StoredEvent, 'event_id' | 'stream_id' | 'type' | 'data'>;

export class UsageRecordedOutbox implements Projection {
  readonly name = 'usage_recorded_outbox';
  readonly types = [LedgerEventTypes.usageRecorded, LedgerEventTypes.usageRepriced];
  readonly batchSize = 500;

  constructor(private readonly bus: MessageBus) {}

  async handle(events: StoredEvent[], manager: EntityManager): Promise<void> {
    // The streams of every re-priced request in one read (a re-pricing run is hundreds per batch).
    const streams = await this.streamsOf(
      events.filter((e) => e.type === LedgerEventTypes.usageRepriced).map((e) => e.stream_id),
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

  /** The recordings and re-pricings of these streams, each stream in append order. */
  private async streamsOf(streamIds: string[], manager: EntityManager): Promise<Map<string, StreamEvent[]>> {
    const out = new Map<string, StreamEvent[]>();
    if (streamIds.length === 0) return out;
    const rows: StreamEvent[] = await manager.query(
      `SELECT event_id::text AS event_id, stream_id, type, data FROM events
       WHERE stream_id = ANY($1::text[]) AND type = ANY($2::text[])
       ORDER BY global_position`,
      [[...new Set(streamIds)], this.types],
    );
    for (const row of rows) {
      const stream = out.get(row.stream_id);
      if (stream) stream.push(row);
      else out.set(row.stream_id, [row]);
    }
    return out;
  }
}

/** The EVENT as of a re-pricing: the recording with this and earlier re-pricings of its stream applied. */
function viewAt(event: StoredEvent, stream: StreamEvent[]): UsageEventView | null {
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
