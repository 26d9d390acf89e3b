// Options of the budget guard (config section `budget_enforcement`, docs/configuration.md).
export interface BudgetGuardOptions {
  /** Before the budgets and the price sheet are loaded: deny every request (true) or admit it (false, default). */
  failClosed?: boolean;
  /** Output tokens reserved when a request names no cap (default 4096). */
  defaultMaxOutputTokens?: number;
  /** Body bytes per prompt token in the prompt estimate (default 1: an upper bound for text). */
  promptBytesPerToken?: number;
  /** How long a finished request's reservation waits for the ledger's settlement (default 10 min). */
  settleTimeoutMs?: number;
  /** Heartbeat interval of this proxy (default 1000 ms); a peer is gone after three missed beats. */
  heartbeatMs?: number;
  /** A change in this proxy's reservations is announced within this delay (default 50 ms). */
  gossipMs?: number;
  /** The ledger's snapshot is loaded again this often, healing missed messages (default 60 s; 0 = never). */
  resyncMs?: number;
  /** Timeout of the snapshot and price-sheet requests (default 2000 ms). */
  requestTimeoutMs?: number;
  /** Delay between attempts while the ledger or pricing is not reachable (default 1000 ms). */
  retryMs?: number;
  /** This proxy's id in heartbeats (default: a random one per process). */
  proxyId?: string;
}

export const BUDGET_GUARD_OPTIONS = Symbol('BUDGET_GUARD_OPTIONS');

export function withDefaults(o: BudgetGuardOptions): Required<BudgetGuardOptions> {
  return {
    failClosed: o.failClosed ?? false,
    defaultMaxOutputTokens: o.defaultMaxOutputTokens ?? 4096,
    promptBytesPerToken: o.promptBytesPerToken ?? 1,
    settleTimeoutMs: o.settleTimeoutMs ?? 10 * 60_000,
    heartbeatMs: o.heartbeatMs ?? 1000,
    gossipMs: o.gossipMs ?? 50,
    resyncMs: o.resyncMs ?? 60_000,
    requestTimeoutMs: o.requestTimeoutMs ?? 2000,
    retryMs: o.retryMs ?? 1000,
    proxyId: o.proxyId ?? '',
  };
}
