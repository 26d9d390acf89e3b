// The append-only store: idempotent appends and the xmin-safe reader.
//
// Why the reader filters on xmin: global_position comes from a sequence taken at insert, but transactions
// commit in another order. A reader that trusted "position > checkpoint" would skip an event whose transaction
// took position 101 and committed after 102 was read. Reading only rows whose transaction is older than the
// oldest transaction still running (pg_snapshot_xmin), ordered by (transaction_id, global_position), never
// skips: everything below that horizon has committed or rolled back, so nothing can appear there later.
import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { DataSource, type EntityManager } from 'typeorm';
import type { Checkpoint, NewEvent, StoredEvent } from './event.types';

// Output columns are text (bigint and xid8 exceed JS numbers); ORDER BY must name the table's columns (e.*),
// or it would sort by these text aliases ('11' < '2').
const COLUMNS = `global_position::text AS global_position, transaction_id::text AS transaction_id, event_id::text AS event_id,
  stream_id, type, version, data, metadata, recorded_at`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class EventStore {
  /** Emits 'appended' after a commit that added events through this instance (an in-process wake-up). */
  readonly appended = new EventEmitter();

  constructor(private readonly dataSource: DataSource) {}

  /**
   * Append events in one statement. Events whose event_id is already stored (or repeated in the batch) are
   * skipped; returns the event_ids that were new. With `manager`, runs inside the caller's transaction.
   */
  async append(events: NewEvent[], manager?: EntityManager): Promise<string[]> {
    if (events.length === 0) return [];
    for (const e of events) {
      if (!UUID.test(e.event_id))
        throw new Error(`append: event_id ${JSON.stringify(e.event_id)} is not a UUID`);
      if (!e.stream_id) throw new Error(`append: event ${e.event_id} has no stream_id`);
      if (!e.type) throw new Error(`append: event ${e.event_id} has no type`);
    }
    const rows = events.map((e) => ({
      event_id: e.event_id.toLowerCase(),
      stream_id: e.stream_id,
      type: e.type,
      version: e.version ?? 1,
      data: e.data,
      metadata: e.metadata ?? {},
    }));
    const inserted: { event_id: string }[] = await (manager ?? this.dataSource.manager).query(
      `INSERT INTO events (event_id, stream_id, type, version, data, metadata)
       SELECT r.event_id, r.stream_id, r.type, r.version, r.data, r.metadata
       FROM jsonb_to_recordset($1::jsonb)
         AS r(event_id uuid, stream_id text, type text, version int, data jsonb, metadata jsonb)
       ON CONFLICT (event_id) DO NOTHING
       RETURNING event_id::text AS event_id`,
      [JSON.stringify(rows)],
    );
    if (inserted.length > 0) {
      if (manager?.queryRunner?.isTransactionActive) {
        // The caller commits later; wake readers only then (a poll picks it up otherwise).
        setImmediate(() => this.appended.emit('appended'));
      } else {
        this.appended.emit('appended');
      }
    }
    return inserted.map((r) => r.event_id);
  }

  /**
   * Up to `limit` events after `after` in (transaction_id, global_position) order, only from transactions
   * older than every transaction still in flight. Run it inside the projection's transaction.
   */
  async readAfter(
    after: Checkpoint,
    limit: number,
    manager?: EntityManager,
    types?: string[],
  ): Promise<StoredEvent[]> {
    // events_read_after (OrderedEventReader migration) pins the in-order index walk; same filter as described.
    return (manager ?? this.dataSource.manager).query(
      `SELECT ${COLUMNS} FROM events_read_after($1::xid8, $2::bigint, $3::int, $4::text[]) e
       ORDER BY e.transaction_id, e.global_position`,
      [after.transaction_id, after.global_position, limit, types && types.length > 0 ? types : null],
    );
  }

  /**
   * readAfter, plus the newest event of any type below the same horizon, from the same snapshot. When fewer than
   * `limit` events came back, everything up to that head has been seen, so a projection of sparse types (denials
   * among usage) may move its checkpoint there instead of walking the same skipped events on every pass: events
   * below the horizon are final, and any later one sorts after the head.
   */
  async readBatch(
    after: Checkpoint,
    limit: number,
    manager: EntityManager,
    types?: string[],
  ): Promise<{ events: StoredEvent[]; head: Checkpoint | null }> {
    const rows: (StoredEvent & { head_tx: string; head_pos: string; global_position: string | null })[] =
      await manager.query(
        `WITH batch AS (SELECT * FROM events_read_after($1::xid8, $2::bigint, $3::int, $4::text[])),
         head AS (
           SELECT transaction_id AS head_tx, global_position AS head_pos FROM events
           WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
           ORDER BY transaction_id DESC, global_position DESC LIMIT 1)
         SELECT head_tx::text AS head_tx, head_pos::text AS head_pos, ${COLUMNS}
         FROM head LEFT JOIN batch e ON true
         ORDER BY e.transaction_id, e.global_position`,
        [after.transaction_id, after.global_position, limit, types && types.length > 0 ? types : null],
      );
    if (rows.length === 0) return { events: [], head: null };
    const head = { transaction_id: rows[0].head_tx, global_position: rows[0].head_pos };
    const events: StoredEvent[] = [];
    for (const { head_tx: _tx, head_pos: _pos, ...event } of rows)
      if (event.global_position !== null) events.push(event as StoredEvent);
    return { events, head };
  }

  /** Every event of a stream, in append order. */
  async readStream(streamId: string, manager?: EntityManager): Promise<StoredEvent[]> {
    return (manager ?? this.dataSource.manager).query(
      `SELECT ${COLUMNS} FROM events e WHERE e.stream_id = $1 ORDER BY e.global_position`,
      [streamId],
    );
  }

  /**
   * Several streams in one read (a batch of re-pricings touches hundreds), only events of `types`: per stream id
   * that has any, its events in append order.
   */
  async readStreams(
    streamIds: string[],
    types: string[],
    manager?: EntityManager,
  ): Promise<Map<string, StoredEvent[]>> {
    const streams = new Map<string, StoredEvent[]>();
    if (streamIds.length === 0) return streams;
    const events: StoredEvent[] = await (manager ?? this.dataSource.manager).query(
      `SELECT ${COLUMNS} FROM events e WHERE e.stream_id = ANY($1::text[]) AND e.type = ANY($2::text[])
       ORDER BY e.global_position`,
      [[...new Set(streamIds)], types],
    );
    for (const event of events) {
      const stream = streams.get(event.stream_id);
      if (stream) stream.push(event);
      else streams.set(event.stream_id, [event]);
    }
    return streams;
  }

  /** Events after `after` that a reader has not handled yet (projection lag), including in-flight-safe ones. */
  async countAfter(after: Checkpoint, types?: string[]): Promise<number> {
    const params: unknown[] = [after.transaction_id, after.global_position];
    let typeFilter = '';
    if (types && types.length > 0) {
      params.push(types);
      typeFilter = 'AND type = ANY($3::text[])';
    }
    const [row] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM events WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint) ${typeFilter}`,
      params,
    );
    return row.n as number;
  }
}
