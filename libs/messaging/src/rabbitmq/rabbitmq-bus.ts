// The distributed transport, on amqplib directly rather than @nestjs/microservices' RMQ transport. Nest's
// transport puts every pattern of an app on one queue behind a `{pattern, data}` body, defaults to auto-ack,
// non-persistent messages and unlimited prefetch, never acks or nacks after a handler (a throw leaves the
// message stuck until the channel closes), has no retries or dead-lettering, and loses emits during an outage
// (see shared/research/event-store-and-messaging.md §2). Here instead: one topic exchange, a quorum queue per
// consumer group, ack only after the handler resolved, bounded retries through per-queue delay queues (the
// consumer never sleeps on a message), dead-letter queues carrying the reason, confirms on every publish, and
// our own reconnect loop that re-asserts the topology. amqplib's built-in recovery is not used: the loop is
// short, and owning it lets publish() fail fast while disconnected and health() say exactly what is going on.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { connect } from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { JsonLogger } from '@spendops/observability';
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
import { busMetrics, queueDepthSamplers } from '../metrics';
import {
  DEFAULT_PREFETCH,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_RETRY,
  RetryOptions,
  failureReason,
  retryDelayMs,
} from '../retry-policy';
import {
  DEFAULT_EXCHANGE,
  DIRECT_REPLY_TO,
  assertCommandQueue,
  assertDeadLetterQueue,
  assertExchange,
  assertRetryQueue,
  assertWorkQueue,
  commandQueueName,
  deadLetterQueueName,
  retryQueueName,
} from './topology';
import {
  CONTENT_TYPE,
  HEADER_ATTEMPT,
  HEADER_DEAD_LETTERED_AT,
  HEADER_DEAD_LETTER_QUEUE,
  HEADER_DEAD_LETTER_REASON,
  decodeDeadLetter,
  decodeEnvelope,
  encodeBody,
  publishProperties,
} from './wire';

export interface RabbitMqBusOptions extends Partial<RetryOptions> {
  /** amqp://user:pass@host:port/vhost */
  url: string;
  /** The topic exchange of all events (default `spendops.events`). */
  exchange?: string;
  /** Shown in the broker's connection list. */
  connectionName?: string;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** A publish without a broker confirm by then fails (broker blocked by a resource alarm). */
  publishTimeoutMs?: number;
  /** Concurrent command handlers per command. */
  commandPrefetch?: number;
  /** How long close() waits for handlers in flight (default 10 s). */
  closeTimeoutMs?: number;
  /**
   * Redeliveries of a message whose consumer died holding it before the broker dead-letters it (default 20).
   * Part of the queue's declaration: every process must use the same value.
   */
  deliveryLimit?: number;
}

/** Something set up on every connection (a subscription, a command handler). */
interface Registration {
  /** `lost` is called when its channel closes (or the broker cancels its consumer) while the connection stays. */
  setup(conn: ChannelModel, lost: () => void): Promise<void>;
  doneOn?: ChannelModel;
  done?: Promise<void>;
}

interface PendingRequest {
  command: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

interface Subscription {
  queue: string;
  /** The queue actually consumed: `queue`, or the exclusive per-process queue of a broadcast subscription. */
  consumeQueue: string;
  exclusive: boolean;
  topics: string[];
  handler: MessageHandler<unknown>;
  prefetch: number;
  maxAttempts: number;
}

type ReplyBody = { ok: true; result: unknown } | { ok: false; error: { name: string; message: string } };

const TRANSPORT = 'rabbitmq';

export class RabbitMqBus implements MessageBus {
  private readonly log = new JsonLogger('messaging');
  private readonly exchange: string;
  private readonly retry: RetryOptions;
  private readonly registrations: Registration[] = [];
  private readonly consumers: { channel: Channel; tag: string }[] = [];
  private readonly pending = new Map<string, PendingRequest>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly waiters = new Set<() => void>();
  private conn?: ChannelModel;
  private publisher?: ConfirmChannel;
  private rpc?: Channel;
  private connected = false;
  private closing = false;
  private lastError = 'not connected yet';
  private reconnectTimer?: NodeJS.Timeout;
  private wakeReconnect?: () => void;
  private loop?: Promise<void>;
  /** Shared (non-exclusive) queues this process consumes, for the queue-depth gauge. */
  private readonly consumedQueues = new Set<string>();
  private readonly sampleDepths = (set: (queue: string, depth: number) => void) => this.queueDepths(set);

