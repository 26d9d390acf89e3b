// What proxies tell each other about the requests they admitted (docs/rate-limits.md, "Several proxies").

/** Broadcast topic: every proxy receives every other proxy's counts. */
export const RATE_LIMIT_SYNC_TOPIC = 'ratelimit.sync.v1';

/** Requests one proxy admitted on one counter, in one fixed window, since its previous message. */
export interface RateLimitDelta {
  /** Counter id: key id, limit and dimension value (opaque to the receiver). */
  counter: string;
  window_start_ms: number;
  window_ms: number;
  n: number;
}

/** One counter as the sender sees it (every proxy's requests), for a proxy that just joined. */
export interface RateLimitView {
  counter: string;
  window_start_ms: number;
  window_ms: number;
  current: number;
  previous: number;
}

/**
 * `ratelimit.sync.v1`: sent every sync interval with the deltas, and at least every heartbeat (liveness). A
 * proxy that hears from a new peer (a start, a restart) answers it once with its view of every active counter
 * (`to` = the new peer's node, `views`); the other proxies ignore that answer's content.
 */
export interface RateLimitSyncV1 {
  /** The sending process (a random id per start). */
  node: string;
  sent_at_ms: number;
  deltas: RateLimitDelta[];
  to?: string;
  views?: RateLimitView[];
}
