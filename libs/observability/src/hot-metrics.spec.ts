import { Counter, Histogram, Registry } from 'prom-client';
import { HotCounter, HotHistogram } from './hot-metrics';

/** The same operations on prom-client's metrics and on the hot ones, each in a registry of its own. */
function pair(): { prom: Registry; hot: Registry } {
  return { prom: new Registry(), hot: new Registry() };
}

const BUCKETS = [0.005, 0.01, 0.1, 1];
const VALUES = [0, 0.004, 0.005, 0.0051, 0.07, 0.5, 1, 3.25, 120];

describe('hot metrics', () => {
  it('render exactly what prom-client renders: labelled counter and histogram', async () => {
    const { prom, hot } = pair();
    const pc = new Counter({
      name: 'x_total',
      help: 'h',
      labelNames: ['provider', 'status'],
      registers: [prom],
    });
    const hc = new HotCounter({
      name: 'x_total',
      help: 'h',
      labelNames: ['provider', 'status'],
      registers: [hot],
    });
    const ph = new Histogram({
      name: 'lat',
      help: 'h',
      labelNames: ['provider'],
      buckets: BUCKETS,
      registers: [prom],
    });
    const hh = new HotHistogram({
      name: 'lat',
      help: 'h',
      labelNames: ['provider'],
      buckets: BUCKETS,
      registers: [hot],
    });
    expect(await hot.metrics()).toBe(await prom.metrics()); // nothing observed yet

    const bound = hh.labels('openai');
    VALUES.forEach((v, i) => {
      const provider = i % 3 === 1 ? 'mistral' : 'openai';
      const status = String(200 + (i % 2));
      pc.inc({ provider, status });
      hc.labels(provider, status).inc();
      ph.observe({ provider }, v);
      if (provider === 'openai') bound.observe(v);
      else hh.observe({ provider }, v);
    });
    pc.inc({ provider: 'openai', status: '200' }, 5);
    hc.inc({ provider: 'openai', status: '200' }, 5);
    expect(await hot.metrics()).toBe(await prom.metrics());
    expect(await hot.getMetricsAsJSON()).toEqual(
      (await prom.getMetricsAsJSON()).map((m) => ({
        ...m,
        values: m.values.map((v) => {
          const { exemplar: _, ...rest } = v as typeof v & { exemplar?: unknown };
          return rest;
        }),
      })),
    );
  });

  it('render exactly what prom-client renders: unlabelled, before and after observations and a reset', async () => {
    const { prom, hot } = pair();
    const pc = new Counter({ name: 'n_total', help: 'h', registers: [prom] });
    const hc = new HotCounter({ name: 'n_total', help: 'h', registers: [hot] });
    const ph = new Histogram({ name: 'o', help: 'h', buckets: BUCKETS, registers: [prom] });
    const hh = new HotHistogram({ name: 'o', help: 'h', buckets: BUCKETS, registers: [hot] });
    expect(await hot.metrics()).toBe(await prom.metrics());
    for (const v of VALUES) {
      ph.observe(v);
      hh.observe(v);
      pc.inc(v);
      hc.inc(v);
    }
    expect(await hot.metrics()).toBe(await prom.metrics());
    prom.resetMetrics();
    hot.resetMetrics();
    expect(await hot.metrics()).toBe(await prom.metrics());
    ph.observe(0.02);
    hh.observe(0.02);
    expect(await hot.metrics()).toBe(await prom.metrics());
  });

  it('keeps a child from labels() working across a reset', async () => {
    const { prom, hot } = pair();
    const pc = new Counter({ name: 'k_total', help: 'h', labelNames: ['a'], registers: [prom] });
    const hc = new HotCounter({ name: 'k_total', help: 'h', labelNames: ['a'], registers: [hot] });
    const held = hc.labels('x');
    pc.inc({ a: 'x' }, 2);
    held.inc(2);
    prom.resetMetrics();
    hot.resetMetrics();
    expect(await hot.metrics()).toBe(await prom.metrics());
    pc.inc({ a: 'x' });
    held.inc();
    expect(await hot.metrics()).toBe(await prom.metrics());
  });

  it('refuses what prom-client refuses', () => {
    const hc = new HotCounter({ name: 'r_total', help: 'h', labelNames: ['a'] });
    const hh = new HotHistogram({ name: 'r', help: 'h', buckets: BUCKETS });
    expect(() => hc.labels('x').inc(-1)).toThrow();
    expect(() => hc.labels('x', 'y')).toThrow();
    expect(() => hc.inc({ b: 'x' } as never)).toThrow();
    expect(() => hh.observe(NaN)).toThrow(TypeError);
    expect(() => new HotHistogram({ name: 'q', help: 'h', labelNames: ['le'], buckets: BUCKETS })).toThrow();
  });

  it('is found by name in its registry, so a second owner reuses it', () => {
    const registry = new Registry();
    const c = new HotCounter({ name: 'once_total', help: 'h', registers: [registry] });
    expect(registry.getSingleMetric('once_total')).toBe(c);
    expect(() => new HotCounter({ name: 'once_total', help: 'h', registers: [registry] })).toThrow();
  });
});
