// The all-in-one transport, with RabbitMQ's semantics so that services behave the same on both: every queue name
// bound to a topic gets its own copy, subscriptions sharing a queue name compete, delivery is asynchronous and
// bounded by prefetch, failures retry with backoff and then dead-letter. Messages travel as JSON (as on the wire)
// so handlers never share objects with the publisher. Nothing survives the process: that is what the distributed
// mode is for.
import { randomUUID } from 'node:crypto';
import {
  BusHealth,
  CommandHandler,
  Envelope,
  MessageBus,
  MessageHandler,
  PoisonMessageError,
  PublishOptions,
  SubscribeOptions,
} from '../bus';
import { DeadLetter } from '../dead-letter';
import {
  BusUnavailableError,
  NoCommandHandlerError,
  RemoteCommandError,
  RequestTimeoutError,
} from '../errors';
import { busMetrics } from '../metrics';
import {
  DEFAULT_PREFETCH,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_RETRY,
  RetryOptions,
  failureReason,
  retryDelayMs,
} from '../retry-policy';
import { topicMatches } from '../topic-pattern';

export interface InProcessBusOptions extends Partial<RetryOptions> {
  /** close() delivers what was published (retries without backoff) for at most this long. Default 10 s. */
  closeTimeoutMs?: number;
}

interface Consumer {
  handler: MessageHandler<unknown>;
  prefetch: number;
  maxAttempts: number;
  inFlight: number;
}

interface QueueState {
  name: string;
  patterns: Set<string>;
  consumers: Consumer[];
  /** Serialized envelopes waiting for a free consumer (first deliveries), or retries of one. */
  ready: Array<string | Retry>;
  nextConsumer: number;
  /** A dispatch is already queued for the next turn: further publishes ride on it. */
  dispatchScheduled: boolean;
}

/** A redelivery: the envelope as first published (whatever the failed handler did to its copy), next attempt. */
interface Retry {
  wire: string;
  attempt: number;
}

const TRANSPORT = 'in-process';

export class InProcessBus implements MessageBus {
  private readonly retry: RetryOptions;
  private readonly queues = new Map<string, QueueState>();
  /** The queues each topic routes to; cleared whenever a binding changes (routing is per publish, hot). */
  private readonly routes = new Map<string, QueueState[]>();
  private readonly commands = new Map<
    string,
    { handlers: CommandHandler<unknown, unknown>[]; next: number }
  >();
  private readonly deadLetterList: DeadLetter[] = [];
  private readonly retryTimers = new Map<NodeJS.Timeout, () => void>();
  /** Deliveries and requests under way; close() waits for them (`idle` wakes it when the count drops to 0). */
  private inFlight = 0;
  private idle: Array<() => void> = [];
  /** No new publishes, subscriptions or requests; delivery of what was published goes on. */
  private closing = false;
  /** Nothing is delivered any more. */
  private closed = false;

  constructor(private readonly options: InProcessBusOptions = {}) {
    this.retry = {
      maxAttempts: options.maxAttempts ?? DEFAULT_RETRY.maxAttempts,
      retryBaseMs: options.retryBaseMs ?? DEFAULT_RETRY.retryBaseMs,
      retryMaxMs: options.retryMaxMs ?? DEFAULT_RETRY.retryMaxMs,
    };
  }

  async publish<T>(topic: string, payload: T, options: PublishOptions = {}): Promise<void> {
    // While closing, handlers still publish (extraction → pricing → ledger is one chain in all-in-one): those
    // messages are delivered by the same close loop. Only once closed is a publish refused.
    this.refuseIfClosed();
    const envelope: Envelope<T> = {
      id: options.messageId ?? randomUUID(),
      topic,
      payload,
      published_at: new Date().toISOString(),
      attempt: 1,
    };
    this.enqueue(topic, JSON.stringify(envelope));
  }

  /**
   * Publishes a payload that is already JSON text (`JSON.stringify(payload)`; undefined for an undefined
   * payload), e.g. as it crossed the thread bridge: the envelope is assembled around it rather than the payload
   * serialized again. Handlers get exactly what `publish` of the parsed payload would give them.
   */
  async publishJson(
    topic: string,
    payloadJson: string | undefined,
    options: PublishOptions = {},
  ): Promise<void> {
    this.refuseIfClosed();
    // Same fields, same order as JSON.stringify of the Envelope in publish().
    const wire =
      `{"id":${JSON.stringify(options.messageId ?? randomUUID())},"topic":${JSON.stringify(topic)}` +
      (payloadJson === undefined ? '' : `,"payload":${payloadJson}`) +
      `,"published_at":"${new Date().toISOString()}","attempt":1}`;
    this.enqueue(topic, wire);
  }

