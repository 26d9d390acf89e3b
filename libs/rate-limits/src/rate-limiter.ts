// The in-memory rate limiter of one proxy: sliding-window counters per key and limit (and per dimension value),
// requests counted at admission, tokens and cost counted from recorded usage, and request counts exchanged with
// the other proxies (docs/rate-limits.md). No I/O: the clock is injected and the sync messages go in and out
// through plain methods, so it is tested without timers or a bus.
import { randomUUID } from 'node:crypto';
import type { UsageEventView } from '@spendops/contracts';
import { type CompiledLimits, type LimitKind, type LimitSpec, usdToMicros } from './compiled-limits';
import { type LimitState, rateLimitHeaders } from './headers';
import type { RateLimitDelta, RateLimitSyncV1, RateLimitView } from './sync-message';
import { WindowCounter } from './window-counter';

export interface RateLimiterOptions {
  now?: () => number;
  /** This process's id in sync messages (default: a random UUID). */
  nodeId?: string;
  /** A peer not heard from for this long no longer counts as live (default 3000 ms). */
  peerTtlMs?: number;
}

export type RateLimitDecision =
  | { ok: true; headers: Record<string, string> }
  | { ok: false; headers: Record<string, string>; retryAfterSeconds: number; message: string };

/**
 * A request counter holds the count of every proxy (its own admissions plus the others' as they report them), and
 * separately this proxy's own admissions (its share of the limit) and those it has not reported yet.
 */
class Counter extends WindowCounter {
  own: WindowCounter | null = null;
  unreported = 0;
  unreportedWindow = 0;
}

const SEP = '\u0000';

/**
 * How long, and for how many requests, the counted usage of a request is remembered: to count a redelivery once
 * and a re-pricing as its difference. Bounded so a busy key cannot grow memory without limit; a re-pricing that
 * arrives later counts its whole cost again (too much, never too little).
 */
const USAGE_MEMORY_MS = 10 * 60_000;
const USAGE_MEMORY_MAX = 200_000;
/** Usage older than the longest window no longer counts. */
const LONGEST_WINDOW_MS = 3_600_000;

interface CountedUsage {
  at: number;
  tokens: number;
  micros: number;
}

export class RateLimiter {
  readonly nodeId: string;
  private readonly now: () => number;
  private readonly peerTtlMs: number;
  private readonly counters = new Map<string, Counter>();
  /** Counters with unreported admissions, and deltas of windows that ended before they were reported. */
  private readonly dirty = new Set<Counter>();
  private readonly ids = new WeakMap<Counter, string>();
  private readonly pending: RateLimitDelta[] = [];
  private readonly peers = new Map<string, number>();
  /** Peers heard from for the first time (or again after going silent), owed this proxy's view of the counters. */
  private readonly joiners = new Set<string>();
  private readonly usage = new Map<string, CountedUsage>();
  /** The limits each key had on its last request here (for usage events when no key replica is at hand). */
  private readonly seen = new Map<string, CompiledLimits>();
  /** Live proxies, this one included: each admits at most its share (1/proxies) of a request limit. */
  private proxies = 1;

  constructor(options: RateLimiterOptions = {}) {
    this.now = options.now ?? Date.now;
    this.nodeId = options.nodeId ?? randomUUID();
    this.peerTtlMs = options.peerTtlMs ?? 3000;
  }

  /** Live proxies including this one (peers heard from within the peer TTL). */
  get liveProxies(): number {
    return this.proxies;
  }

  get size(): number {
    return this.counters.size;
  }

  /**
   * Admits a request of `keyId` with `dims` or denies it; an admitted request is counted on every request limit.
   * Every limit that applies is checked first, so a denied request counts nowhere.
   */
  check(keyId: string, limits: CompiledLimits, dims: Record<string, string>): RateLimitDecision {
    const now = this.now();
    this.seen.set(keyId, limits);
    const applicable: Array<{ spec: LimitSpec; value: string | null; counter: Counter }> = [];
    for (const spec of limits.specs) {
      const value = spec.dim === null ? null : (dims[spec.dim] ?? null);
      if (spec.dim !== null && value === null) continue; // the request has no value for that dimension
      applicable.push({ spec, value, counter: this.counter(counterId(keyId, spec, value), spec.windowMs) });
    }
    let retryMs = -1;
    let exceeded: { spec: LimitSpec; value: string | null } | null = null;
    for (const a of applicable) {
      const wait = this.msUntilAdmissible(a.spec, a.counter, now);
      if (wait > 0 && wait > retryMs) {
        retryMs = wait;
        exceeded = a;
      }
    }
    if (exceeded === null) {
      for (const a of applicable) if (a.spec.kind === 'requests') this.countRequest(a.counter, now);
    }
    const states: LimitState[] = applicable.map((a) => {
      const remaining = this.remaining(a.spec, a.counter, now);
      // An exhausted limit says when it admits again (as Retry-After does), not when its fixed window ends: with
      // the sliding count, the window's end can come well before there is room, and a client waiting t seconds
      // would be refused again.
      const resetMs =
        remaining === 0
          ? Math.max(1000, this.msUntilAdmissible(a.spec, a.counter, now))
          : a.counter.msUntilWindowEnd(now);
      return { spec: a.spec, value: a.value, remaining, resetSeconds: Math.ceil(resetMs / 1000) };
    });
    if (exceeded === null) return { ok: true, headers: rateLimitHeaders(states) };
    const retryAfterSeconds = Math.max(1, Math.ceil(retryMs / 1000));
    return {
      ok: false,
      headers: rateLimitHeaders(states, retryAfterSeconds),
      retryAfterSeconds,
      message: denialMessage(exceeded.spec, exceeded.value, retryAfterSeconds),
    };
  }