  constructor(private readonly options: RabbitMqBusOptions) {
    this.exchange = options.exchange ?? DEFAULT_EXCHANGE;
    this.retry = {
      maxAttempts: options.maxAttempts ?? DEFAULT_RETRY.maxAttempts,
      retryBaseMs: options.retryBaseMs ?? DEFAULT_RETRY.retryBaseMs,
      retryMaxMs: options.retryMaxMs ?? DEFAULT_RETRY.retryMaxMs,
    };
    queueDepthSamplers.add(this.sampleDepths);
  }

  /** Ready messages per consumed queue, read on a short-lived channel (a failed check closes only that one). */
  private async queueDepths(set: (queue: string, depth: number) => void): Promise<void> {
    const conn = this.conn;
    if (!conn || this.consumedQueues.size === 0) return;
    const channel = await conn.createChannel();
    channel.on('error', () => undefined);
    try {
      for (const queue of this.consumedQueues) set(queue, (await channel.checkQueue(queue)).messageCount);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** Starts connecting (and reconnecting) in the background; resolves after the first attempt either way. */
  async start(): Promise<void> {
    if (!this.loop) {
      const first = new Promise<void>((resolve) => this.waiters.add(resolve));
      this.loop = this.connectLoop();
      await Promise.race([first, this.loop]);
    }
  }

  /** Resolves once connected with the topology in place; rejects after `timeoutMs`. */
  async waitUntilConnected(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.connected) {
      if (this.closing) throw new BusUnavailableError('closed');
      if (Date.now() > deadline) throw new BusUnavailableError(this.lastError);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async publish<T>(topic: string, payload: T, options: PublishOptions = {}): Promise<void> {
    const channel = this.publisher;
    if (!channel || !this.connected || this.closing) {
      busMetrics.publishErrors.inc({ transport: TRANSPORT });
      throw new BusUnavailableError(this.closing ? 'closed' : this.lastError);
    }
    const envelope = {
      id: options.messageId ?? randomUUID(),
      topic,
      published_at: new Date().toISOString(),
      attempt: 1,
    };
    try {
      await this.confirmedPublish(
        channel,
        this.exchange,
        topic,
        encodeBody(payload),
        publishProperties(envelope),
      );
      busMetrics.published.inc({ transport: TRANSPORT });
    } catch (err) {
      busMetrics.publishErrors.inc({ transport: TRANSPORT });
      throw err instanceof BusUnavailableError ? err : new BusUnavailableError((err as Error).message);
    }
  }

  async subscribe<T>(
    queue: string,
    topics: string[],
    handler: MessageHandler<T>,
    options: SubscribeOptions = {},
  ): Promise<void> {
    const exclusive = options.broadcast === true;
    const sub: Subscription = {
      queue,
      consumeQueue: exclusive ? `${queue}.${hostname()}.${process.pid}.${randomUUID().slice(0, 8)}` : queue,
      exclusive,
      topics,
      handler: handler as MessageHandler<unknown>,
      prefetch: Math.max(1, options.prefetch ?? DEFAULT_PREFETCH),
      maxAttempts: Math.max(1, options.maxAttempts ?? this.retry.maxAttempts),
    };
    if (!exclusive) this.consumedQueues.add(queue);
    await this.register({ setup: (conn, lost) => this.setUpSubscription(conn, sub, lost) });
  }

  async handle<Req, Res>(command: string, handler: CommandHandler<Req, Res>): Promise<void> {
    await this.register({
      setup: (conn, lost) =>
        this.setUpCommandHandler(conn, command, handler as CommandHandler<unknown, unknown>, lost),
    });
  }

  async request<Req, Res>(command: string, request: Req, options: { timeoutMs?: number } = {}): Promise<Res> {
    const channel = this.rpc;
    if (!channel || !this.connected || this.closing) {
      throw new BusUnavailableError(this.closing ? 'closed' : this.lastError);
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const correlationId = randomUUID();
    return new Promise<Res>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new RequestTimeoutError(command, timeoutMs));
      }, timeoutMs);
      this.pending.set(correlationId, { command, resolve: resolve as (v: unknown) => void, reject, timer });
      try {
        channel.publish('', commandQueueName(command), encodeBody(request), {
          correlationId,
          replyTo: DIRECT_REPLY_TO,
          contentType: CONTENT_TYPE,
          type: command,
          // Unroutable (nobody serves it) comes back as basic.return; a stale request expires unserved.
          mandatory: true,
          expiration: String(timeoutMs),
        });
      } catch (err) {
        this.settleRequest(correlationId, undefined, new BusUnavailableError((err as Error).message));
      }
    });
  }

