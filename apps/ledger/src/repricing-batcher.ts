// Group commit for re-pricings: the usage.repriced.v1 messages the bus delivers together (a re-pricing run
// publishes one per changed event, back to back) are applied as one batch: one read of their streams and one
// multi-row append, so one commit (one WAL flush) per batch instead of per event. Each caller's promise settles
// after the commit that holds its event, so the bus acks only then.
//
// One batch at a time: a batch decides "changed or not" and the event id from the streams as it read them, so
// two batches holding re-pricings of the same request must not run at once (while one is written, the next
// fills).
import { isDataError } from './append-batcher';

/** Per item, in order: its result, or the error that fails only that item. */
export type BatchOutcome<R> = { ok: R } | { error: unknown };

/** Applies one batch; throws when the whole batch failed (the database, the connection). */
export type BatchApplier<T, R> = (items: T[]) => Promise<BatchOutcome<R>[]>;

interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

export class RepricingBatcher<T, R> {
  private queue: Pending<T, R>[] = [];
  private writing = false;
  private scheduled = false;
  private inBatch = 0;

  constructor(
    private readonly apply: BatchApplier<T, R>,
    private readonly maxBatch = 500,
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Items waiting for a batch or in the one being written. */
  get pending(): number {
    return this.queue.length + this.inBatch;
  }

  // The first batch starts on the next turn of the event loop, so messages delivered together share it.
  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0) await this.flush(this.queue.splice(0, this.maxBatch));
    } finally {
      this.writing = false;
    }
  }

  private async flush(batch: Pending<T, R>[]): Promise<void> {
    this.inBatch = batch.length;
    try {
      await this.write(batch);
    } finally {
      this.inBatch = 0;
    }
  }

  private async write(batch: Pending<T, R>[]): Promise<void> {
    try {
      settle(batch, await this.apply(batch.map((p) => p.item)));
    } catch (err) {
      if (batch.length === 1 || !isDataError(err)) {
        // The database or the connection failed: every caller fails, and the bus redelivers each message.
        for (const p of batch) p.reject(err);
        return;
      }
      // One bad item must not fail the others: each is applied alone, in order, and fails on its own.
      for (const p of batch) {
        try {
          settle([p], await this.apply([p.item]));
        } catch (e) {
          p.reject(e);
        }
      }
    }
  }
}

function settle<T, R>(batch: Pending<T, R>[], outcomes: BatchOutcome<R>[]): void {
  batch.forEach((p, i) => {
    const outcome = outcomes[i];
    if (!outcome) p.reject(new Error('re-pricing batch: no outcome for an item'));
    else if ('ok' in outcome) p.resolve(outcome.ok);
    else p.reject(outcome.error);
  });
}
