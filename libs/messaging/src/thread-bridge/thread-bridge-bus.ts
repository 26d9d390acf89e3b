// A MessageBus for a process split in two threads (the all-in-one server's main thread and its pipeline worker):
// each side has its own in-process bus for the queues it hosts, and a BridgeLink forwards what the other side's
// queues bind. One copy crosses per message and side; the receiving side fans it out to its own queues.
//
// Semantics kept from the in-process bus: publish resolves once the side hosting the queues accepted the message;
// handlers ack after they resolve (retries, dead letters and prefetch are the hosting side's); request/reply and
// broadcast cross. The main side is the arbiter of queue names: a queue lives where it was first subscribed, and
// a subscriber on the other side becomes a remote consumer of it.
//
// Surviving the pipeline thread's death: the main side keeps every message it forwarded until the pipeline side
// reports it *settled* (its handlers, and the handlers of everything they published there, are done), and sends
// those again to the next pipeline thread. Consumers are idempotent by message id, so a redelivery is harmless.
// Settlement is tracked with AsyncLocalStorage on the pipeline side only: the main thread (the proxy) pays for
// no async-context tracking.
//
// Payloads cross as JSON text, not as objects: both in-process buses serialize every message anyway (handlers
// get JSON copies), so the receiving side wraps the text in its envelope as is, and neither side pays for a
// structured clone of the object graph nor for serializing the same payload a second time.
import { AsyncLocalStorage } from 'node:async_hooks';
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
import { InProcessBus, InProcessBusOptions } from '../in-process/in-process-bus';
import { DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_RETRY } from '../retry-policy';
import { topicMatches } from '../topic-pattern';
import { BridgeLink, Frame, RemoteFailure } from './bridge-link';

export type BridgeRole = 'main' | 'pipeline';

export interface ThreadBridgeBusOptions extends InProcessBusOptions {
  role: BridgeRole;
  /** Main side: forwarded messages not yet settled before a publish waits for room (default 5,000). */
  maxUnsettled?: number;
  /** Main side: close() waits this long for the pipeline to settle what it was sent (default 10 s). */
  settleTimeoutMs?: number;
}

/** A message the main side forwarded and keeps until the pipeline settles it. */
export interface RetainedMessage {
  topic: string;
  id: string;
  payload: unknown;
}

/** Pipeline side: what a delivery's handlers (and what they published) still owe before it is settled. */
interface SettlementGroup {
  /** Its key in `groups`, carried by the messages published in it. */
  id: number;
  pending: number;
  settled: boolean;
  onSettled: () => void;
}

