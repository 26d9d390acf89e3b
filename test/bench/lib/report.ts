// Renders a run as markdown (the committed report and the printed table) and as an SVG latency chart.
import type { BenchReport } from './model';
import { COMPARED, fmtKiB, fmtPct, fmtRatio, fmtUs, median, paired, ratio, spread } from './ratios';
import type { FixedRateRun } from './scenarios';

export function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const ratioHead = COMPARED.map((c) => `vs ${c}`);
const ratioCells = (value: number, of: Map<string, number>) =>
  COMPARED.map((c) => fmtRatio(ratio(value, of.get(c) ?? NaN)));

function fixedSection(f: BenchReport['fixed'][number]): string {
  const direct = f.rows.find((x) => x.target === 'direct')?.runs ?? [];
  const med = (runs: FixedRateRun[], pick: (x: FixedRateRun) => number) => median(runs.map(pick));
  const addedP99 = (runs: FixedRateRun[]) =>
    median(
      paired(
        runs.map((x) => x.latency.p99),
        direct.map((x) => x.latency.p99),
      ),
    );
  const cpu = new Map(f.rows.map((x) => [x.target, med(x.runs, (y) => y.cpuUs)]));
  const added = new Map(f.rows.map((x) => [x.target, addedP99(x.runs)]));
  const rows = f.rows.map(({ target, runs }) => {
    const sent = runs.reduce((a, x) => a + x.sent, 0);
    const errors = runs.reduce((a, x) => a + x.errors, 0);
    const firstError = runs.find((x) => x.firstError)?.firstError ?? '';
    const isDirect = target === 'direct';
    return [
      target,
      `${runs.reduce((a, x) => a + x.ok, 0)} / ${sent}`,
      `${fmtPct(errors / Math.max(1, sent))}${firstError ? ` (${firstError.slice(0, 60)})` : ''}`,
      fmtUs(med(runs, (x) => x.latency.p50)),
      fmtUs(med(runs, (x) => x.latency.p99)),
      fmtUs(med(runs, (x) => x.latency.p999)),
      isDirect ? '—' : fmtUs(added.get(target)!),
      ...(isDirect ? COMPARED.map(() => '—') : ratioCells(added.get(target)!, added)),
      isDirect ? '—' : fmtUs(cpu.get(target)!),
      isDirect ? '—' : fmtUs(med(runs, (x) => x.cpuMainUs)),
      ...(isDirect ? COMPARED.map(() => '—') : ratioCells(cpu.get(target)!, cpu)),
    ];
  });
  const reps = Math.max(...f.rows.map((x) => x.runs.length));
  return [
    `## Non-streaming JSON, ${f.rate} req/s open loop${reps > 1 ? ` (${reps} repetitions, medians)` : ''}`,
    '',
    'Latency from each request\'s intended send time. Added = target minus direct in the same repetition. CPU = proxy user+sys (/proc) over the window / successful requests; "main" = the main thread alone (/proc/PID/task/PID/stat).',
    '',
    table(
      [
        'target',
        'ok / sent',
        'errors',
        'p50',
        'p99',
        'p99.9',
        'added p99',
        ...ratioHead.map((h) => `added p99 ${h}`),
        'CPU / req',
        'CPU main / req',
        ...ratioHead.map((h) => `CPU ${h}`),
      ],
      rows,
    ),
  ].join('\n');
}

function noiseSection(r: BenchReport): string {
  const f = r.fixed.find((x) => x.rate === r.meta.keyRate);
  if (!f) return '';
  const direct = f.rows.find((x) => x.target === 'direct')?.runs ?? [];
  const fmt = (v: number[]) => {
    const s = spread(v);
    return `${fmtUs(s.median)} (${fmtUs(s.min)} – ${fmtUs(s.max)}, n=${s.n})`;
  };
  const rows: string[][] = [];
  for (const { target, runs } of f.rows) {
    rows.push(['p99', target, fmt(runs.map((x) => x.latency.p99))]);
    if (target === 'direct') continue;
    rows.push([
      'added p99',
      target,
      fmt(
        paired(
          runs.map((x) => x.latency.p99),
          direct.map((x) => x.latency.p99),
        ),
      ),
    ]);
    rows.push(['CPU / req', target, fmt(runs.map((x) => x.cpuUs))]);
    rows.push(['CPU main / req', target, fmt(runs.map((x) => x.cpuMainUs))]);
  }
  return [
    `## Noise: ${r.meta.keyRate} req/s repeated, targets in a rotating order`,
    '',
    table(['figure', 'target', 'median (min – max, n)'], rows),
  ].join('\n');
}

