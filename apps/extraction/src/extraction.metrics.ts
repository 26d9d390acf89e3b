// Extraction's Prometheus metrics, in the process registry.
import { Injectable } from '@nestjs/common';
import { metricsRegistry } from '@spendops/observability';
import { Counter, Histogram, type Registry } from 'prom-client';

function getOrCreate<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

@Injectable()
export class ExtractionMetrics {
  readonly processed: Counter<'usage_source' | 'dialect'>;
  readonly failures: Counter<'reason'>;
  readonly duration: Histogram;

  constructor() {
    const registers = [metricsRegistry];
    this.processed = getOrCreate(
      metricsRegistry,
      'spendops_extraction_captures_total',
      () =>
        new Counter({
          name: 'spendops_extraction_captures_total',
          help: 'Capture records processed, by usage source and dialect',
          labelNames: ['usage_source', 'dialect'],
          registers,
        }),
    );
    this.failures = getOrCreate(
      metricsRegistry,
      'spendops_extraction_failures_total',
      () =>
        new Counter({
          name: 'spendops_extraction_failures_total',
          help: 'Capture records that could not be processed (bad shape, publish failure)',
          labelNames: ['reason'],
          registers,
        }),
    );
    this.duration = getOrCreate(
      metricsRegistry,
      'spendops_extraction_duration_seconds',
      () =>
        new Histogram({
          name: 'spendops_extraction_duration_seconds',
          help: 'Time to extract the usage of one capture record',
          buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
          registers,
        }),
    );
  }
}
