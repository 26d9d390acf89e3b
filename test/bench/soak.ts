// Soak: a steady mixed load against distributed SpendOps (each service its own process over RabbitMQ and
// PostgreSQL 15) for a while, with each process's resident memory at the start (after a warm-up) and at the end.
// Goal: flat, no more than 10% growth (a process returning startup memory shrinks). Not part of CI (10 minutes by default):
//   npm run build && node dist/test/bench/soak.js [--minutes 10] [--concurrency 4] [--pause-ms 20]
import '../../apps/cli/src/aliases';
import { readFileSync } from 'node:fs';
import { startCluster } from '../support/cluster';
import { newRun, startLoadMock, startSteadyLoad, upstreamEnv } from '../support/mixed-load';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Resident set size of a process in MiB, from /proc (Linux). */
function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) / 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const minutes = flag('minutes', 10);
  const warmupMs = Math.min(60_000, minutes * 6_000);
  const mock = await startLoadMock();
  const cluster = await startCluster(upstreamEnv(mock), { proxies: 1 });
  try {
    const load = startSteadyLoad({
      proxyUrls: cluster.proxyUrls(),
      key: cluster.key,
      run: newRun(),
      concurrency: flag('concurrency', 4),
      pauseMs: flag('pause-ms', 20),
    });
    await sleep(warmupMs);
    const pids = [...cluster.processes].map(([name, p]) => [name, p.child.pid!] as const);
    const before = new Map(pids.map(([name, pid]) => [name, rssMiB(pid)]));
    const sentBefore = load.sentSoFar();
    await sleep(minutes * 60_000);
    const after = new Map(pids.map(([name, pid]) => [name, rssMiB(pid)]));
    const sent = (await load.stop()).length - sentBefore;
    const lines = [
      `soak: ${minutes} min after a ${warmupMs / 1000} s warm-up, ${sent} requests (${(sent / (minutes * 60)).toFixed(0)}/s)`,
      '  process       RSS start MiB   RSS end MiB   change   goal: growth <= 10%',
    ];
    for (const [name] of pids) {
      const a = before.get(name)!;
      const b = after.get(name)!;
      const change = ((b - a) / a) * 100;
      lines.push(
        `  ${name.padEnd(12)} ${a.toFixed(1).padStart(13)} ${b.toFixed(1).padStart(13)} ${change.toFixed(1).padStart(7)}%   ${change <= 10 ? 'PASS' : 'MISS'}`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await cluster.destroy();
    await mock.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`soak: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
