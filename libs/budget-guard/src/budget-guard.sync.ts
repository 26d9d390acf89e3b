// Keeps the guard's replicas current: subscribes (broadcast: every proxy gets every message) to budget spend,
// price sheets and heartbeats, then loads the ledger's snapshot and pricing's sheet, retrying while either is
// away; sends this proxy's heartbeat; drops reservations past their timeout.
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleDestroy,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import {
  Commands,
  Topics,
  type BudgetSpendV1,
  type BudgetsSpendSnapshotReply,
  type PriceSheetV1,
  type ProxyHeartbeatV1,
} from '@spendops/contracts';
import { MESSAGE_BUS, type MessageBus } from '@spendops/messaging';
import { ReadinessRegistry } from '@spendops/observability';
import { BudgetReplica } from './budget-replica';
import { BUDGET_GUARD_OPTIONS, type BudgetGuardOptions, withDefaults } from './budget-guard.options';
import { PriceSheetHolder } from './price-sheet.holder';
import { ProxyPeers } from './proxy-peers';

/** Queue names of the broadcast subscriptions (one exclusive copy per process). */
export const BUDGET_GUARD_QUEUES = {
  spend: 'proxy.budget-spend',
  priceSheet: 'proxy.price-sheet',
  heartbeat: 'proxy.heartbeat',
} as const;

@Injectable()
export class BudgetGuardSync implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger('BudgetGuard');
  private readonly options: Required<BudgetGuardOptions>;
  private readonly timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private snapshotFailures = 0;
  private gossip: NodeJS.Timeout | null = null;
  private sheetFailures = 0;

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    private readonly replica: BudgetReplica,
    private readonly prices: PriceSheetHolder,
    private readonly peers: ProxyPeers,
    @Inject(BUDGET_GUARD_OPTIONS) options: BudgetGuardOptions,
    @Optional() private readonly readiness?: ReadinessRegistry,
  ) {
    this.options = withDefaults(options);
  }

  async onModuleInit(): Promise<void> {
    this.replica.onReservationsChanged = () => this.soon();
    // Fail-closed, a proxy that has not loaded the budgets would refuse everything: not ready until it has.
    if (this.options.failClosed) {
      this.readiness?.register('budgets', () =>
        this.replica.synced && this.prices.current ? null : 'budgets or price sheet not loaded yet',
      );
    }
    await this.bus.subscribe<BudgetSpendV1>(
      BUDGET_GUARD_QUEUES.spend,
      [Topics.budgetSpend],
      async (m) => this.replica.apply(m),
      { broadcast: true },
    );
    await this.bus.subscribe<PriceSheetV1>(
      BUDGET_GUARD_QUEUES.priceSheet,
      [Topics.priceSheet],
      async (sheet) => void this.prices.install(sheet),
      { broadcast: true },
    );
    await this.bus.subscribe<ProxyHeartbeatV1>(
      BUDGET_GUARD_QUEUES.heartbeat,
      [Topics.proxyHeartbeat],
      async (hb) => void this.peers.heard(hb),
      { broadcast: true },
    );
    // In the background: the proxy serves meanwhile (fail-open or fail-closed until both are loaded).
    void this.loadSnapshot();
    void this.loadPriceSheet();
    void this.beat();
    this.every(this.options.heartbeatMs, () => void this.beat());
    this.every(5000, () => void this.replica.sweep());
    if (this.options.resyncMs > 0) this.every(this.options.resyncMs, () => void this.loadSnapshot(false));
  }

  onModuleDestroy(): void {
    this.stopTimers();
  }

  /** Tells the others at once that this proxy's share is free again (without holding up the shutdown). */
  async onApplicationShutdown(): Promise<void> {
    this.stopTimers();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.bus
        .publish<ProxyHeartbeatV1>(Topics.proxyHeartbeat, { ...this.heartbeat(), leaving: true })
        .catch(() => undefined),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, 500))),
    ]);
    clearTimeout(timer);
  }

  heartbeat(): ProxyHeartbeatV1 {
    return {
      proxy_id: this.peers.selfId,
      sent_at: new Date().toISOString(),
      interval_ms: this.options.heartbeatMs,
      reserved: this.replica.reservedByBudget(),
    };
  }

  /** Loads the ledger's snapshot; the first load retries until it succeeds. */
  async loadSnapshot(retry = true): Promise<boolean> {
    try {
      const reply = await this.bus.request<
        Record<string, never>,
        BudgetsSpendSnapshotReply | BudgetSpendV1[]
      >(Commands.budgetsSpendSnapshot, {}, { timeoutMs: this.options.requestTimeoutMs });
      const budgets = Array.isArray(reply) ? reply : (reply?.budgets ?? []);
      const first = !this.replica.synced;
      this.replica.load(budgets);
      if (first) this.logger.log(`loaded ${this.replica.size} enforcing budgets`);
      this.snapshotFailures = 0;
      return true;
    } catch (e) {
      if (retry && !this.stopped) {
        // The ledger may start after the proxy: say so once, then retry with backoff.
        if (this.snapshotFailures++ === 0)
          this.logger.warn(`budget snapshot: ${(e as Error).message}; retrying`);
        this.after(this.backoff(this.snapshotFailures), () => void this.loadSnapshot(!this.replica.synced));
      }
      return false;
    }
  }

  /** Loads pricing's current sheet; retries until one is held (from here or from the topic). */
  async loadPriceSheet(): Promise<boolean> {
    try {
      const sheet = await this.bus.request<Record<string, never>, PriceSheetV1>(
        Commands.pricingPriceSheet,
        {},
        { timeoutMs: this.options.requestTimeoutMs },
      );
      this.prices.install(sheet);
      return true;
    } catch (e) {
      if (!this.stopped && this.prices.current === null) {
        if (this.sheetFailures++ === 0) this.logger.warn(`price sheet: ${(e as Error).message}; retrying`);
        this.after(this.backoff(this.sheetFailures), () => void this.loadPriceSheet());
      }
      return false;
    }
  }

  /**
   * A heartbeat within gossipMs of a change in this proxy's reservations (one per window, however many
   * changes), so the others' view of what it holds lags by gossipMs plus the bus delay, not a whole interval.
   */
  private soon(): void {
    if (this.gossip || this.stopped) return;
    this.gossip = setTimeout(() => {
      this.gossip = null;
      void this.beat();
    }, this.options.gossipMs);
    this.gossip.unref();
  }

  /** retryMs, doubling per failure, at most 15 s. */
  private backoff(failures: number): number {
    return Math.min(this.options.retryMs * 2 ** Math.min(failures - 1, 10), 15_000);
  }

  private async beat(): Promise<void> {
    await this.bus.publish(Topics.proxyHeartbeat, this.heartbeat()).catch(() => undefined);
  }

  private every(ms: number, run: () => void): void {
    const t = setInterval(run, ms);
    t.unref();
    this.timers.push(t);
  }

  private after(ms: number, run: () => void): void {
    const t = setTimeout(run, ms);
    t.unref();
    this.timers.push(t);
  }

  private stopTimers(): void {
    this.stopped = true;
    for (const t of this.timers.splice(0)) clearTimeout(t);
    if (this.gossip) clearTimeout(this.gossip);
    this.gossip = null;
  }
}