/** Where the run's time went: each step, the cluster's background start, the settle waits, one-time setup. */
export function runLines(r: BenchReport): string[] {
  const m = r.meta;
  const out: string[] = [];
  if (m.phases?.length) {
    const steps = m.phases.map((p) => `${p.phase} ${p.s.toFixed(1)} s`).join('; ');
    out.push(`- Phase timing (${m.tookS.toFixed(0)} s in all): ${steps}`);
  }
  if (m.readyS && Object.keys(m.readyS).length)
    out.push(
      `- Targets up after (all started at once at 0 s; distributed in the background, while the others were smoke-tested and their memory measured): ${Object.entries(
        m.readyS,
      )
        .map(([t, s]) => `${t} ${s.toFixed(1)} s`)
        .join(', ')}`,
    );
  if (m.settle)
    out.push(
      `- Waits for the targets to go idle before each measurement: ${(m.settle.totalMs / 1000).toFixed(1)} s over ${m.settle.waits} waits, ${m.settle.capped} of them cut at ${(m.settle.capMs / 1000).toFixed(1)} s`,
    );
  if (m.setup?.length)
    out.push(
      `- One-time setup in this run (cached for the next runs; inside the phase timing): ${m.setup.join('; ')}`,
    );
  return out;
}

export function renderMarkdown(r: BenchReport): string {
  const m = r.meta;
  const out: string[] = [
    '# SpendOps benchmark',
    '',
    `Run ${m.started}, mode ${m.mode}, took ${m.tookS.toFixed(0)} s. Chart: ${m.started.slice(0, 10)}-${m.mode}.svg beside this file.`,
    '',
    '## Machine',
    '',
    `- CPU: ${m.machine.cpu}, ${m.machine.cores} logical cores; memory ${m.machine.memKiB} kB; kernel ${m.machine.kernel}`,
    `- Node ${m.machine.node}; Go ${m.machine.go}`,
    `- Load average at start ${m.loadStart}, at end ${m.loadEnd} (the machine is shared: compare ratios and spreads, not absolutes)`,
    `- Core assignment: ${m.cores}`,
    ...runLines(r),
    '',
    '## Targets',
    '',
    table(
      ['target', 'status', 'detail'],
      r.targets.map((t) => [t.name, t.status === 'ok' ? 'ok' : `skipped: ${t.reason}`, t.detail]),
    ),
    '',
    '## Goals (issue 17)',
    '',
    table(
      ['goal', 'want', 'measured', 'verdict'],
      r.goals.map((g) => [g.goal, g.want, g.measured, g.verdict]),
    ),
    '',
  ];
  for (const f of r.fixed) out.push(fixedSection(f), '');
  if (r.saturation.length) {
    const best = new Map(r.saturation.map((s) => [s.target, s.best]));
    out.push(
      '## Saturation: highest open-loop rate under 1% errors (a request slower than 1 s is an error)',
      '',
      'Direct is the ceiling of the load generator and mock on their core.',
      '',
      table(
        ['target', 'highest rate', ...ratioHead, 'steps (offered: errors, achieved/s, p99)'],
        r.saturation.map((s) => [
          s.target,
          `${s.best} req/s`,
          ...ratioCells(s.best, best),
          s.steps
            .map((x) => `${x.rate}: ${fmtPct(x.errorRate)}, ${x.achieved.toFixed(0)}/s, ${fmtUs(x.p99)}`)
            .join('; '),
        ]),
      ),
      '',
    );
  }
  if (r.streams.length) {
    const d = r.streams.find((s) => s.target === 'direct')?.run;
    const added = new Map(
      r.streams.map((s) => [s.target, d ? s.run.chunkDelay.p99 - d.chunkDelay.p99 : NaN]),
    );
    const s0 = r.streams[0].run;
    out.push(
      `## Streams: ${s0.streams} concurrent x ${s0.expected / Math.max(1, s0.streams)} chunks, 20 ms apart`,
      '',
      'Chunk delay = arrival at the client minus the send time the mock stamped into the chunk (one monotonic clock). Added = minus direct.',
      '',
      table(
        [
          'target',
          'complete',
          'chunks',
          'usage chunks',
          'TTFB p50',
          'TTFB p99',
          'chunk p50',
          'chunk p99',
          'added chunk p99',
          ...ratioHead.map((h) => `added ${h}`),
          'first error',
        ],
        r.streams.map(({ target, run }) => [
          target,
          `${run.completed} / ${run.streams}`,
          `${run.chunks} / ${run.expected}`,
          `${run.usage} / ${run.streams}`,
          fmtUs(run.ttfb.p50),
          fmtUs(run.ttfb.p99),
          fmtUs(run.chunkDelay.p50),
          fmtUs(run.chunkDelay.p99),
          target === 'direct' ? '—' : fmtUs(added.get(target)!),
          ...(target === 'direct' ? COMPARED.map(() => '—') : ratioCells(added.get(target)!, added)),
          run.firstError.slice(0, 80),
        ]),
      ),
      '',
    );
  }
  if (r.memory.length) {
    const per = new Map(r.memory.map((x) => [x.target, x.run.perStreamKiB]));
    const idle = new Map(r.memory.map((x) => [x.target, x.run.idleKiB]));
    out.push(
      '## Memory (proxy RSS)',
      '',
      'Idle = after start and settle. Per open stream = (RSS with the streams held open by the mock - RSS before) / streams opened. Large = one 100 MiB JSON response; growth = peak RSS while passing it (sampled every 10 ms) - RSS before.',
      '',
      table(
        [
          'target',
          'idle RSS',
          ...ratioHead.map((h) => `idle ${h}`),
          'streams open',
          'RSS with streams',
          'per stream',
          ...ratioHead.map((h) => `per stream ${h}`),
          'large received',
          'peak growth',
          'time',
        ],
        r.memory.map(({ target, run }) => [
          target,
          fmtKiB(run.idleKiB),
          ...ratioCells(run.idleKiB, idle),
          `${run.heldOpened} / ${run.heldWanted}`,
          fmtKiB(run.heldKiB),
          fmtKiB(run.perStreamKiB),
          ...ratioCells(run.perStreamKiB, per),
          `${(run.largeReceived / 2 ** 20).toFixed(1)} / ${(run.largeBytes / 2 ** 20).toFixed(1)} MiB`,
          fmtKiB(run.largeGrowthKiB),
          `${run.largeMs.toFixed(0)} ms`,
        ]),
      ),
      '',
    );
  }
  if (r.pipeline.length) {
    out.push(
      '## Pipeline: response end to event queryable (admin API), and ingestion',
      '',
      'Queryable: an open-loop run; after each response `GET /api/v1/events?request_id=` is polled every 10 ms. Ingestion: a closed-loop burst (64 workers), then every 100th event and the last polled until visible; events/s = requests / (first send to last sampled event visible) — a lower bound capped by the rate the proxy serves on its core.',
      '',
      table(
        [
          'target',
          'found / sent',
          'queryable p50',
          'p99',
          'max',
          'burst ok / sent',
          'proxy req/s',
          'sampled visible',
          'events/s',
          'drain after last response',
        ],
        r.pipeline.map(({ target, run }) => [
          target,
          `${run.queryable.found} / ${run.queryable.sent}`,
          `${run.queryable.p50.toFixed(1)} ms`,
          `${run.queryable.p99.toFixed(1)} ms`,
          `${run.queryable.max.toFixed(1)} ms`,
          `${run.ingestion.ok} / ${run.ingestion.requests}`,
          run.ingestion.requestRate.toFixed(0),
          `${run.ingestion.sampledFound} / ${run.ingestion.sampled}`,
          Number.isFinite(run.ingestion.eventsPerSecond) ? run.ingestion.eventsPerSecond.toFixed(0) : '—',
          `${run.ingestion.drainMs.toFixed(0)} ms`,
        ]),
      ),
      '',
    );
  }
  if (r.extraction.length) {
    out.push(
      '## Extraction throughput, one core (captures/s, test/bench/extraction.ts)',
      '',
      table(
        ['capture', 'per second'],
        r.extraction.map((e) => [e.name, e.perSecond.toFixed(0)]),
      ),
      '',
    );
  }
  const base = captureRow(r, 'spendops');
  const variants = ['spendops', 'spendops-nocapture', 'spendops-onethread']
    .map((t) => [t, captureRow(r, t)] as const)
    .filter((x): x is readonly [string, { cpu: number; main: number }] => x[1] !== null);
  if (base && variants.length > 1) {
    out.push(
      `## All-in-one variants: capture on vs off, pipeline on the main thread vs a worker (${r.meta.keyRate} req/s, proxy CPU per request, medians)`,
      '',
      table(
        [
          'target',
          'CPU / req (process)',
          'CPU / req (main thread)',
          'process vs spendops',
          'main thread vs spendops',
        ],
        variants.map(([t, v]) => [
          t,
          fmtUs(v.cpu),
          fmtUs(v.main),
          fmtRatio(ratio(v.cpu, base.cpu)),
          fmtRatio(ratio(v.main, base.main)),
        ]),
      ),
      '',
    );
  }
  out.push(noiseSection(r), '');
  if (r.profile) {
    out.push(
      `## Profile of ${r.profile.target} (node --cpu-prof, top self time)`,
      '',
      r.profile.note,
      '',
      table(
        ['function', 'where', 'self %'],
        r.profile.top.map((p) => [p.fn, p.where, `${p.selfPct.toFixed(1)}%`]),
      ),
      '',
    );
  }
  if (r.notes.length) out.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}

