import { Gauge, Registry } from 'prom-client';
import {
  HotCounter,
  HotCounterChild,
  HotHistogram,
  HotHistogramChild,
  metricsRegistry,
} from '@spendops/observability';

/**
 * The proxy's Prometheus metrics, registered once per registry. The per-request ones are hot metrics (a label set
 * resolves once to a child that only adds numbers); the children used on every request are resolved here.
 */
export class ProxyMetrics {
  readonly requests: HotCounter<'provider' | 'status'>;
  readonly upstreamLatency: HotHistogram<'provider'>;
  readonly overhead: HotHistogram;
  readonly inflight: Gauge;
  readonly inflightStreams: Gauge;
  readonly bytes: HotCounter<'direction'>;
  readonly denials: HotCounter<'type'>;
  readonly requestBytes: HotCounterChild;
  readonly responseBytes: HotCounterChild;
  readonly overheadSeconds: HotHistogramChild;

  constructor(registry: Registry = metricsRegistry) {
    this.requests = reuse(
      registry,
      'spendops_requests_total',
      () =>
        new HotCounter({
          name: 'spendops_requests_total',
          help: 'Proxied or rejected requests by provider and HTTP status returned to the client.',
          labelNames: ['provider', 'status'],
          registers: [registry],
        }),
    );
    this.upstreamLatency = reuse(
      registry,
      'spendops_upstream_latency_seconds',
      () =>
        new HotHistogram({
          name: 'spendops_upstream_latency_seconds',
          help: 'Time from sending the request upstream to receiving response headers.',
          labelNames: ['provider'],
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
          registers: [registry],
        }),
    );
    this.overhead = reuse(
      registry,
      'spendops_proxy_overhead_seconds',
      () =>
        new HotHistogram({
          name: 'spendops_proxy_overhead_seconds',
          help: 'Time the proxy itself adds before the upstream call (routing, key check, policy, body read).',
          buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1],
          registers: [registry],
        }),
    );
    this.inflight = reuse(
      registry,
      'spendops_inflight_requests',
      () =>
        new Gauge({
          name: 'spendops_inflight_requests',
          help: 'Requests being proxied now.',
          registers: [registry],
        }),
    );
    this.inflightStreams = reuse(
      registry,
      'spendops_inflight_streams',
      () =>
        new Gauge({
          name: 'spendops_inflight_streams',
          help: 'Streaming responses being relayed now.',
          registers: [registry],
        }),
    );
    this.bytes = reuse(
      registry,
      'spendops_bytes_total',
      () =>
        new HotCounter({
          name: 'spendops_bytes_total',
          help: 'Body bytes relayed, by direction (request = to upstream, response = to client).',
          labelNames: ['direction'],
          registers: [registry],
        }),
    );
    this.denials = reuse(
      registry,
      'spendops_denials_total',
      () =>
        new HotCounter({
          name: 'spendops_denials_total',
          help: 'Rejected requests by denial type.',
          labelNames: ['type'],
          registers: [registry],
        }),
    );
    this.requestBytes = this.bytes.labels('request');
    this.responseBytes = this.bytes.labels('response');
    this.overheadSeconds = this.overhead.labels();
  }
}

function reuse<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
