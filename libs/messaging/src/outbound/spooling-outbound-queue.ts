// Non-blocking publishing for the request path. enqueue() puts a message in a bounded in-memory queue and
// returns; a pump publishes it in batches (parallel publishes share the broker's batched confirms). When the
// queue is full, or the bus refuses a batch, messages go to the append-only disk spool instead, and while the
// spool holds anything every message goes through it, so replay keeps their order. Replay is retried every
// `retryMs` until the bus takes it. Message ids are fixed at enqueue, so a replayed duplicate is recognisable.
// The only reordering: messages that overflowed a full queue go to the spool ahead of older ones still queued.
import { randomUUID } from 'node:crypto';
import { JsonLogger } from '@spendops/observability';
import { MessageBus, OutboundQueue } from '../bus';
import { outboundMetrics } from '../metrics';
import { DiskSpool, SpoolRecord } from './disk-spool';

export interface SpoolingOutboundQueueOptions {
  /** Spool segment size before rotation (and fsync). Default 4 MiB. */
  segmentBytes?: number;
  /** fsync of the active spool segment; bounds what power loss can take. Default 1000 ms. */
  syncIntervalMs?: number;
  /** Pause between replay attempts while the bus is away. Default 1000 ms. */
  retryMs?: number;
}

export class SpoolingOutboundQueue implements OutboundQueue {
  private readonly log = new JsonLogger('outbound');
  private readonly spool: DiskSpool;
  private readonly memory: SpoolRecord[] = [];
  private readonly retryMs: number;
  private readonly syncTimer: NodeJS.Timeout;
  private pumping?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private wakeRetry?: () => void;
  private busDown = false;
  private failures = 0;
  private closed = false;
  /** Replay position (records already published) within the oldest segment. */
  private replayed = { seq: -1, count: 0 };

  constructor(
    private readonly bus: MessageBus,
    spoolDir: string,
    private readonly queueSize = 10_000,
    private readonly batch = 500,
    options: SpoolingOutboundQueueOptions = {},
  ) {
    this.spool = new DiskSpool(spoolDir, options.segmentBytes);
    this.retryMs = options.retryMs ?? 1_000;
    this.syncTimer = setInterval(() => this.syncSpool(), options.syncIntervalMs ?? 1_000);
    this.syncTimer.unref();
    this.updateGauges();
    if (this.spool.pending > 0) {
      this.log.info('outbound spool from an earlier run', { pending: this.spool.pending });
      this.kick();
    }
  }

  enqueue<T>(topic: string, payload: T, messageId?: string): void {
    const record: SpoolRecord = { i: messageId ?? randomUUID(), t: topic, p: payload };
    // A payload that cannot travel (a BigInt, a cycle) must not spoil the batch it would join.
    const problem = serializationProblem(record);
    if (problem !== null) {
      outboundMetrics.publishErrors.inc();
      this.log.error('dropped a message that is not JSON-serializable', {
        topic,
        message_id: record.i,
        error: problem,
      });
      return;
    }
    if (this.memory.length < this.queueSize && !this.closed) {
      this.memory.push(record);
    } else {
      this.toSpool([record], this.closed);
    }
    this.updateGauges();
    this.kick();
  }

  /** Messages waiting in memory and in the spool. */
  get pending(): { queued: number; spooled: number } {
    return { queued: this.memory.length, spooled: this.spool.pending };
  }