  /**
   * Counts a recorded usage event's tokens and cost on the limits of its key. A request is counted once: a
   * redelivery adds nothing and a re-pricing (same request id, new cost) adds the difference.
   */
  recordUsage(event: UsageEventView, limits: CompiledLimits | null): void {
    if (!limits) return;
    const now = this.now();
    const tokens = Math.max(0, event.total_tokens || 0);
    const micros = event.total_cost_usd ? usdToMicros(event.total_cost_usd) : 0;
    const seen = this.usage.get(event.request_id);
    const at = seen?.at ?? Math.min(now, event.ended_at_ms || Date.parse(event.ts) || now);
    const addTokens = tokens - (seen?.tokens ?? 0);
    const addMicros = micros - (seen?.micros ?? 0);
    if (now - at >= LONGEST_WINDOW_MS) return; // older than any window
    if (seen) this.usage.delete(event.request_id); // re-inserted last: the map stays in arrival order
    this.usage.set(event.request_id, { at, tokens: Math.max(tokens, seen?.tokens ?? 0), micros });
    if (this.usage.size > USAGE_MEMORY_MAX) this.usage.delete(this.usage.keys().next().value as string);
    for (const spec of limits.specs) {
      const n = spec.kind === 'tokens' ? addTokens : spec.kind === 'usd' ? addMicros : 0;
      if (n === 0 || (spec.kind === 'tokens' && n < 0)) continue;
      const value = spec.dim === null ? null : (event.dims?.[spec.dim] ?? null);
      if (spec.dim !== null && value === null) continue;
      this.counter(counterId(event.api_key_id, spec, value), spec.windowMs).add(n, at, now);
    }
  }

  /** The sliding-window count of every proxy (as reported so far) of one of a key's limits; 0 when unknown. */
  used(keyId: string, kind: LimitKind, dim: string | null = null, value: string | null = null): number {
    const c = this.counters.get(counterId(keyId, { kind, dim }, value));
    return c ? c.estimate(this.now()) : 0;
  }

  /** The limits `keyId` had on its last request through this proxy. */
  limitsSeen(keyId: string): CompiledLimits | null {
    return this.seen.get(keyId) ?? null;
  }

  /**
   * The request counts admitted since the previous call, to broadcast (null when there is nothing to tell and
   * no heartbeat is due); also recounts the live proxies.
   */
  takeSyncMessage(heartbeat = false): RateLimitSyncV1 | null {
    const now = this.now();
    const deltas = this.pending.splice(0);
    for (const c of this.dirty) {
      if (c.unreported > 0) {
        deltas.push({
          counter: this.idOf(c),
          window_start_ms: c.unreportedWindow,
          window_ms: c.windowMs,
          n: c.unreported,
        });
      }
      c.unreported = 0;
    }
    this.dirty.clear();
    this.proxies = 1 + this.countLivePeers(now);
    if (deltas.length === 0 && !heartbeat) return null;
    return { node: this.nodeId, sent_at_ms: now, deltas };
  }

  /** Takes back the deltas of a report that could not be sent: they go out with the next one. */
  requeue(message: RateLimitSyncV1): void {
    this.pending.push(...message.deltas);
  }

  /**
   * The answers owed to peers that just appeared: this proxy's view of every active counter, so a proxy that
   * starts (or restarts) in the middle of a window knows what was admitted before it.
   */
  takeJoinerViews(): RateLimitSyncV1[] {
    if (this.joiners.size === 0) return [];
    const now = this.now();
    const views: RateLimitView[] = [];
    for (const [id, c] of this.counters) {
      c.roll(now);
      if (c.current > 0 || c.previous > 0) {
        views.push({
          counter: id,
          window_start_ms: c.windowStart,
          window_ms: c.windowMs,
          current: c.current,
          previous: c.previous,
        });
      }
    }
    const messages = [...this.joiners].map((to) => ({
      node: this.nodeId,
      sent_at_ms: now,
      deltas: [],
      to,
      views,
    }));
    this.joiners.clear();
    return messages;
  }

