// The live proxies, from their heartbeats: how many share each budget's headroom, and what the others last said
// they hold in reservations. This proxy always counts itself.
import type { ProxyHeartbeatV1 } from '@spendops/contracts';

interface Peer {
  lastMs: number;
  intervalMs: number;
  reserved: Record<string, number>;
}

/** A peer is gone after this many of its intervals without a heartbeat. */
const MISSED_BEATS = 3;

export class ProxyPeers {
  private readonly peers = new Map<string, Peer>();

  constructor(
    readonly selfId: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a heartbeat (its own is ignored); false when it was ignored. */
  heard(hb: ProxyHeartbeatV1): boolean {
    if (!hb || typeof hb.proxy_id !== 'string' || hb.proxy_id === this.selfId) return false;
    if (hb.leaving) return this.peers.delete(hb.proxy_id);
    this.peers.set(hb.proxy_id, {
      lastMs: this.now(),
      intervalMs: hb.interval_ms > 0 ? hb.interval_ms : 1000,
      reserved: hb.reserved ?? {},
    });
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
  }
}