  async drain(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const failuresBefore = this.failures;
    this.wakeRetry?.(); // try the bus now rather than after the retry pause
    while (this.memory.length > 0 || this.spool.pending > 0 || this.pumping) {
      if (Date.now() >= deadline) break;
      // The bus refused again and everything is on disk: no point waiting out the timeout.
      if (this.busDown && this.failures > failuresBefore && this.memory.length === 0) break;
      this.kick();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // What did not make it is kept on disk for the next run.
    this.toSpool(this.memory.splice(0), true);
    this.syncSpool();
    this.updateGauges();
  }

  /** Drains (spooling what the bus will not take), then stops; later enqueues are written to the spool. */
  async close(timeoutMs = 10_000): Promise<void> {
    await this.drain(timeoutMs);
    this.closed = true;
    clearInterval(this.syncTimer);
    clearTimeout(this.retryTimer);
    this.wakeRetry?.();
    await this.pumping;
    this.spool.close();
  }

  private kick(): void {
    if (this.pumping || this.closed) return;
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      if (!this.closed && (this.memory.length > 0 || (this.spool.pending > 0 && !this.busDown))) this.kick();
    });
  }

  private async pump(): Promise<void> {
    while (!this.closed) {
      if (this.spool.pending > 0) {
        // Keep order: while anything is spooled, newer messages queue behind it on disk.
        this.toSpool(this.memory.splice(0), false);
        if (await this.replayOldest()) continue;
        await this.pauseBeforeRetry();
        continue;
      }
      if (this.memory.length === 0) return;
      const batch = this.memory.splice(0, this.batch);
      this.updateGauges();
      if (await this.publishBatch(batch)) {
        outboundMetrics.published.inc(batch.length);
      } else {
        this.toSpool(batch, true);
      }
    }
  }

  /** Publishes the rest of the oldest segment; false when the bus refused. */
  private async replayOldest(): Promise<boolean> {
    const segment = this.spool.oldest();
    if (!segment) return true;
    if (segment.bad > 0)
      this.log.warn('skipped unreadable spool lines', { segment: segment.seq, lines: segment.bad });
    if (this.replayed.seq !== segment.seq) this.replayed = { seq: segment.seq, count: 0 };
    while (this.replayed.count < segment.records.length) {
      const batch = segment.records.slice(this.replayed.count, this.replayed.count + this.batch);
      if (!(await this.publishBatch(batch))) return false;
      this.replayed.count += batch.length;
      outboundMetrics.replayed.inc(batch.length);
      outboundMetrics.published.inc(batch.length);
    }
    this.spool.remove(segment.seq);
    this.updateGauges();
    return true;
  }

  private async publishBatch(batch: SpoolRecord[]): Promise<boolean> {
    const results = await Promise.allSettled(
      batch.map((r) => this.bus.publish(r.t, r.p, { messageId: r.i })),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!failed) {
      if (this.busDown) this.log.info('bus back; publishing resumed', { spooled: this.spool.pending });
      this.busDown = false;
      return true;
    }
    outboundMetrics.publishErrors.inc();
    this.failures++;
    if (!this.busDown) {
      this.log.warn('publishing failed; spooling to disk', { error: (failed.reason as Error)?.message });
    }
    this.busDown = true;
    // The whole batch is retried; its confirmed part is published again (at least once, ids unchanged).
    return false;
  }

  private pauseBeforeRetry(): Promise<void> {
    return new Promise((resolve) => {
      this.wakeRetry = () => {
        clearTimeout(this.retryTimer);
        this.wakeRetry = undefined;
        resolve();
      };
      this.retryTimer = setTimeout(() => this.wakeRetry?.(), this.retryMs);
    });
  }

  private toSpool(records: SpoolRecord[], sync: boolean): void {
    if (records.length === 0) return;
    try {
      this.spool.append(records);
      if (sync) this.spool.sync();
      outboundMetrics.spooled.inc(records.length);
    } catch (err) {
      // Nowhere left to put them: count and log (ids only, never payloads).
      outboundMetrics.publishErrors.inc();
      this.log.error('spool write failed; messages lost', {
        error: (err as Error).message,
        count: records.length,
        first_id: records[0].i,
      });
    }
    this.updateGauges();
  }

  private syncSpool(): void {
    try {
      this.spool.sync();
    } catch (err) {
      this.log.error('spool fsync failed', { error: (err as Error).message });
    }
  }

  private updateGauges(): void {
    outboundMetrics.queueDepth.set(this.memory.length);
    outboundMetrics.spoolPending.set(this.spool.pending);
  }
}

/** Nesting beyond this is not walked (a cycle looks like endless nesting): JSON.stringify then decides. */
const MAX_PLAIN_DEPTH = 64;

/**
 * Why `JSON.stringify(value)` would throw, or null when it would not. Plain data (strings, numbers, booleans,
 * null, arrays, objects of Object.prototype or none, without toJSON) is known to serialize after a walk that
 * costs a fraction of stringifying (the capture record holds kilobytes of base64); anything else is
 * stringified, as before, to ask.
 */
export function serializationProblem(value: unknown): string | null {
  try {
    if (isPlainData(value, 0)) return null;
  } catch {
    // A getter or proxy trap threw: stringify reads the same properties and gives the reason.
  }
  try {
    JSON.stringify(value);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

function isPlainData(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
      return true;
    case 'object': {
      if (value === null) return true;
      if (depth >= MAX_PLAIN_DEPTH) return false;
      if ((value as { toJSON?: unknown }).toJSON !== undefined) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isPlainData(value[i], depth + 1)) return false;
        return true;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      const object = value as Record<string, unknown>;
      for (const key in object) if (!isPlainData(object[key], depth + 1)) return false;
      return true;
    }
    default:
      // bigint, symbol, function: stringify decides (a function or symbol is left out, a bigint throws).
      return false;
  }
}