  health(): BusHealth {
    if (this.connected) return { ok: true, transport: 'rabbitmq', detail: `connected to ${this.safeUrl()}` };
    return {
      ok: false,
      transport: 'rabbitmq',
      detail: this.closing ? 'closed' : `disconnected from ${this.safeUrl()}: ${this.lastError}`,
    };
  }

  /** Reads (without removing) up to `max` messages of `<queue>.dlq`. */
  async deadLetters(queue: string, max = 1000): Promise<DeadLetter[]> {
    const conn = this.conn;
    if (!conn) throw new BusUnavailableError(this.lastError);
    const channel = await conn.createChannel();
    channel.on('error', () => undefined);
    const letters: DeadLetter[] = [];
    try {
      for (let i = 0; i < max; i++) {
        const msg = await channel.get(deadLetterQueueName(queue), { noAck: false });
        if (!msg) break;
        letters.push(decodeDeadLetter(queue, msg));
      }
    } finally {
      // Closing the channel returns the unacked messages to the queue.
      await channel.close().catch(() => undefined);
    }
    return letters;
  }

  /** Stops consuming, waits for the handlers in flight (they ack), then closes the connection. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    queueDepthSamplers.delete(this.sampleDepths);
    this.wakeReconnect?.();
    clearTimeout(this.reconnectTimer);
    await Promise.all(this.consumers.map(({ channel, tag }) => channel.cancel(tag).catch(() => undefined)));
    // Handlers still running after the deadline lose their ack; the broker redelivers those messages.
    const deadline = Date.now() + (this.options.closeTimeoutMs ?? 10_000);
    while (this.inFlight.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, 50))]);
    }
    this.failPending(new BusUnavailableError('closed'));
    const conn = this.conn;
    this.markDisconnected('closed');
    await conn?.close().catch(() => undefined);
    await this.loop;
  }

  /** Drops the connection at once, without draining or reconnecting: what a crashed process leaves behind. */
  abort(): void {
    this.closing = true;
    queueDepthSamplers.delete(this.sampleDepths);
    this.wakeReconnect?.();
    const conn = this.conn;
    this.markDisconnected('aborted');
    // amqplib notices a socket failure only through an 'error' (or 'end') event, so destroy it with an error.
    const stream = (conn?.connection as unknown as { stream?: { destroy(err: Error): void } } | undefined)
      ?.stream;
    stream?.destroy(new Error('connection aborted'));
  }

  // --- connection lifecycle -------------------------------------------------------------------------------------

  private async register(registration: Registration): Promise<void> {
    if (this.closing) throw new BusUnavailableError('closed');
    this.registrations.push(registration);
    // Connected: set it up now so errors (e.g. inequivalent queue arguments) reach the caller. Otherwise it is
    // set up with everything else when the connection comes (back).
    const conn = this.conn;
    if (!conn) return;
    try {
      await this.ensure(registration, conn);
    } catch (err) {
      if (this.conn !== conn) return; // the connection went meanwhile; the reconnect sets it up
      this.registrations.splice(this.registrations.indexOf(registration), 1);
      throw err;
    }
  }

  private ensure(registration: Registration, conn: ChannelModel): Promise<void> {
    if (registration.doneOn !== conn) {
      registration.doneOn = conn;
      let reported = false;
      const lost = (): void => {
        if (reported) return;
        reported = true;
        this.setUpAgain(registration, conn);
      };
      registration.done = registration.setup(conn, lost);
    }
    return registration.done!;
  }

