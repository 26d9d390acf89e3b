import { judge } from './goals';
import { newHistogram, percentileCurve, recordUs, summarize } from './histogram';
import type { BenchReport } from './model';
import { renderMarkdown, renderSvg, runLines, table } from './report';
import type { FixedRateRun, StreamRun } from './scenarios';

function run(p99: number, cpuUs: number, cpuMainUs = cpuUs, errors = 0): FixedRateRun {
  const h = newHistogram();
  for (let i = 0; i < 99; i++) recordUs(h, p99 / 2);
  recordUs(h, p99);
  recordUs(h, p99);
  return {
    rate: 1000,
    sent: 1000,
    ok: 1000 - errors,
    errors,
    firstError: errors ? 'status 502' : '',
    latency: { ...summarize(h), p99 },
    curve: percentileCurve(h),
    cpuUs,
    cpuMainUs,
  };
}

function stream(chunkP99: number, chunks = 1000): StreamRun {
  const lat = { count: 1, p50: 100, p90: 200, p99: chunkP99, p999: chunkP99, max: chunkP99 };
  return {
    streams: 10,
    completed: 10,
    chunks,
    expected: 1000,
    usage: 10,
    firstError: '',
    ttfb: lat,
    chunkDelay: lat,
  };
}

function report(): BenchReport {
  return {
    meta: {
      started: '2026-12-02T07:00:00.000Z',
      mode: 'quick',
      tookS: 120,
      machine: { cpu: 'Test CPU', cores: 2, kernel: '6.1', memKiB: 1000, node: 'v20', go: 'go1.26' },
      loadStart: '1.00',
      loadEnd: '1.00',
      cores: 'load on 0, proxy on 1',
      keyRate: 1000,
      repeats: 2,
    },
    targets: [
      { name: 'direct', status: 'ok', detail: 'mock', reason: '' },
      { name: 'bare', status: 'ok', detail: 'node', reason: '' },
      { name: 'spendops', status: 'ok', detail: 'all-in-one', reason: '' },
      { name: 'portkey', status: 'ok', detail: 'peer', reason: '' },
      { name: 'goref', status: 'skipped', detail: '', reason: 'go build ./cmd/spendops failed: no network' },
    ],
    fixed: [
      {
        rate: 1000,
        rows: [
          { target: 'direct', runs: [run(1000, NaN), run(1200, NaN)] },
          { target: 'bare', runs: [run(1500, 130), run(1700, 130)] },
          { target: 'spendops', runs: [run(2000, 260, 180), run(2400, 260, 180)] },
          { target: 'portkey', runs: [run(90_000, 2_600), run(95_000, 2_600)] },
        ],
      },
    ],
    saturation: [
      { target: 'bare', best: 8000, steps: [{ rate: 8000, errorRate: 0, achieved: 7990, p99: 5000 }] },
      {
        target: 'spendops',
        best: 4000,
        steps: [{ rate: 4000, errorRate: 0.001, achieved: 3990, p99: 9000 }],
      },
    ],
    streams: [
      { target: 'direct', run: stream(2000) },
      { target: 'spendops', run: stream(2600) },
    ],
    memory: [],
    pipeline: [
      {
        target: 'spendops',
        run: {
          queryable: { sent: 400, found: 400, p50: 30, p99: 60, max: 80 },
          ingestion: {
            requests: 2000,
            ok: 2000,
            requestRate: 3000,
            sampled: 21,
            sampledFound: 21,
            eventsPerSecond: 2800,
            drainMs: 90,
          },
        },
      },
    ],
    extraction: [{ name: 'even mix', perSecond: 5000 }],
    goals: [],
    profile: { target: 'spendops', note: 'n', top: [{ fn: 'parse', where: 'dist/x.js:1', selfPct: 12.5 }] },
    notes: ['a note'],
  };
}

