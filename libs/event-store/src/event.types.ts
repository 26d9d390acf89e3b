export interface NewEvent<T = unknown> {
  /** The idempotency key: appending an event_id already stored appends nothing. */
  event_id: string;
  /** The stream the event belongs to (the request id for usage). */
  stream_id: string;
  type: string;
  /** Schema version of `data` (default 1). */
  version?: number;
  data: T;
  metadata?: Record<string, unknown>;
}

export interface StoredEvent<T = unknown> {
  global_position: string;
  /** xid8 of the appending transaction, as a decimal string. */
  transaction_id: string;
  event_id: string;
  stream_id: string;
  type: string;
  version: number;
  data: T;
  metadata: Record<string, unknown>;
  recorded_at: Date;
}

/** Where a reader stands: the (transaction_id, global_position) of the last event it handled. */
export interface Checkpoint {
  transaction_id: string;
  global_position: string;
}

export const START: Checkpoint = { transaction_id: '0', global_position: '0' };

export function checkpointOf(event: Pick<StoredEvent, 'transaction_id' | 'global_position'>): Checkpoint {
  return { transaction_id: event.transaction_id, global_position: event.global_position };
}