  /** Adds another proxy's admitted requests to the counters (its own messages are ignored). */
  applySync(message: RateLimitSyncV1): void {
    if (message.node === this.nodeId) return;
    const now = this.now();
    const wasKnown =
      this.peers.has(message.node) && now - (this.peers.get(message.node) ?? 0) < this.peerTtlMs;
    this.peers.set(message.node, now);
    if (!wasKnown) {
      // A proxy that just appeared takes its share at once (the shares shrink before its first request arrives)
      // and is told what this proxy has counted so far.
      this.proxies = 1 + this.countLivePeers(now);
      this.joiners.add(message.node);
    }
    if (message.to !== undefined) {
      if (message.to !== this.nodeId) return; // another proxy's welcome
      for (const v of message.views ?? []) {
        if (!(v.window_ms > 0)) continue;
        this.counter(v.counter, v.window_ms).raiseTo(v.window_start_ms, v.current, v.previous, now);
      }
    }
    for (const d of message.deltas ?? []) {
      if (!(d.n > 0) || !(d.window_ms > 0)) continue;
      this.counter(d.counter, d.window_ms).add(d.n, d.window_start_ms, now);
    }
  }

  /** Forgets counters idle for two windows, usage older than the longest window, and long-gone peers. */
  sweep(): void {
    const now = this.now();
    for (const [id, c] of this.counters) {
      if (now - c.touchedAt > 2 * c.windowMs && c.unreported === 0) this.counters.delete(id);
    }
    for (const [id, u] of this.usage) {
      if (now - u.at <= USAGE_MEMORY_MS) break; // arrival order: the rest is younger (give or take clocks)
      this.usage.delete(id);
    }
    for (const [node, at] of this.peers) if (now - at > 10 * this.peerTtlMs) this.peers.delete(node);
  }

  /** 0 when one more unit fits now (within this proxy's share, for requests), else ms until it would. */
  private msUntilAdmissible(spec: LimitSpec, c: Counter, now: number): number {
    const wait = c.msUntilRoom(spec.limit, 1, now);
    if (spec.kind !== 'requests' || this.proxies <= 1) return wait;
    // Several proxies: each admits at most its share, so the sum stays within the limit however late the
    // others' reports arrive (docs/rate-limits.md, "Several proxies").
    const share = Math.ceil(spec.limit / this.proxies);
    return Math.max(wait, c.own?.msUntilRoom(share, 1, now) ?? 0);
  }

  /** Units left now: of the limit, and of this proxy's share when several proxies share a request limit. */
  private remaining(spec: LimitSpec, c: Counter, now: number): number {
    let left = spec.limit - c.estimate(now);
    if (spec.kind === 'requests' && this.proxies > 1 && c.own) {
      left = Math.min(left, Math.ceil(spec.limit / this.proxies) - c.own.estimate(now));
    }
    return Math.max(0, Math.floor(left));
  }

  private countRequest(c: Counter, now: number): void {
    c.roll(now);
    if (c.unreported > 0 && c.unreportedWindow !== c.windowStart) {
      // The window ended before these were reported: they go out as a delta of the window they belong to.
      this.pending.push({
        counter: this.idOf(c),
        window_start_ms: c.unreportedWindow,
        window_ms: c.windowMs,
        n: c.unreported,
      });
      c.unreported = 0;
    }
    c.add(1, now, now);
    c.own ??= new WindowCounter(c.windowMs);
    c.own.add(1, now, now);
    c.unreported++;
    c.unreportedWindow = c.windowStart;
    this.dirty.add(c);
  }

  private idOf(c: Counter): string {
    return this.ids.get(c) as string;
  }

  private counter(id: string, windowMs: number): Counter {
    let c = this.counters.get(id);
    if (c === undefined || c.windowMs !== windowMs) {
      c = new Counter(windowMs);
      c.touchedAt = this.now();
      this.counters.set(id, c);
      this.ids.set(c, id);
    }
    return c;
  }

  private countLivePeers(now: number): number {
    let n = 0;
    for (const at of this.peers.values()) if (now - at < this.peerTtlMs) n++;
    return n;
  }
}

function counterId(keyId: string, spec: Pick<LimitSpec, 'kind' | 'dim'>, value: string | null): string {
  return value === null
    ? `${keyId}${SEP}${spec.kind}`
    : `${keyId}${SEP}${spec.kind}${SEP}${spec.dim}${SEP}${value}`;
}

const PER: Record<LimitSpec['kind'], string> = {
  requests: 'requests per minute',
  tokens: 'tokens per minute',
  usd: 'USD per hour',
};

function denialMessage(spec: LimitSpec, value: string | null, retryAfterSeconds: number): string {
  const amount = spec.kind === 'usd' ? formatMicros(spec.limit) : String(spec.limit);
  const scope = value === null ? 'this key' : `${spec.dim}=${value}`;
  return `Rate limit exceeded: ${amount} ${PER[spec.kind]} for ${scope}; retry in ${retryAfterSeconds} s`;
}

function formatMicros(micros: number): string {
  const whole = Math.floor(micros / 1_000_000);
  const frac = String(micros % 1_000_000)
    .padStart(6, '0')
    .replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : String(whole);
}