describe('goals', () => {
  it('judges CPU against the bare proxy and the peer, and added p99 by the worst repetition', () => {
    const g = judge(report());
    const by = (prefix: string) => g.find((x) => x.goal.startsWith(prefix))!;
    expect(by('proxy CPU per non-streaming').verdict).toBe('MISS'); // 260 / 130 = 2.00x > 1.5x
    expect(by('proxy CPU per non-streaming').measured).toContain('2.00x');
    expect(by('proxy CPU per non-streaming').measured).toContain('main thread 1.38x');
    expect(by('proxy CPU per request vs the peer').verdict).toBe('PASS'); // 2600 / 260 = 10x
    expect(by('added p99').measured).toContain('worst 700 µs');
    expect(by('added p99').verdict).toBe('PASS');
    expect(by('streams: added').verdict).toBe('PASS'); // 600 µs
    expect(by('streams: every chunk').verdict).toBe('PASS');
    expect(by('pipeline throughput, spendops').verdict).toBe('MISS');
    expect(by('event queryable p99, spendops').verdict).toBe('PASS');
    expect(by('pipeline throughput, distributed').verdict).toBe('n/a');
  });

  it('misses a stream goal when one chunk is lost, and leaves CPU unjudged when a side had errors', () => {
    const r = report();
    r.streams[1].run = stream(2600, 999);
    r.fixed[0].rows[1].runs = [run(1500, 130, 130, 50), run(1700, 130, 130, 50)];
    const g = judge(r);
    expect(g.find((x) => x.goal === 'streams: every chunk delivered')!.verdict).toBe('MISS');
    expect(g.find((x) => x.goal.startsWith('proxy CPU per request vs bare'))!.verdict).toBe('n/a');
  });
});

describe('report rendering', () => {
  it('says in the Machine section where the time went: steps, the cluster start, idle waits, one-time setup', () => {
    const r = report();
    r.meta.phases = [
      { phase: 'start targets', s: 12.34 },
      { phase: 'streams', s: 20 },
    ];
    r.meta.readyS = { nginx: 0.4, distributed: 31.2 };
    r.meta.settle = { waits: 80, totalMs: 9_500, capped: 2, capMs: 2_000 };
    r.meta.setup = ['goref: go build 241 s (cached)'];
    const md = renderMarkdown(r);
    const machine = md.slice(md.indexOf('## Machine'), md.indexOf('## Targets'));
    expect(machine).toContain('- Phase timing (120 s in all): start targets 12.3 s; streams 20.0 s');
    expect(machine).toContain('nginx 0.4 s, distributed 31.2 s');
    expect(machine).toContain('9.5 s over 80 waits, 2 of them cut at 2.0 s');
    expect(machine).toContain('goref: go build 241 s (cached)');
  });

  it('leaves the run lines out of a report that has none (a run from before they existed)', () => {
    expect(runLines(report())).toEqual([]);
  });

  it('renders the machine, skipped targets with their reason, ratios to the floors and the peer, and noise', () => {
    const r = report();
    r.goals = judge(r);
    const md = renderMarkdown(r);
    expect(md).toContain('- CPU: Test CPU, 2 logical cores');
    expect(md).toContain('| goref | skipped: go build ./cmd/spendops failed: no network |');
    // spendops at 1000 req/s: CPU 260 µs = 2.00x bare, 0.10x portkey; added p99 (paired with direct) median of 1000 and 1200
    const row = md.split('\n').find((l) => l.startsWith('| spendops | 2000 / 2000'))!;
    expect(row).toContain('| 1100 µs | — | 2.20x | 0.01x |');
    expect(row).toContain('| 260 µs | 180 µs | — | 2.00x | 0.10x |');
    expect(md).toContain('| CPU / req | spendops | 260 µs (260 µs – 260 µs, n=2) |');
    expect(md).toContain('| added p99 | bare | 500 µs (500 µs – 500 µs, n=2) |');
    expect(md).toContain('| spendops | 4000 req/s | — | 0.50x | — |');
    expect(md).toContain('| parse | dist/x.js:1 | 12.5% |');
    expect(md).toContain('| 400 / 400 | 30.0 ms | 60.0 ms |');
    expect(md).toContain('- a note');
  });

  it('compares the all-in-one variants (capture off, pipeline thread) with spendops, process and main thread', () => {
    const r = report();
    r.fixed[0].rows.push(
      { target: 'spendops-nocapture', runs: [run(1900, 208, 150), run(2100, 208, 150)] },
      { target: 'spendops-onethread', runs: [run(1900, 286, 90), run(2100, 286, 90)] },
    );
    const md = renderMarkdown(r);
    expect(md).toContain('| spendops | 260 µs | 180 µs | 1.00x | 1.00x |');
    expect(md).toContain('| spendops-nocapture | 208 µs | 150 µs | 0.80x | 0.83x |');
    expect(md).toContain('| spendops-onethread | 286 µs | 90 µs | 1.10x | 0.50x |');
    expect(renderMarkdown(report())).not.toContain('All-in-one variants');
  });

  it('escapes pipes inside table cells', () => {
    expect(table(['a'], [['x | y']])).toBe('| a |\n| --- |\n| x \\| y |');
  });

  it('draws one line and one legend entry per measured target in the chart', () => {
    const svg = renderSvg(report());
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(4);
    for (const t of ['direct', 'bare', 'spendops', 'portkey']) expect(svg).toContain(`>${t}</text>`);
    expect(svg).toContain('>p99.9</text>');
  });
});