function captureRow(r: BenchReport, target: string): { cpu: number; main: number } | null {
  const runs = r.fixed.find((f) => f.rate === r.meta.keyRate)?.rows.find((x) => x.target === target)?.runs;
  if (!runs?.length) return null;
  return { cpu: median(runs.map((x) => x.cpuUs)), main: median(runs.map((x) => x.cpuMainUs)) };
}

const COLORS = [
  '#444444',
  '#1f77b4',
  '#2ca02c',
  '#d62728',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#bcbd22',
];

/** Latency by percentile at the key rate (first repetition), one line per target, log-scaled µs. */
export function renderSvg(r: BenchReport): string {
  const f = r.fixed.find((x) => x.rate === r.meta.keyRate);
  const series = (f?.rows ?? [])
    .map(({ target, runs }) => ({
      target,
      points: runs[0]?.curve.filter(([, v]) => Number.isFinite(v) && v > 0) ?? [],
    }))
    .filter((s) => s.points.length > 0);
  const W = 760;
  const H = 420;
  const left = 70;
  const right = 170;
  const top = 40;
  const bottom = 50;
  const all = series.flatMap((s) => s.points.map(([, v]) => v));
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...all, 100))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...all, 1000))));
  const pcts = series[0]?.points.map(([p]) => p) ?? [];
  const x = (i: number) => left + (i * (W - left - right)) / Math.max(1, pcts.length - 1);
  const y = (v: number) =>
    top + ((Math.log10(hi) - Math.log10(v)) / (Math.log10(hi) - Math.log10(lo))) * (H - top - bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${left}" y="22" font-size="14">Latency by percentile, ${r.meta.keyRate} req/s open loop (${r.meta.mode} run ${r.meta.started.slice(0, 10)})</text>`,
  ];
  for (let d = lo; d <= hi; d *= 10) {
    parts.push(`<line x1="${left}" x2="${W - right}" y1="${y(d)}" y2="${y(d)}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${y(d) + 4}" text-anchor="end">${fmtUs(d)}</text>`);
  }
  pcts.forEach((p, i) =>
    parts.push(`<text x="${x(i)}" y="${H - bottom + 18}" text-anchor="middle">p${p}</text>`),
  );
  series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length];
    const d = s.points
      .map(([, v], i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`)
      .join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<rect x="${W - right + 15}" y="${top + k * 20}" width="12" height="12" fill="${color}"/>`);
    parts.push(`<text x="${W - right + 32}" y="${top + k * 20 + 10}">${s.target}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
