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

/** `ratelimit.sync.v1`: sent every sync interval with the deltas, and at least every heartbeat (liveness). */
export interface RateLimitSyncV1 {
  /** The sending process (a random id per start). */
  node: string;
  sent_at_ms: number;
  deltas: RateLimitDelta[];
}
