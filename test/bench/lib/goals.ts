// The Goals of issue 17, judged on one run's report (reported, never enforced as tests).
import type { BenchReport, Goal } from './model';
import { fmtKiB, fmtRatio, fmtUs, median, paired, ratio } from './ratios';
import type { FixedRateRun } from './scenarios';

function runsAt(r: BenchReport, rate: number, target: string): FixedRateRun[] {
  return r.fixed.find((f) => f.rate === rate)?.rows.find((x) => x.target === target)?.runs ?? [];
}

const clean = (runs: FixedRateRun[]) => runs.filter((x) => x.errors / Math.max(1, x.sent) < 0.01);

export function judge(r: BenchReport): Goal[] {
  const goals: Goal[] = [];
  const rate = r.meta.keyRate;
  const so = clean(runsAt(r, rate, 'spendops'));
  const bare = clean(runsAt(r, rate, 'bare'));
  const peer = runsAt(r, rate, 'portkey').filter((x) => x.ok > 0);
  const na = (goal: string, want: string, why: string): Goal => ({
    goal,
    want,
    measured: why,
    verdict: 'n/a',
  });

  const soCpu = median(so.map((x) => x.cpuUs));
  const soMain = median(so.map((x) => x.cpuMainUs));
  const bareCpu = median(bare.map((x) => x.cpuUs));
  const cpuRatio = ratio(soCpu, bareCpu);
  goals.push(
    Number.isFinite(cpuRatio)
      ? {
          goal: 'proxy CPU per non-streaming request, all-in-one, everything on',
          want: '≤ 1.5x the bare Node proxy',
          measured: `${fmtUs(soCpu)} (main thread ${fmtUs(soMain)}) vs ${fmtUs(bareCpu)} = ${fmtRatio(cpuRatio)} (main thread ${fmtRatio(ratio(soMain, bareCpu))}) at ${rate} req/s`,
          verdict: cpuRatio <= 1.5 ? 'PASS' : 'MISS',
        }
      : na('proxy CPU per request vs bare', '≤ 1.5x', 'spendops or bare did not serve the key rate cleanly'),
  );
  const peerCpu = median(peer.map((x) => x.cpuUs));
  const peerRatio = ratio(peerCpu, soCpu);
  goals.push(
    Number.isFinite(peerRatio)
      ? {
          goal: 'proxy CPU per request vs the peer',
          want: '≥ 10x less than Portkey',
          measured: `Portkey ${fmtUs(peerCpu)} / SpendOps ${fmtUs(soCpu)} = ${fmtRatio(peerRatio)}`,
          verdict: peerRatio >= 10 ? 'PASS' : 'MISS',
        }
      : na(
          'proxy CPU per request vs the peer',
          '≥ 10x less than Portkey',
          'SpendOps or Portkey not measured',
        ),
  );
  const added = paired(
    runsAt(r, rate, 'spendops').map((x) => x.latency.p99),
    runsAt(r, rate, 'bare').map((x) => x.latency.p99),
  );
  const worst = Math.max(...added.filter(Number.isFinite));
  goals.push(
    added.some(Number.isFinite)
      ? {
          goal: `added p99 over the bare Node proxy, ${rate} req/s`,
          want: '< 1 ms in every repetition',
          measured: `median ${fmtUs(median(added))}, worst ${fmtUs(worst)} (n=${added.length})`,
          verdict: worst < 1000 ? 'PASS' : 'MISS',
        }
      : na('added p99 over bare', '< 1 ms', 'not measured'),
  );
  const st = (t: string) => r.streams.find((s) => s.target === t)?.run;
  const sst = st('spendops');
  const dst = st('direct');
  if (sst && dst) {
    const a = sst.chunkDelay.p99 - dst.chunkDelay.p99;
    goals.push({
      goal: 'streams: added per-chunk delay p99 (over direct)',
      want: '< 1 ms',
      measured: `${fmtUs(a)} (${sst.streams} streams x ${sst.expected / Math.max(1, sst.streams)} chunks)`,
      verdict: a < 1000 ? 'PASS' : 'MISS',
    });
    goals.push({
      goal: 'streams: every chunk delivered',
      want: 'all chunks, every usage chunk',
      measured: `${sst.chunks} / ${sst.expected} chunks, ${sst.usage} / ${sst.streams} usage chunks`,
      verdict: sst.chunks === sst.expected && sst.usage === sst.streams ? 'PASS' : 'MISS',
    });
  } else goals.push(na('streams', '< 1 ms added per chunk, all delivered', 'not measured'));
  const mem = r.memory.find((m) => m.target === 'spendops')?.run;
  if (mem) {
    goals.push({
      goal: 'proxy memory per open stream',
      want: '< 64 KiB',
      measured: `${fmtKiB(mem.perStreamKiB)} (${mem.heldOpened} / ${mem.heldWanted} streams open)`,
      verdict: mem.perStreamKiB < 64 && mem.heldOpened === mem.heldWanted ? 'PASS' : 'MISS',
    });
    goals.push({
      goal: 'flat memory on a 100 MiB response',
      want: 'peak RSS growth < 16 MiB',
      measured: `${fmtKiB(mem.largeGrowthKiB)} growth, ${(mem.largeReceived / 2 ** 20).toFixed(1)} MiB received`,
      verdict: mem.largeGrowthKiB < 16 * 1024 && mem.largeReceived === mem.largeBytes ? 'PASS' : 'MISS',
    });
  }
  for (const [target, limitMs] of [
    ['spendops', 1000],
    ['distributed', 3000],
  ] as const) {
    const p = r.pipeline.find((x) => x.target === target)?.run;
    if (!p) {
      goals.push(na(`pipeline throughput, ${target}`, '≥ 5,000 events/s sustained', 'not measured'));
      goals.push(na(`event queryable p99, ${target}`, `< ${limitMs / 1000} s`, 'not measured'));
      continue;
    }
    goals.push({
      goal: `pipeline throughput, ${target}`,
      want: '≥ 5,000 events/s sustained',
      measured: `${p.ingestion.eventsPerSecond.toFixed(0)} events/s (lower bound: the proxy served ${p.ingestion.requestRate.toFixed(0)} req/s)`,
      verdict: p.ingestion.eventsPerSecond >= 5000 ? 'PASS' : 'MISS',
    });
    goals.push({
      goal: `event queryable p99, ${target}`,
      want: `< ${limitMs / 1000} s`,
      measured: `${p.queryable.p99.toFixed(1)} ms (${p.queryable.found} / ${p.queryable.sent} found)`,
      verdict: p.queryable.p99 < limitMs && p.queryable.found === p.queryable.sent ? 'PASS' : 'MISS',
    });
  }
  return goals;
}
