// The worker thread has its own Prometheus registry (extraction, pricing, ledger and its bus counters): the main
// thread's /metrics shows them through one stand-in metric per name, each answering from the worker's registry
// at scrape time (one round trip per scrape, shared by every name). Names both threads define (the default
// process metrics, the bus counters) keep the main thread's values.
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { BridgeLink } from '@spendops/messaging';
import { metricsRegistry } from '@spendops/observability';

type WorkerMetric = Omit<MetricObjectWithValues<MetricValue<string>>, 'collect'>;

const SCRAPE_TIMEOUT_MS = 1_000;

export class PipelineMetrics {
  private link: BridgeLink | null = null;
  private readonly mirrored = new Set<string>();
  private scrape: Promise<Map<string, WorkerMetric>> | null = null;

  /** The current worker's link (null while it is away: its metrics are then absent). */
  setLink(link: BridgeLink | null): void {
    this.link = link;
  }

  /** Mirrors the worker's metric names not already in this thread's registry. */
  async refreshNames(): Promise<void> {
    for (const metric of (await this.fetch()).values()) {
      if (this.mirrored.has(metric.name) || metricsRegistry.getSingleMetric(metric.name)) continue;
      this.mirrored.add(metric.name);
      const { name, help, type, aggregator } = metric;
      const standIn = {
        name,
        help,
        type,
        aggregator,
        get: async (): Promise<WorkerMetric> =>
          (await this.fetch()).get(name) ?? ({ name, help, type, aggregator, values: [] } as WorkerMetric),
      };
      metricsRegistry.registerMetric(
        standIn as unknown as Parameters<typeof metricsRegistry.registerMetric>[0],
      );
    }
  }

  /** The worker's metrics, fetched once per scrape however many names ask. */
  private fetch(): Promise<Map<string, WorkerMetric>> {
    this.scrape ??= this.ask().finally(() => setImmediate(() => (this.scrape = null)));
    return this.scrape;
  }

  private async ask(): Promise<Map<string, WorkerMetric>> {
    const link = this.link;
    if (!link?.open) return new Map();
    let timer: NodeJS.Timeout | undefined;
    try {
      const metrics = await Promise.race([
        link.call<WorkerMetric[]>({ k: 'metrics' }),
        new Promise<WorkerMetric[]>((resolve) => (timer = setTimeout(() => resolve([]), SCRAPE_TIMEOUT_MS))),
      ]);
      return new Map(metrics.map((m) => [m.name, m]));
    } catch {
      return new Map();
    } finally {
      clearTimeout(timer);
    }
  }
}