  /** A consumer's channel died on a live connection (e.g. a channel error): consume again shortly. */
  private setUpAgain(registration: Registration, conn: ChannelModel): void {
    if (this.closing || this.conn !== conn) return; // the reconnect sets everything up anyway
    registration.doneOn = undefined;
    const timer = setTimeout(() => {
      if (this.closing || this.conn !== conn) return;
      this.ensure(registration, conn).catch((err: Error) => {
        this.log.warn('could not consume again', { error: err.message });
        this.setUpAgain(registration, conn);
      });
    }, 500);
    timer.unref();
  }

  private async connectLoop(): Promise<void> {
    let delay = this.options.reconnectMinMs ?? 100;
    const maxDelay = this.options.reconnectMaxMs ?? 5_000;
    while (!this.closing) {
      if (!this.conn) {
        try {
          await this.connectOnce();
          delay = this.options.reconnectMinMs ?? 100;
        } catch (err) {
          this.lastError = (err as Error).message;
          this.log.warn('broker connection failed', { error: this.lastError, retry_in_ms: delay });
          this.notifyWaiters();
          await this.pause(delay);
          delay = Math.min(maxDelay, delay * 2);
          continue;
        }
      }
      // Connected: sleep until the connection is lost (or close()).
      if (this.conn) await this.pause(undefined);
    }
  }