  private refuseIfClosed(): void {
    if (this.closed) {
      busMetrics.publishErrors.inc({ transport: TRANSPORT });
      throw new BusUnavailableError('closed');
    }
  }

  /** Every bound queue gets the same serialized envelope: each delivery parses a copy of its own. */
  private enqueue(topic: string, wire: string): void {
    for (const queue of this.queuesFor(topic)) {
      queue.ready.push(wire);
      this.scheduleDispatch(queue);
    }
    busMetrics.published.inc({ transport: TRANSPORT });
  }

  private queuesFor(topic: string): QueueState[] {
    let bound = this.routes.get(topic);
    if (!bound) {
      bound = [];
      for (const queue of this.queues.values()) {
        for (const pattern of queue.patterns) {
          if (topicMatches(pattern, topic)) {
            bound.push(queue);
            break;
          }
        }
      }
      // Topics are a small fixed set in production; the bound only keeps a stream of one-off topics in check.
      if (this.routes.size >= 10_000) this.routes.clear();
      this.routes.set(topic, bound);
    }
    return bound;
  }

  async subscribe<T>(
    queue: string,
    topics: string[],
    handler: MessageHandler<T>,
    options: SubscribeOptions = {},
  ): Promise<void> {
    if (this.closing) throw new BusUnavailableError('closed');
    const name = options.broadcast ? `${queue}.broadcast.${randomUUID()}` : queue;
    let state = this.queues.get(name);
    if (!state) {
      state = {
        name,
        patterns: new Set(),
        consumers: [],
        ready: [],
        nextConsumer: 0,
        dispatchScheduled: false,
      };
      this.queues.set(name, state);
    }
    for (const topic of topics) state.patterns.add(topic);
    this.routes.clear();
    state.consumers.push({
      handler: handler as MessageHandler<unknown>,
      prefetch: Math.max(1, options.prefetch ?? DEFAULT_PREFETCH),
      maxAttempts: Math.max(1, options.maxAttempts ?? this.retry.maxAttempts),
      inFlight: 0,
    });
    this.scheduleDispatch(state);
  }

  async handle<Req, Res>(command: string, handler: CommandHandler<Req, Res>): Promise<void> {
    if (this.closing) throw new BusUnavailableError('closed');
    const entry = this.commands.get(command) ?? { handlers: [], next: 0 };
    entry.handlers.push(handler as CommandHandler<unknown, unknown>);
    this.commands.set(command, entry);
  }

