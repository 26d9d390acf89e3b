// Bus metrics in the process registry. Created once per process (several buses may live in one test process).
import { Counter, Gauge, Registry } from 'prom-client';
import { metricsRegistry } from '@spendops/observability';

function counter(registry: Registry, name: string, help: string, labelNames: string[]): Counter<string> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<string>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

function gauge(registry: Registry, name: string, help: string, labelNames: string[]): Gauge<string> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Gauge<string>;
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

export const busMetrics = {
  published: counter(metricsRegistry, 'spendops_bus_published_total', 'Messages published and confirmed.', [
    'transport',
  ]),
  publishErrors: counter(metricsRegistry, 'spendops_bus_publish_errors_total', 'Publishes that failed.', [
    'transport',
  ]),
  handled: counter(
    metricsRegistry,
    'spendops_bus_handled_total',
    'Deliveries by outcome (ok, retry, dead_letter).',
    ['transport', 'queue', 'outcome'],
  ),
  deadLettered: counter(
    metricsRegistry,
    'spendops_bus_dead_lettered_total',
    'Messages moved to a dead-letter queue.',
    ['transport', 'queue'],
  ),
  connected: gauge(metricsRegistry, 'spendops_bus_connected', '1 while the broker connection is up.', [
    'transport',
  ]),
  redelivered: counter(
    metricsRegistry,
    'spendops_bus_redelivered_total',
    'Deliveries the broker flagged as redelivered (a consumer died or disconnected holding them).',
    ['transport', 'queue'],
  ),
  queueDepth: queueDepthGauge(),
};

/** Samplers of the consumed queues' depths, one per live bus; run when /metrics is scraped. */
export const queueDepthSamplers = new Set<(set: (queue: string, depth: number) => void) => Promise<void>>();

function queueDepthGauge(): Gauge<string> {
  const name = 'spendops_bus_queue_depth';
  const existing = metricsRegistry.getSingleMetric(name);
  if (existing) return existing as Gauge<string>;
  return new Gauge({
    name,
    help: 'Messages ready in each queue this process consumes (its consumer lag), sampled at scrape time.',
    labelNames: ['queue'],
    registers: [metricsRegistry],
    async collect() {
      for (const sample of queueDepthSamplers) {
        await sample((queue, depth) => this.set({ queue }, depth)).catch(() => undefined);
      }
    },
  });
}

export const outboundMetrics = {
  queueDepth: gauge(
    metricsRegistry,
    'spendops_outbound_queue_depth',
    'Messages waiting in memory to be published.',
    [],
  ),
  spoolPending: gauge(
    metricsRegistry,
    'spendops_outbound_spool_pending',
    'Messages waiting in the disk spool.',
    [],
  ),
  spooled: counter(
    metricsRegistry,
    'spendops_outbound_spooled_total',
    'Messages written to the disk spool.',
    [],
  ),
  replayed: counter(
    metricsRegistry,
    'spendops_outbound_replayed_total',
    'Spooled messages published on recovery.',
    [],
  ),
  published: counter(
    metricsRegistry,
    'spendops_outbound_published_total',
    'Messages published by the outbound queue.',
    [],
  ),
  publishErrors: counter(
    metricsRegistry,
    'spendops_outbound_publish_errors_total',
    'Failed publish batches (the messages were spooled or kept).',
    [],
  ),
};