/** Pipeline side: the payload as it travels through the local bus, with the group it belongs to. */
interface Tracked {
  g?: number;
  p: unknown;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export class ThreadBridgeBus implements MessageBus {
  private readonly local: InProcessBus;
  private readonly tracking: boolean;
  private readonly als = new AsyncLocalStorage<SettlementGroup>();
  private readonly groups = new Map<number, SettlementGroup>();
  private nextGroup = 1;
  private link: BridgeLink | null = null;
  /** The peer finished starting (its consumers are subscribed): forwarding may begin. */
  private peerReady = false;
  /** Queues hosted on this side, with their topic patterns. */
  private readonly localQueues = new Map<string, Set<string>>();
  /** Queues hosted on the other side (kept across pipeline restarts: the next one subscribes the same). */
  private readonly remoteQueues = new Map<string, { patterns: Set<string>; broadcast: boolean }>();
  /** Routing decisions by topic; cleared whenever a binding changes. */
  private readonly routes = new Map<string, { local: number; forward: boolean }>();
  private readonly localCommands = new Set<string>();
  private readonly remoteCommands = new Set<string>();
  /** Handlers on this side of queues hosted on the other side, by consumer id. */
  private readonly remoteConsumers = new Map<string, MessageHandler<unknown>>();
  /** Main side: forwarded, accepted, not yet settled, by call id. */
  private readonly retained = new Map<number, RetainedMessage>();
  /** Main side: retained messages a pipeline died with before accepting their replay. */
  private orphans: RetainedMessage[] = [];
  private readonly roomWaiters: Waiter[] = [];
  private readonly readyWaiters: Array<() => void> = [];
  private closing = false;
  private closePeer: (() => Promise<void>) | null = null;
  private unsettledSink: ((messages: RetainedMessage[]) => void) | null = null;

  constructor(private readonly options: ThreadBridgeBusOptions) {
    this.local = new InProcessBus(options);
    this.tracking = options.role === 'pipeline';
  }

  // ---- wiring ------------------------------------------------------------------------------------------------

  /** Connects a (new) peer. The main side calls it for each pipeline thread it starts. */
  attach(link: BridgeLink): void {
    this.link?.close('replaced');
    this.link = link;
    this.peerReady = false;
    link.onCall('publish', (f) => this.acceptPublish(f));
    link.onFrame('settled', (f) => this.settled(f.r!));
    link.onCall('bind', (f) => this.remoteBind(f.q as string, f.t as string[], f.b === true));
    link.onCall('handles', (f) => void this.remoteCommands.add(f.c as string));
    link.onCall('request', (f) => this.serveRequest(f));
    link.onCall('claim', (f) => this.claim(f));
    link.onCall('deliver', (f) => this.deliverToRemoteConsumer(f));
    link.onFrame('ready', () => this.markPeerReady());
    if (this.options.role === 'main') {
      link.send({ k: 'ready' });
      // The new pipeline learns what this side hosts and serves.
      for (const [q, patterns] of this.localQueues) void this.announceBind(q, [...patterns], false);
      for (const c of this.localCommands) void link.call({ k: 'handles', c }).catch(() => undefined);
    }
  }

  /** Main side: the pipeline thread is gone. What it accepted but did not settle stays retained. */
  detach(reason: string): void {
    const link = this.link;
    if (!link) return;
    this.link = null;
    this.peerReady = false;
    link.close(reason);
    for (const [q, remote] of this.remoteQueues) if (remote.broadcast) this.remoteQueues.delete(q);
    this.routes.clear();
    for (const waiter of this.roomWaiters.splice(0)) waiter.reject(new BusUnavailableError(reason));
  }

  /** Pipeline side: tells the main side that every consumer is subscribed. */
  announceReady(): void {
    this.link?.send({ k: 'ready' });
  }

  /** Main side: resolves once a pipeline is attached and ready. */
  whenPeerReady(): Promise<void> {
    if (this.peerReady) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  get isPeerReady(): boolean {
    return this.peerReady;
  }

  /** Main side: forwarded messages waiting for the pipeline to settle them. */
  get unsettled(): number {
    return this.retained.size + this.orphans.length;
  }

  /** Main side: close() stops the pipeline through this, after it settled what it was sent. */
  onClosePeer(close: () => Promise<void>): void {
    this.closePeer = close;
  }

  /** Main side: where close() hands messages the pipeline never settled (the outbound queue's spool). */
  onUnsettledAtClose(sink: (messages: RetainedMessage[]) => void): void {
    this.unsettledSink = sink;
  }

  // ---- MessageBus --------------------------------------------------------------------------------------------

  async publish<T>(topic: string, payload: T, options: PublishOptions = {}): Promise<void> {
    const id = options.messageId ?? randomUUID();
    const { local, forward } = this.route(topic);
    if (local === 0 && !forward) return;
    // Serialized once, here, for this side's queues and for the other side alike.
    const json = JSON.stringify(payload) as string | undefined;
    if (local > 0) await this.publishLocal(topic, json, id, local);
    if (forward) await this.forward(topic, payload, json, id);
  }

  async subscribe<T>(
    queue: string,
    topics: string[],
    handler: MessageHandler<T>,
    options: SubscribeOptions = {},
  ): Promise<void> {
    if (this.closing) throw new BusUnavailableError('closed');
    const h = handler as MessageHandler<unknown>;
    if (options.broadcast) {
      // A queue of its own on this side; the other side forwards what it binds.
      const name = `${queue}.broadcast.${randomUUID()}`;
      await this.subscribeLocal(name, topics, h, { ...options, broadcast: false });
      await this.announceBind(name, topics, true);
      return;
    }
    if (this.options.role === 'pipeline') {
      const consumer = randomUUID();
      this.remoteConsumers.set(consumer, h);
      // The reply is acted on inside the frame loop, so no forwarded message can arrive before the queue exists.
      await this.requireLink().call({ k: 'claim', q: queue, t: topics, c: consumer, o: options }, (v) => {
        if (v === 'yours') {
          this.remoteConsumers.delete(consumer);
          void this.subscribeLocal(queue, topics, h, options);
        }
      });
      return;
    }
    if (this.remoteQueues.has(queue) && !this.remoteQueues.get(queue)!.broadcast) {
      throw new Error(`queue ${queue} is hosted by the pipeline thread; the main thread cannot consume it`);
    }
    await this.subscribeLocal(queue, topics, h, options);
    await this.announceBind(queue, topics, false);
  }

  async handle<Req, Res>(command: string, handler: CommandHandler<Req, Res>): Promise<void> {
    if (this.closing) throw new BusUnavailableError('closed');
    await this.local.handle(command, handler);
    this.localCommands.add(command);
    if (this.link) await this.link.call({ k: 'handles', c: command }).catch(() => undefined);
  }

  async request<Req, Res>(command: string, request: Req, options: { timeoutMs?: number } = {}): Promise<Res> {
    if (this.closing) throw new BusUnavailableError('closed');
    if (this.localCommands.has(command)) return this.local.request<Req, Res>(command, request, options);
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    // A pipeline starting or restarting answers soon: wait for it within the request's timeout rather than
    // failing a caller (an admin API call, a start-up snapshot) that merely came early.
    if (this.options.role === 'main' && !this.peerReady) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.whenPeerReady(),
        new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
    }
    if (!this.remoteCommands.has(command)) throw new NoCommandHandlerError(command);
    const link = this.link;
    if (!link || !this.peerReady) throw new BusUnavailableError('the pipeline thread is restarting');
    const remaining = Math.max(1, deadline - Date.now());
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RequestTimeoutError(command, timeoutMs)), remaining);
    });
    try {
      return await Promise.race([
        link.call<Res>({ k: 'request', c: command, b: request ?? null, ms: remaining }).catch((err) => {
          throw rebuildError(err);
        }),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  health(): BusHealth {
    if (this.closing) return { ok: false, transport: 'in-process', detail: 'closed' };
    const peer = this.options.role === 'main' ? 'pipeline thread' : 'main thread';
    const state = this.link && this.peerReady ? 'connected' : this.link ? 'starting' : 'away';
    return { ok: true, transport: 'in-process', detail: `thread bridge; ${peer} ${state}` };
  }

  /** Dead-lettered messages of the queues hosted on this side. */
  deadLetters(queue?: string): DeadLetter[] {
    const dead = this.local.deadLetters(queue);
    if (!this.tracking) return dead;
    return dead.map((d) => {
      const tracked = d.envelope.payload as Tracked;
      return { ...d, envelope: { ...d.envelope, payload: tracked.p } };
    });
  }

  /**
   * Main side: waits for the pipeline to settle what it was sent, stops it, then closes this side's queues.
   * Pipeline side: delivers what was published here, then refuses new messages.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    if (this.options.role === 'main') {
      const deadline = Date.now() + (this.options.settleTimeoutMs ?? 10_000);
      while (this.unsettled > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      this.closing = true;
      if (this.closePeer) await this.closePeer();
      this.detach('closed');
      if (this.unsettled > 0 && this.unsettledSink) {
        this.unsettledSink([...this.orphans, ...this.retained.values()]);
        this.orphans = [];
        this.retained.clear();
      }
      await this.local.close();
      return;
    }
    this.closing = true;
    await this.local.close();
  }

  // ---- publishing --------------------------------------------------------------------------------------------

  /** Where a topic goes (cached per topic: the proxy publishes the same few topics all the time). */
  private route(topic: string): { local: number; forward: boolean } {
    let route = this.routes.get(topic);
    if (!route) {
      route = { local: this.countLocal(topic), forward: this.matchesRemote(topic) };
      this.routes.set(topic, route);
    }
    return route;
  }

  private countLocal(topic: string): number {
    let n = 0;
    for (const patterns of this.localQueues.values()) {
      for (const pattern of patterns) {
        if (topicMatches(pattern, topic)) {
          n++;
          break;
        }
      }
    }
    return n;
  }

  private matchesRemote(topic: string): boolean {
    for (const remote of this.remoteQueues.values()) {
      for (const pattern of remote.patterns) if (topicMatches(pattern, topic)) return true;
    }
    return false;
  }

  /**
   * Publishes a payload (as JSON text) on this side's bus; on the pipeline side the current group (if any) now
   * owes `queues` more.
   */
  private publishLocal(
    topic: string,
    json: string | undefined,
    id: string,
    queues: number,
    group?: SettlementGroup,
  ): Promise<void> {
    if (!this.tracking) return this.local.publishJson(topic, json, { messageId: id });
    const owner = group ?? this.als.getStore();
    let g: number | undefined;
    if (owner && !owner.settled) {
      owner.pending += queues;
      g = owner.id;
    }
    // The Tracked wrapper, as JSON.stringify would write it ({ g, p }; p left out when undefined).
    const p = json === undefined ? '' : `"p":${json}`;
    const tracked = g === undefined ? `{${p}}` : `{"g":${g}${p && ','}${p}}`;
    return this.local.publishJson(topic, tracked, { messageId: id }).catch((err: unknown) => {
      if (owner && g !== undefined) this.release(owner, queues);
      throw err;
    });
  }

  private async forward(
    topic: string,
    payload: unknown,
    json: string | undefined,
    id: string,
  ): Promise<void> {
    if (this.options.role === 'pipeline') {
      await this.requireLink().call({ k: 'publish', t: topic, i: id, j: json });
      return;
    }
    const maxUnsettled = this.options.maxUnsettled ?? 5_000;
    while (this.retained.size >= maxUnsettled) {
      this.requirePeer();
      await new Promise<void>((resolve, reject) => this.roomWaiters.push({ resolve, reject }));
    }
    await this.send({ topic, id, payload }, false, json);
  }

  /**
   * Main side: forwards one message, retained until the pipeline settles it. Refused by a dying pipeline: a
   * publisher's message goes back to the publisher (the outbound queue spools it); a replayed one waits for the
   * next pipeline.
   */
  private send(
    message: RetainedMessage,
    replay = false,
    json = JSON.stringify(message.payload) as string | undefined,
  ): Promise<void> {
    const link = this.requirePeer();
    let r = 0;
    return link
      .call<void>({ k: 'publish', t: message.topic, i: message.id, j: json }, undefined, (id) => {
        r = id;
        this.retained.set(id, message);
      })
      .catch((err: unknown) => {
        this.retained.delete(r);
        if (replay) {
          this.orphans.push(message);
          return;
        }
        this.wakeWaiter();
        throw err;
      });
  }

  private requireLink(): BridgeLink {
    if (!this.link) throw new BusUnavailableError('the other thread is away');
    return this.link;
  }

  private requirePeer(): BridgeLink {
    if (!this.link || !this.peerReady) throw new BusUnavailableError('the pipeline thread is restarting');
    if (this.closing) throw new BusUnavailableError('closed');
    return this.link;
  }

  private settled(r: number): void {
    if (this.retained.delete(r)) this.wakeWaiter();
  }

  private wakeWaiter(): void {
    this.roomWaiters.shift()?.resolve();
  }

  private markPeerReady(): void {
    this.peerReady = true;
    // What the previous pipeline accepted but never settled goes to this one first, in order.
    const again = [...this.orphans, ...this.retained.values()];
    this.orphans = [];
    this.retained.clear();
    for (const message of again) void this.send(message, true);
    for (const resolve of this.readyWaiters.splice(0)) resolve();
  }

  /** Receiving side of a forwarded publish (its payload as JSON text, `j`). */
  private acceptPublish(f: Frame): Promise<void> | undefined {
    const topic = f.t as string;
    const json = f.j as string | undefined;
    const queues = this.route(topic).local;
    if (!this.tracking) {
      // Refused only once this side is closed: the caller sees the failure as an unaccepted publish.
      return queues > 0 ? this.local.publishJson(topic, json, { messageId: f.i as string }) : undefined;
    }
    const r = f.r!;
    const group = this.newGroup(() => this.link?.send({ k: 'settled', r }));
    if (queues > 0) return this.publishLocal(topic, json, f.i as string, queues, group);
    this.release(group, 0);
    return undefined;
  }

  // ---- subscriptions -----------------------------------------------------------------------------------------

  private async subscribeLocal(
    queue: string,
    topics: string[],
    handler: MessageHandler<unknown>,
    options: SubscribeOptions,
  ): Promise<void> {
    const patterns = this.localQueues.get(queue) ?? new Set<string>();
    for (const t of topics) patterns.add(t);
    this.localQueues.set(queue, patterns);
    this.routes.clear();
    await this.local.subscribe(
      queue,
      topics,
      this.tracking ? this.trackedHandler(handler, options) : handler,
      {
        ...options,
        broadcast: false,
      },
    );
  }

  private trackedHandler(
    handler: MessageHandler<unknown>,
    options: SubscribeOptions,
  ): MessageHandler<unknown> {
    const maxAttempts = Math.max(
      1,
      options.maxAttempts ?? this.options.maxAttempts ?? DEFAULT_RETRY.maxAttempts,
    );
    return async (raw, envelope) => {
      const tracked = raw as Tracked;
      const group = tracked.g === undefined ? undefined : this.groups.get(tracked.g);
      const unwrapped: Envelope<unknown> = { ...envelope, payload: tracked.p };
      // Untracked work must not inherit the group of whoever published or scheduled it.
      if (!group) return this.als.exit(() => handler(tracked.p, unwrapped));
      try {
        await this.als.run(group, () => handler(tracked.p, unwrapped));
      } catch (err) {
        if (err instanceof PoisonMessageError || envelope.attempt >= maxAttempts) this.release(group, 1);
        throw err;
      }
      this.release(group, 1);
    };
  }

  private async announceBind(queue: string, topics: string[], broadcast: boolean): Promise<void> {
    if (!this.link) return;
    await this.link.call({ k: 'bind', q: queue, t: topics, b: broadcast }).catch(() => undefined);
  }

  private remoteBind(queue: string, topics: string[], broadcast: boolean): void {
    const remote = this.remoteQueues.get(queue) ?? { patterns: new Set<string>(), broadcast };
    for (const t of topics) remote.patterns.add(t);
    this.remoteQueues.set(queue, remote);
    this.routes.clear();
  }

  /** Main side: a pipeline subscriber asks for a queue. */
  private claim(f: Frame): string {
    const queue = f.q as string;
    const topics = f.t as string[];
    if (!this.localQueues.has(queue)) {
      this.remoteBind(queue, topics, false);
      return 'yours';
    }
    // Hosted here: the pipeline's handler becomes one more (remote) consumer of this queue.
    const consumer = f.c as string;
    const options = (f.o ?? {}) as SubscribeOptions;
    void this.subscribeLocal(
      queue,
      topics,
      async (payload, envelope) => {
        await this.requirePeer().call({ k: 'deliver', c: consumer, e: { ...envelope, payload } });
      },
      options,
    );
    return 'mine';
  }

  /** A delivery of a queue hosted on the other side to a handler here; the reply acks (once settled). */
  private deliverToRemoteConsumer(f: Frame): Promise<void> | void {
    const handler = this.remoteConsumers.get(f.c as string);
    if (!handler) throw new Error(`no consumer ${String(f.c)} on this thread`);
    const envelope = f.e as Envelope<unknown>;
    if (!this.tracking) return handler(envelope.payload, envelope);
    return new Promise<void>((resolve, reject) => {
      const group = this.newGroup(resolve);
      group.pending = 1;
      this.als
        .run(group, () => handler(envelope.payload, envelope))
        .then(
          () => this.release(group, 1),
          (err: unknown) => {
            group.settled = true;
            this.groups.delete(group.id);
            reject(err);
          },
        );
    });
  }

  // ---- commands ----------------------------------------------------------------------------------------------

  private serveRequest(f: Frame): Promise<unknown> {
    const command = f.c as string;
    if (!this.localCommands.has(command)) throw new NoCommandHandlerError(command);
    return this.local.request(command, f.b, { timeoutMs: f.ms as number });
  }

  // ---- settlement (pipeline side) ----------------------------------------------------------------------------

  private newGroup(onSettled: () => void): SettlementGroup {
    const group: SettlementGroup = { id: this.nextGroup++, pending: 0, settled: false, onSettled };
    this.groups.set(group.id, group);
    return group;
  }

  private release(group: SettlementGroup, n: number): void {
    if (group.settled) return;
    group.pending -= n;
    if (group.pending > 0) return;
    group.settled = true;
    this.groups.delete(group.id);
    group.onSettled();
  }
}

/** The caller-side error for a failure that crossed the bridge. */
function rebuildError(err: unknown): Error {
  if (!(err instanceof RemoteFailure)) return err as Error;
  const { name, message, remoteName } = err.wire;
  if (name === 'RemoteCommandError') return new RemoteCommandError(message, remoteName ?? 'Error');
  if (name === 'NoCommandHandlerError') return Object.assign(new NoCommandHandlerError(''), { message });
  if (name === 'RequestTimeoutError') return Object.assign(new RequestTimeoutError('', 0), { message });
  if (name === 'BusUnavailableError') return Object.assign(new BusUnavailableError(''), { message });
  return new RemoteCommandError(message, name);
}