  async request<Req, Res>(command: string, request: Req, options: { timeoutMs?: number } = {}): Promise<Res> {
    if (this.closing) throw new BusUnavailableError('closed');
    const entry = this.commands.get(command);
    if (!entry || entry.handlers.length === 0) throw new NoCommandHandlerError(command);
    const handler = entry.handlers[entry.next++ % entry.handlers.length];
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const wireRequest = JSON.stringify(request ?? null);
    const reply = this.track(
      new Promise<void>((resolve) => setImmediate(resolve)).then(() => handler(JSON.parse(wireRequest))),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RequestTimeoutError(command, timeoutMs)), timeoutMs);
    });
    try {
      const result = await Promise.race([
        reply.then(
          (res) => (res === undefined ? undefined : JSON.parse(JSON.stringify(res))) as Res,
          (err: unknown) => {
            throw new RemoteCommandError(
              err instanceof Error ? err.message : String(err),
              err instanceof Error ? err.name : 'Error',
            );
          },
        ),
        timeout,
      ]);
      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  health(): BusHealth {
    return this.closing
      ? { ok: false, transport: 'in-process', detail: 'closed' }
      : { ok: true, transport: 'in-process', detail: `${this.queues.size} queues` };
  }

  /** Dead-lettered messages, oldest first (optionally of one queue). */
  deadLetters(queue?: string): DeadLetter[] {
    return this.deadLetterList.filter((d) => queue === undefined || d.queue === queue);
  }

  /**
   * Delivers what was published, including what handlers publish meanwhile (this transport has nowhere to keep
   * it; pending retries run at once, without backoff), and waits for the handlers, for at most `closeTimeoutMs`;
   * then refuses new messages.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const deadline = Date.now() + (this.options.closeTimeoutMs ?? 10_000);
    for (const [timer, fire] of this.retryTimers) {
      clearTimeout(timer);
      fire();
    }
    while (
      Date.now() < deadline &&
      (this.inFlight > 0 || this.retryTimers.size > 0 || this.undelivered() > 0)
    ) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    this.closed = true;
    for (const timer of this.retryTimers.keys()) clearTimeout(timer);
    this.retryTimers.clear();
    while (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private undelivered(): number {
    let n = 0;
    for (const queue of this.queues.values()) if (queue.consumers.length > 0) n += queue.ready.length;
    return n;
  }

  private track<R>(work: Promise<R>): Promise<R> {
    this.inFlight++;
    const done = (): void => this.settle();
    work.then(done, done);
    return work;
  }

  private settle(): void {
    if (--this.inFlight === 0) for (const wake of this.idle.splice(0)) wake();
  }

  private scheduleDispatch(queue: QueueState): void {
    // Never inside the publisher's call stack, as with a broker. One pending dispatch per queue drains all
    // that was published meanwhile.
    if (queue.dispatchScheduled) return;
    queue.dispatchScheduled = true;
    setImmediate(() => {
      queue.dispatchScheduled = false;
      this.dispatch(queue);
    });
  }

  private dispatch(queue: QueueState): void {
    while (!this.closed && queue.ready.length > 0) {
      const consumer = this.nextFreeConsumer(queue);
      if (!consumer) return;
      const next = queue.ready.shift()!;
      consumer.inFlight++;
      this.inFlight++;
      void this.deliver(queue, consumer, next);
    }
  }

  private nextFreeConsumer(queue: QueueState): Consumer | undefined {
    const n = queue.consumers.length;
    for (let i = 0; i < n; i++) {
      const consumer = queue.consumers[(queue.nextConsumer + i) % n];
      if (consumer.inFlight < consumer.prefetch) {
        queue.nextConsumer = (queue.nextConsumer + i + 1) % n;
        return consumer;
      }
    }
    return undefined;
  }

  /** Never rejects: a failure is retried or dead-lettered; frees the consumer's slot and the next goes. */
  private async deliver(queue: QueueState, consumer: Consumer, next: string | Retry): Promise<void> {
    try {
      const retry = typeof next === 'string' ? undefined : next;
      const wire = retry ? retry.wire : (next as string);
      const envelope = JSON.parse(wire) as Envelope;
      if (retry) envelope.attempt = retry.attempt;
      try {
        await consumer.handler(envelope.payload, envelope);
        busMetrics.handled.inc({ transport: TRANSPORT, queue: queue.name, outcome: 'ok' });
      } catch (err) {
        this.failed(queue, consumer, wire, envelope.attempt, err);
      }
    } finally {
      consumer.inFlight--;
      this.settle();
      this.dispatch(queue);
    }
  }

  private failed(queue: QueueState, consumer: Consumer, wire: string, attempt: number, err: unknown): void {
    if (err instanceof PoisonMessageError || attempt >= consumer.maxAttempts) {
      // The message as published: the handler may have changed its copy before it failed.
      this.deadLetter(queue, { ...(JSON.parse(wire) as Envelope), attempt }, err);
      return;
    }
    busMetrics.handled.inc({ transport: TRANSPORT, queue: queue.name, outcome: 'retry' });
    const retry: Retry = { wire, attempt: attempt + 1 };
    const fire = (): void => {
      this.retryTimers.delete(timer);
      queue.ready.push(retry);
      this.dispatch(queue);
    };
    const timer = setTimeout(fire, this.closing ? 0 : retryDelayMs(attempt + 1, this.retry));
    this.retryTimers.set(timer, fire);
  }

  private deadLetter(queue: QueueState, envelope: Envelope, err: unknown): void {
    this.deadLetterList.push({
      queue: queue.name,
      envelope,
      reason: failureReason(err),
      deadLetteredAt: new Date().toISOString(),
    });
    busMetrics.handled.inc({ transport: TRANSPORT, queue: queue.name, outcome: 'dead_letter' });
    busMetrics.deadLettered.inc({ transport: TRANSPORT, queue: queue.name });
  }
}
