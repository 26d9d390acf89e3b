// The live proxies, from their heartbeats: how many share each budget's headroom, and what the others last said
// they hold in reservations. This proxy always counts itself.
import { Gauge } from 'prom-client';
import type { ProxyHeartbeatV1 } from '@spendops/contracts';
import { metricsRegistry } from '@spendops/observability';

interface Peer {
  lastMs: number;
  intervalMs: number;
  reserved: Record<string, number>;
}

/** A peer is gone after this many of its intervals without a heartbeat. */
const MISSED_BEATS = 3;

/** Operators see how many proxies split each budget's headroom (a missing one changes every share). */
const liveGauge =
  (metricsRegistry.getSingleMetric('spendops_budget_proxies_live') as Gauge | undefined) ??
  new Gauge({
    name: 'spendops_budget_proxies_live',
    help: 'Proxies this proxy hears heartbeats from, itself included: each holds at most 1/N of a budget’s headroom.',
    registers: [metricsRegistry],
  });

export class ProxyPeers {
  private readonly peers = new Map<string, Peer>();
  private reported = 1;

  constructor(
    readonly selfId: string,
    private readonly now: () => number = Date.now,
  ) {
    liveGauge.set(1);
  }

  /** Records a heartbeat (its own is ignored); false when it was ignored. */
  heard(hb: ProxyHeartbeatV1): boolean {
    if (!hb || typeof hb.proxy_id !== 'string' || hb.proxy_id === this.selfId) return false;
    if (hb.leaving) {
      const known = this.peers.delete(hb.proxy_id);
      this.forgetGone();
      return known;
    }
    this.peers.set(hb.proxy_id, {
      lastMs: this.now(),
      intervalMs: hb.interval_ms > 0 ? hb.interval_ms : 1000,
      reserved: hb.reserved ?? {},
    });
    this.forgetGone();
    return true;
  }

  /** The proxies alive now, this one included. */
  liveCount(): number {
    this.forgetGone();
    return this.peers.size + 1;
  }

  /** What the other live proxies last reported holding against a budget. */
  othersReserved(budgetId: string): number {
    let sum = 0;
    for (const p of this.peers.values()) sum += p.reserved[budgetId] ?? 0;
    return sum;
  }

  private forgetGone(): void {
    const now = this.now();
    for (const [id, p] of this.peers) if (now - p.lastMs > p.intervalMs * MISSED_BEATS) this.peers.delete(id);
    // forgetGone runs on every admission: the gauge is touched only when the count moves.
    if (this.reported !== this.peers.size + 1) liveGauge.set((this.reported = this.peers.size + 1));
  }
}
