import type { EntityManager } from 'typeorm';
import type { StoredEvent } from './event.types';

/**
 * A named read model fed by the event store. `handle` writes its rows through `manager`, inside the
 * transaction that also advances its checkpoint, so each event takes effect exactly once.
 */
export interface Projection {
  /** Unique; the checkpoint row's key. Change it (e.g. `usage_events_view.v2`) to rebuild into a new version. */
  readonly name: string;
  /** Only these event types are read (all when omitted). */
  readonly types?: string[];
  /** Events per transaction (default 500). */
  readonly batchSize?: number;
  handle(events: StoredEvent[], manager: EntityManager): Promise<void>;
  /** Empty the read model, for a rebuild from position zero. Without it the projection cannot be rebuilt. */
  reset?(manager: EntityManager): Promise<void>;
}
