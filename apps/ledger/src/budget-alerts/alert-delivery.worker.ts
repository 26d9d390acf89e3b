// Sends due deliveries: claims as many as it has free send slots (SKIP LOCKED, so several ledger processes share
// the work), sends each on its own, records each outcome under its claim. Woken by the projection's NOTIFY at
// commit, so a crossing goes out at once; otherwise it sleeps until the next retry is due or the poll ends.
import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Client } from 'pg';
import { DATABASE_CONNECTION, type DatabaseConnection } from '@spendops/persistence';
import { AlertDeliveryStore, type ClaimedDelivery, type DeliveryOutcome } from './alert-delivery.store';
import { AlertSenders, DeliveryError } from './alert-senders';
import { BUDGET_ALERTS_CHANNEL } from './budget-alerts.migration';
import { alertDeliveriesCounter, setDeliveriesGaugeSource } from './budget-alerts.metrics';
import {
  BUDGET_ALERTS_OPTIONS,
  retryDelayMs,
  type ResolvedBudgetAlertsOptions,
} from './budget-alerts.options';

@Injectable()
export class AlertDeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('BudgetAlerts');
  private running = false;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private woken = false;
  private listener: Client | null = null;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    @Inject(BUDGET_ALERTS_OPTIONS) private readonly options: ResolvedBudgetAlertsOptions,
    private readonly store: AlertDeliveryStore,
    private readonly senders: AlertSenders,
    @Optional() @Inject(DATABASE_CONNECTION) private readonly connection?: DatabaseConnection,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.autoStart) await this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    setDeliveriesGaugeSource(this.store);
    if (this.options.listen && this.connection) await this.listen(this.connection.url);
    this.loop = this.run();
  }

  /** Stops taking work and waits for the sends in flight to be recorded (none is abandoned mid-send). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.running) {
      this.running = false;
      this.wakeUp();
      await this.loop;
      this.loop = null;
    }
    await Promise.all([...this.inFlight]);
    this.senders.close();
    setDeliveriesGaugeSource(null, this.store);
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => undefined);
  }

  wakeUp(): void {
    this.woken = true;
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** Claims and sends due deliveries until none is due and none is in flight; returns the attempts made. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const claimed = await this.fill();
      total += claimed;
      if (claimed === 0 && this.inFlight.size === 0) return total;
      if (claimed === 0) await Promise.race(this.inFlight);
    }
  }

  /**
   * Claims as many due deliveries as there are free send slots and starts sending them. Each send runs on its
   * own, so one slow receiver (up to its timeout) delays nobody else; a finished send wakes the loop to refill.
   */
  private async fill(): Promise<number> {
    const free = this.options.batchSize - this.inFlight.size;
    if (this.stopping || free <= 0) return 0;
    const batch = await this.store.claimDue(randomUUID(), free, this.options.leaseMs);
    for (const d of batch) this.track(d);
    return batch.length;
  }

  private track(d: ClaimedDelivery): void {
    const p = this.attempt(d)
      .catch((err: unknown) => this.logger.warn(`delivery ${d.id}: ${(err as Error).message}`))
      .finally(() => {
        this.inFlight.delete(p);
        this.wakeUp();
      });
    this.inFlight.add(p);
  }

  private async attempt(d: ClaimedDelivery): Promise<void> {
    const outcome = await this.senders.send(d).then(
      (): DeliveryOutcome => ({ status: 'delivered' }),
      (err: unknown): DeliveryOutcome => this.onFailure(d, err),
    );
    const recorded = await this.store.record(d, outcome).catch((err: unknown) => {
      // The lease ends and the delivery is attempted again: at least once, never lost.
      this.logger.warn(`delivery ${d.id}: outcome not recorded (${(err as Error).message})`);
      return false;
    });
    if (recorded) alertDeliveriesCounter.inc({ channel: d.channel, status: outcome.status });
    if (outcome.status === 'failed')
      this.logger.warn(`budget ${d.alert.budget_id} ${d.channel} alert failed after ${d.attempt} attempts`);
  }

  private onFailure(d: ClaimedDelivery, err: unknown): DeliveryOutcome {
    const error = err instanceof Error ? err.message : String(err);
    const permanent = err instanceof DeliveryError && err.permanent;
    if (permanent || d.attempt >= this.options.maxAttempts) return { status: 'failed', error };
    return { status: 'retry', error, delayMs: retryDelayMs(d.attempt, this.options) };
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.woken = false;
      let sleepMs = this.options.pollMs;
      try {
        await this.fill();
        // With every slot busy, a finished send wakes the loop; otherwise sleep until the next retry is due.
        const next = this.inFlight.size < this.options.batchSize ? await this.store.msUntilNextDue() : null;
        if (next !== null) sleepMs = Math.min(sleepMs, Math.max(5, next));
      } catch (err) {
        this.logger.warn(`alert delivery pass failed: ${(err as Error).message}`);
      }
      if (!this.running) break;
      if (this.woken) continue; // a wake-up arrived during the pass
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, sleepMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    await Promise.all([...this.inFlight]);
  }

  private async listen(url: string): Promise<void> {
    const client = new Client({ connectionString: url });
    client.on('error', () => undefined); // the poll keeps delivering without the wake-up
    client.on('notification', () => this.wakeUp());
    try {
      await client.connect();
      await client.query(`LISTEN ${BUDGET_ALERTS_CHANNEL}`);
      this.listener = client;
    } catch {
      await client.end().catch(() => undefined);
    }
  }
}
