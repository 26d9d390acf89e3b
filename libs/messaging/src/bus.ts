// The one bus every service uses. Two transports implement it with the same semantics: in-process (all-in-one)
// and RabbitMQ (distributed). Delivery is at least once; consumers are idempotent by message id / request id.

export interface Envelope<T = unknown> {
  /** Unique per message; the idempotency key (defaults to a fresh UUID). */
  id: string;
  topic: string;
  payload: T;
  /** ISO time of the first publish. */
  published_at: string;
  /** 1 on first delivery, incremented on each retry. */
  attempt: number;
}

export interface PublishOptions {
  messageId?: string;
}

export interface SubscribeOptions {
  /** Messages in flight per consumer (RabbitMQ prefetch). */
  prefetch?: number;
  /** Deliveries before a failing message goes to the dead-letter queue with its reason. */
  maxAttempts?: number;
  /**
   * Every instance receives every message (an exclusive, per-process queue), e.g. each proxy's key replica.
   * Without it, instances subscribing with the same queue name compete for messages.
   */
  broadcast?: boolean;
}

/** Thrown by a handler for a message that can never succeed (bad shape): dead-lettered at once, no retries. */
export class PoisonMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoisonMessageError';
  }
}

export type MessageHandler<T> = (payload: T, envelope: Envelope<T>) => Promise<void>;
export type CommandHandler<Req, Res> = (request: Req) => Promise<Res>;

export interface BusHealth {
  ok: boolean;
  transport: 'in-process' | 'rabbitmq';
  detail: string;
}

export interface MessageBus {
  /** Resolves once the message is durable (broker confirm, or accepted by the in-process transport). */
  publish<T>(topic: string, payload: T, options?: PublishOptions): Promise<void>;
  /** Consume `topics` through the named queue; ack only after the handler resolved. */
  subscribe<T>(
    queue: string,
    topics: string[],
    handler: MessageHandler<T>,
    options?: SubscribeOptions,
  ): Promise<void>;
  /** Serve a request/reply command. A thrown error travels back to the caller as a rejected request. */
  handle<Req, Res>(command: string, handler: CommandHandler<Req, Res>): Promise<void>;
  request<Req, Res>(command: string, request: Req, options?: { timeoutMs?: number }): Promise<Res>;
  health(): BusHealth;
  close(): Promise<void>;
}

/** Nest injection token of the process's MessageBus. */
export const MESSAGE_BUS = Symbol('MESSAGE_BUS');

/**
 * Non-blocking publishing for the request path: a bounded in-memory queue, a disk spool when the queue is full
 * or the bus is away, replay in order on recovery, and a drain on shutdown. `enqueue` never throws and never waits.
 */
export interface OutboundQueue {
  enqueue<T>(topic: string, payload: T, messageId?: string): void;
  /** Resolves when everything enqueued so far is published (or spooled to disk, if `timeoutMs` elapses). */
  drain(timeoutMs?: number): Promise<void>;
}

/** Nest injection token of the process's OutboundQueue. */
export const OUTBOUND_QUEUE = Symbol('OUTBOUND_QUEUE');
