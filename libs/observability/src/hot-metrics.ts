// Counters and histograms for the request path. prom-client validates and hashes the labels object on every inc()
// and observe() (about a microsecond each, several per proxied request); these resolve a label set once, to a
// child that only adds numbers, and render exactly what prom-client's Counter and Histogram render at scrape time.
// They register in a prom-client Registry like any metric (`/metrics`, getSingleMetric, resetMetrics).
import type { Registry } from 'prom-client';

export interface HotMetricConfig<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  registers?: Registry[];
}

export interface HotCounterChild {
  inc(value?: number): void;
}

export interface HotHistogramChild {
  observe(value: number): void;
}

type Labels<L extends string> = Partial<Record<L, string>>;

/** A value as prom-client's Registry renders it (labels first, then the metric's own as shared labels). */
interface RenderedValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
  sharedLabels?: Record<string, string>;
}

interface Rendered {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: RenderedValue[];
  aggregator: 'sum';
}

/** One label set's numbers. `seen`: rendered (prom-client renders a label set from its first update on). */
interface Child {
  readonly labels: Record<string, string>;
  seen: boolean;
  clear(): void;
}

abstract class HotMetric<L extends string, C extends Child> {
  readonly aggregator = 'sum' as const;
  readonly labelNames: readonly L[];
  /** Kept across reset() (cleared in place): callers hold children from labels(). */
  protected readonly children = new Map<string, C>();

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly L[] | undefined,
    registers: Registry[] | undefined,
  ) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`invalid metric name ${name}`);
    this.labelNames = labelNames ?? [];
    for (const register of registers ?? []) {
      register.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
    }
  }

  /** The child of these label values (in `labelNames` order); keep it to skip even the lookup. */
  protected child(values: readonly string[]): C {
    const key = values.length === 1 ? values[0] : values.join('\u0000');
    let child = this.children.get(key);
    if (child === undefined) {
      if (values.length !== this.labelNames.length) {
        throw new Error(
          `${this.name}: expected ${this.labelNames.length} label values, got ${values.length}`,
        );
      }
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = String(values[i])));
      child = this.create(labels);
      this.children.set(key, child);
    }
    return child;
  }

  /** A labels object (prom-client's calling convention) as values in `labelNames` order. */
  protected valuesOf(labels: Labels<L> | undefined): string[] {
    const given: Labels<L> = labels ?? {};
    for (const name of Object.keys(given)) {
      if (!this.labelNames.includes(name as L)) throw new Error(`${this.name}: unknown label ${name}`);
    }
    return this.labelNames.map((n) => given[n] ?? '');
  }

  protected abstract create(labels: Record<string, string>): C;

  /** Zeroes and hides every label set until its next update, as prom-client's reset() forgets them. */
  reset(): void {
    for (const c of this.children.values()) {
      c.clear();
      c.seen = false;
    }
  }

  /** The label sets to render, in the order they were first updated. */
  protected shown(): C[] {
    return [...this.children.values()].filter((c) => c.seen);
  }

  abstract get(): Promise<Rendered>;
}

class CounterChild implements HotCounterChild, Child {
  value = 0;
  seen = false;
  constructor(readonly labels: Record<string, string>) {}

  inc(value = 1): void {
    if (!(value >= 0)) throw new Error(`counter increment must be a non-negative number, got ${value}`);
    this.value += value;
    this.seen = true;
  }

  clear(): void {
    this.value = 0;
  }
}

export class HotCounter<L extends string = string> extends HotMetric<L, CounterChild> {
  readonly type = 'counter' as const;

  constructor(config: HotMetricConfig<L>) {
    super(config.name, config.help, config.labelNames, config.registers);
    this.reset();
  }

  /** An unlabelled counter shows 0 from the start and after a reset (prom-client's). */
  override reset(): void {
    super.reset();
    if (this.labelNames.length === 0) this.child([]).seen = true;
  }

  labels(...values: string[]): HotCounterChild {
    return this.child(values);
  }

  /** prom-client's form, `inc(labels?, value?)`, for paths that are not hot. */
  inc(labels?: Labels<L> | number, value = 1): void {
    if (typeof labels === 'number') this.child([]).inc(labels);
    else this.child(this.valuesOf(labels)).inc(value);
  }

  protected create(labels: Record<string, string>): CounterChild {
    return new CounterChild(labels);
  }

  async get(): Promise<Rendered> {
    const values = this.shown().map((c) => ({ value: c.value, labels: c.labels }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

class HistogramChild implements HotHistogramChild, Child {
  /** Per bucket (not cumulative); past the last bound only `count` grows, as in prom-client. */
  readonly counts: number[];
  sum = 0;
  count = 0;
  seen = false;

  constructor(
    readonly labels: Record<string, string>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]) {
        this.counts[i]++;
        break;
      }
    }
    this.sum += value;
    this.count++;
    this.seen = true;
  }

  clear(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

export class HotHistogram<L extends string = string> extends HotMetric<L, HistogramChild> {
  readonly type = 'histogram' as const;
  readonly buckets: readonly number[];

  constructor(config: HotMetricConfig<L> & { buckets: readonly number[] }) {
    super(config.name, config.help, config.labelNames, config.registers);
    if ((config.labelNames ?? []).some((n) => n === 'le')) throw new Error('le is a reserved label keyword');
    this.buckets = [...config.buckets].sort((a, b) => a - b);
    // An unlabelled histogram shows zeros from the start (not after a reset: prom-client's).
    if (this.labelNames.length === 0) this.child([]).seen = true;
  }

  labels(...values: string[]): HotHistogramChild {
    return this.child(values);
  }

  /** prom-client's form, `observe(labels?, value)`, for paths that are not hot. */
  observe(labels: Labels<L> | number, value?: number): void {
    if (typeof labels === 'number') this.child([]).observe(labels);
    else this.child(this.valuesOf(labels)).observe(value as number);
  }

  protected create(labels: Record<string, string>): HistogramChild {
    return new HistogramChild(labels, this.buckets);
  }

  /** What the Registry renders as text: `le` first, the metric's labels after (prom-client's order). */
  async getForPromString(): Promise<Rendered> {
    const values: RenderedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const c of this.shown()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += c.counts[i];
        values.push({ labels: { le }, value: cumulative, metricName: bucket, sharedLabels: c.labels });
      });
      values.push(
        { labels: { le: '+Inf' }, value: c.count, metricName: bucket, sharedLabels: c.labels },
        { labels: {}, value: c.sum, metricName: `${this.name}_sum`, sharedLabels: c.labels },
        { labels: {}, value: c.count, metricName: `${this.name}_count`, sharedLabels: c.labels },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  async get(): Promise<Rendered> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ sharedLabels, labels, ...rest }) => ({
      ...rest,
      labels: { ...labels, ...sharedLabels },
    }));
    return data;
  }
}