  private pause(ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      this.wakeReconnect = () => {
        clearTimeout(this.reconnectTimer);
        this.wakeReconnect = undefined;
        resolve();
      };
      if (ms !== undefined) this.reconnectTimer = setTimeout(() => this.wakeReconnect?.(), ms);
    });
  }

  private async connectOnce(): Promise<void> {
    const conn = await connect(this.options.url, {
      clientProperties: {
        connection_name: this.options.connectionName ?? `spendops-${hostname()}-${process.pid}`,
      },
    });
    conn.on('error', (err: Error) => {
      this.lastError = err.message;
    });
    conn.on('close', () => this.onConnectionLost(conn));
    conn.on('blocked', (reason: string) => this.log.warn('broker blocked publishing', { reason }));
    conn.on('unblocked', () => this.log.info('broker unblocked publishing'));
    try {
      const publisher = await conn.createConfirmChannel();
      publisher.on('error', (err: Error) => (this.lastError = err.message));
      await assertExchange(publisher, this.exchange);
      const rpc = await conn.createChannel();
      rpc.on('error', (err: Error) => (this.lastError = err.message));
      rpc.on('return', (msg: ConsumeMessage) => {
        const id = msg.properties.correlationId as string | undefined;
        const pending = id ? this.pending.get(id) : undefined;
        if (id && pending) this.settleRequest(id, undefined, new NoCommandHandlerError(pending.command));
      });
      await rpc.consume(DIRECT_REPLY_TO, (msg) => msg && this.onReply(msg), { noAck: true });
      this.conn = conn;
      // Live iteration: registrations added meanwhile are set up too (ensure() runs each once per connection).
      for (let i = 0; i < this.registrations.length; i++) await this.ensure(this.registrations[i], conn);
      this.publisher = publisher;
      this.rpc = rpc;
      this.connected = true;
      busMetrics.connected.set({ transport: TRANSPORT }, 1);
      this.log.info('broker connected', { broker: this.safeUrl() });
      this.notifyWaiters();
    } catch (err) {
      this.conn = undefined;
      await conn.close().catch(() => undefined);
      throw err;
    }
  }

  private onConnectionLost(conn: ChannelModel): void {
    if (this.conn !== conn) return;
    this.markDisconnected(this.closing ? 'closed' : `connection lost: ${this.lastError}`);
    if (!this.closing) {
      this.log.warn('broker connection lost', { error: this.lastError });
      this.failPending(new BusUnavailableError('connection lost'));
      this.wakeReconnect?.();
    }
  }

  private markDisconnected(reason: string): void {
    this.conn = undefined;
    this.publisher = undefined;
    this.rpc = undefined;
    this.connected = false;
    this.lastError = reason;
    this.consumers.length = 0;
    busMetrics.connected.set({ transport: TRANSPORT }, 0);
    this.notifyWaiters();
  }

  private notifyWaiters(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  private safeUrl(): string {
    try {
      const url = new URL(this.options.url);
      return `${url.hostname}:${url.port || 5672}${url.pathname === '/' ? '' : url.pathname}`;
    } catch {
      return 'broker';
    }
  }

  // --- consuming ------------------------------------------------------------------------------------------------

  private async setUpSubscription(conn: ChannelModel, sub: Subscription, lost: () => void): Promise<void> {
    const channel = await conn.createConfirmChannel();
    channel.on('error', (err: Error) =>
      this.log.warn('consumer channel error', { queue: sub.queue, error: err.message }),
    );
    await channel.prefetch(sub.prefetch);
    await assertExchange(channel, this.exchange);
    await assertWorkQueue(channel, sub.consumeQueue, sub.exclusive, sub.queue, this.options.deliveryLimit);
    await assertDeadLetterQueue(channel, sub.queue);
    for (const topic of sub.topics) await channel.bindQueue(sub.consumeQueue, this.exchange, topic);
    const retryQueues = new Set<string>();
    const { consumerTag } = await channel.consume(
      sub.consumeQueue,
      (msg) => {
        if (msg) this.track(this.processDelivery(channel, sub, msg, retryQueues));
        else lost(); // cancelled by the broker (queue deleted)
      },
      { noAck: false },
    );
    channel.on('close', lost);
    this.consumers.push({ channel, tag: consumerTag });
  }

  private async processDelivery(
    channel: ConfirmChannel,
    sub: Subscription,
    msg: ConsumeMessage,
    retryQueues: Set<string>,
  ): Promise<void> {
    let envelope: Envelope | undefined;
    if (msg.fields.redelivered) busMetrics.redelivered.inc({ transport: TRANSPORT, queue: sub.queue });
    try {
      envelope = decodeEnvelope(msg);
      await sub.handler(envelope.payload, envelope);
      ack(channel, msg);
      busMetrics.handled.inc({ transport: TRANSPORT, queue: sub.queue, outcome: 'ok' });
      return;
    } catch (err) {
      const attempt = envelope?.attempt ?? 1;
      const final = err instanceof PoisonMessageError || attempt >= sub.maxAttempts;
      try {
        if (final) await this.sendToDeadLetterQueue(channel, sub, msg, attempt, failureReason(err));
        else await this.sendToRetry(channel, sub, msg, attempt + 1, retryQueues);
        ack(channel, msg);
        busMetrics.handled.inc({
          transport: TRANSPORT,
          queue: sub.queue,
          outcome: final ? 'dead_letter' : 'retry',
        });
        if (final) busMetrics.deadLettered.inc({ transport: TRANSPORT, queue: sub.queue });
      } catch (moveErr) {
        // Not moved: leave it unacked; the broker redelivers it when this channel goes away.
        this.log.error('could not move a failed message', {
          queue: sub.queue,
          error: (moveErr as Error).message,
        });
      }
    }
  }

  private async sendToRetry(
    channel: ConfirmChannel,
    sub: Subscription,
    msg: ConsumeMessage,
    nextAttempt: number,
    retryQueues: Set<string>,
  ): Promise<void> {
    const delayMs = retryDelayMs(nextAttempt, this.retry);
    const name = retryQueueName(sub.consumeQueue, delayMs);
    if (!retryQueues.has(name)) {
      await assertRetryQueue(channel, sub.consumeQueue, delayMs, sub.exclusive);
      retryQueues.add(name);
    }
    await this.confirmedPublish(channel, '', name, msg.content, {
      ...copyProperties(msg),
      headers: { ...(msg.properties.headers ?? {}), [HEADER_ATTEMPT]: nextAttempt },
    });
  }

  private async sendToDeadLetterQueue(
    channel: ConfirmChannel,
    sub: Subscription,
    msg: ConsumeMessage,
    attempt: number,
    reason: string,
  ): Promise<void> {
    this.log.warn('message dead-lettered', {
      queue: sub.queue,
      message_id: msg.properties.messageId,
      attempt,
      reason,
    });
    await this.confirmedPublish(channel, '', deadLetterQueueName(sub.queue), msg.content, {
      ...copyProperties(msg),
      headers: {
        ...(msg.properties.headers ?? {}),
        [HEADER_ATTEMPT]: attempt,
        [HEADER_DEAD_LETTER_REASON]: reason,
        [HEADER_DEAD_LETTERED_AT]: new Date().toISOString(),
        [HEADER_DEAD_LETTER_QUEUE]: sub.queue,
      },
    });
  }

  // --- request/reply --------------------------------------------------------------------------------------------

  private async setUpCommandHandler(
    conn: ChannelModel,
    command: string,
    handler: CommandHandler<unknown, unknown>,
    lost: () => void,
  ): Promise<void> {
    const channel = await conn.createChannel();
    channel.on('error', (err: Error) =>
      this.log.warn('command channel error', { command, error: err.message }),
    );
    await channel.prefetch(this.options.commandPrefetch ?? DEFAULT_PREFETCH);
    const queue = await assertCommandQueue(channel, command);
    const { consumerTag } = await channel.consume(
      queue,
      (msg) => {
        if (msg) this.track(this.serveCommand(channel, handler, msg));
        else lost();
      },
      { noAck: false },
    );
    channel.on('close', lost);
    this.consumers.push({ channel, tag: consumerTag });
  }

  private async serveCommand(
    channel: Channel,
    handler: CommandHandler<unknown, unknown>,
    msg: ConsumeMessage,
  ) {
    let reply: ReplyBody;
    try {
      const request = JSON.parse(msg.content.toString('utf8')) as unknown;
      reply = { ok: true, result: (await handler(request)) ?? null };
    } catch (err) {
      reply = {
        ok: false,
        error: {
          name: err instanceof Error ? err.name : 'Error',
          message: err instanceof Error ? err.message : String(err),
        },
      };
    }
    const replyTo = msg.properties.replyTo as string | undefined;
    try {
      if (replyTo) {
        channel.sendToQueue(replyTo, encodeBody(reply), {
          correlationId: msg.properties.correlationId as string | undefined,
          contentType: CONTENT_TYPE,
        });
      }
      channel.ack(msg);
    } catch (err) {
      this.log.warn('could not reply to a command', { error: (err as Error).message });
    }
  }

  private onReply(msg: ConsumeMessage): void {
    const id = msg.properties.correlationId as string | undefined;
    if (!id || !this.pending.has(id)) return; // late reply after a timeout
    try {
      const reply = JSON.parse(msg.content.toString('utf8')) as ReplyBody;
      if (reply.ok) this.settleRequest(id, reply.result);
      else this.settleRequest(id, undefined, new RemoteCommandError(reply.error.message, reply.error.name));
    } catch (err) {
      this.settleRequest(id, undefined, new RemoteCommandError((err as Error).message, 'BadReply'));
    }
  }

  private settleRequest(id: string, result: unknown, err?: Error): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (err) pending.reject(err);
    else pending.resolve(result);
  }

  private failPending(err: Error): void {
    for (const id of [...this.pending.keys()]) this.settleRequest(id, undefined, err);
  }

  // --- helpers --------------------------------------------------------------------------------------------------

  /** Publish and wait for the broker's confirm; many of these in parallel share the broker's batched acks. */
  private confirmedPublish(
    channel: ConfirmChannel,
    exchange: string,
    routingKey: string,
    body: Buffer,
    properties: Options.Publish,
  ): Promise<void> {
    const timeoutMs = this.options.publishTimeoutMs ?? 10_000;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new BusUnavailableError(`no confirm within ${timeoutMs} ms`)),
        timeoutMs,
      );
      try {
        channel.publish(exchange, routingKey, body, properties, (err: unknown) => {
          clearTimeout(timer);
          if (err)
            reject(new BusUnavailableError(err instanceof Error ? err.message : 'publish not confirmed'));
          else resolve();
        });
      } catch (err) {
        clearTimeout(timer);
        reject(new BusUnavailableError((err as Error).message));
      }
    });
  }

  private track(work: Promise<void>): void {
    const settled = work.catch(() => undefined);
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
  }
}

function ack(channel: Channel, msg: ConsumeMessage): void {
  try {
    channel.ack(msg);
  } catch {
    // The channel is gone; the broker redelivers the message, and consumers are idempotent.
  }
}

function copyProperties(msg: ConsumeMessage): Options.Publish {
  return {
    persistent: true,
    messageId: msg.properties.messageId as string | undefined,
    type: msg.properties.type as string | undefined,
    contentType: CONTENT_TYPE,
  };
}
