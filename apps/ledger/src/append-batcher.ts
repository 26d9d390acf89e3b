// Group commit for the consumer path: events handed in while a write is under way (the bus delivers up to
// `prefetch` messages at once) are appended together, one transaction and one multi-row INSERT ... ON CONFLICT
// DO NOTHING. Each caller's promise settles only after the commit that holds its event, so the bus acks only
// then. Idempotency stays with the event id: a repeat (stored before, or earlier in the same batch) appends
// nothing and reports false.
import type { EntityManager } from 'typeorm';
import type { NewEvent } from '@spendops/event-store';

/** Writes one batch in one transaction; returns the event ids that were new. */
export type BatchWriter = (events: NewEvent[], manager?: EntityManager) => Promise<string[]>;

export interface AppendBatcherOptions {
  /** Most events per transaction (default 500). */
  maxBatch?: number;
  /** Batches written at once (default 2: one fills while the other commits). */
  concurrency?: number;
}

interface Pending {
  event: NewEvent;
  resolve: (appended: boolean) => void;
  reject: (err: unknown) => void;
}

export class AppendBatcher {
  private queue: Pending[] = [];
  private writing = 0;
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly concurrency: number;

  constructor(
    private readonly write: BatchWriter,
    options: AppendBatcherOptions = {},
  ) {
    this.maxBatch = Math.max(1, options.maxBatch ?? 500);
    this.concurrency = Math.max(1, options.concurrency ?? 2);
  }

  /** Resolves true when the event was appended, false when its id was already stored; after the commit. */
  add(event: NewEvent): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      this.schedule();
    });
  }

  /** Events waiting for a batch or in one being written. */
  get pending(): number {
    return this.queue.length;
  }

  // The first batch starts on the next turn of the event loop, so messages delivered together share it.
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.writing < this.concurrency && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.writing++;
      void this.flush(batch).finally(() => {
        this.writing--;
        this.pump();
      });
    }
  }

  private async flush(batch: Pending[]): Promise<void> {
    try {
      settle(batch, new Set(await this.write(batch.map((p) => p.event))));
    } catch (err) {
      if (batch.length === 1 || !isDataError(err)) {
        // The database or the connection failed: every caller fails, and the bus redelivers each message.
        for (const p of batch) p.reject(err);
        return;
      }
      // One bad event must not fail the others: each is retried alone and fails (or succeeds) on its own.
      await Promise.all(
        batch.map(async (p) => {
          try {
            settle([p], new Set(await this.write([p.event])));
          } catch (e) {
            p.reject(e);
          }
        }),
      );
    }
  }
}

/** True for the first holder of each newly appended id; later repeats in the batch appended nothing. */
function settle(batch: Pending[], appended: Set<string>): void {
  for (const p of batch) {
    const id = p.event.event_id.toLowerCase();
    p.resolve(appended.delete(id));
  }
}

/** PostgreSQL refused the data itself (SQLSTATE class 22 data exception, 23 integrity, 54 limit exceeded). */
export function isDataError(err: unknown): boolean {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = typeof e?.code === 'string' ? e.code : e?.driverError?.code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}
