// Prometheus series of alert delivery, on the process registry.
import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '@spendops/observability';

function singleton<T>(name: string, make: () => T): T {
  return (metricsRegistry.getSingleMetric(name) as T | undefined) ?? make();
}

/** Attempt outcomes: `delivered`, `retry` (failed, will be retried) and `failed` (gave up). */
export const alertDeliveriesCounter = singleton(
  'spendops_budget_alert_deliveries_total',
  () =>
    new Counter({
      name: 'spendops_budget_alert_deliveries_total',
      help: 'Budget alert delivery attempts by channel and outcome (delivered, retry, failed)',
      labelNames: ['channel', 'status'],
      registers: [metricsRegistry],
    }),
);

/** Where the row gauge reads from at scrape time (the running worker's store; none when no worker runs). */
let gaugeSource: {
  countsByChannelAndStatus(): Promise<{ channel: string; status: string; n: number }[]>;
} | null = null;

/** Sets the source; with `only`, clears it only if it is still that one (another worker may have replaced it). */
export function setDeliveriesGaugeSource(source: typeof gaugeSource, only?: typeof gaugeSource): void {
  if (only === undefined || gaugeSource === only) gaugeSource = source;
}

/** Deliveries stored, by channel and current status (pending = the outbox backlog), sampled at scrape time. */
export const alertDeliveriesGauge = singleton(
  'spendops_budget_alert_deliveries',
  () =>
    new Gauge({
      name: 'spendops_budget_alert_deliveries',
      help: 'Budget alert deliveries stored, by channel and status (pending, delivered, failed)',
      labelNames: ['channel', 'status'],
      registers: [metricsRegistry],
      async collect() {
        if (!gaugeSource) return;
        try {
          const rows = await gaugeSource.countsByChannelAndStatus();
          this.reset();
          for (const r of rows) this.set({ channel: r.channel, status: r.status }, r.n);
        } catch {
          // keep the last sample: a scrape must not fail because the database is away
        }
      },
    }),
);
