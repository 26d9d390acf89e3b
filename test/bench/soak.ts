// Soak: a steady mixed load against distributed SpendOps (each service its own process over RabbitMQ and
// PostgreSQL 15) for a while, with each process's resident memory at the start (after a warm-up) and at the end.
// Goal: flat — the heap's floor (live set) grows no more than 10%; RSS is shown beside it. Not part of CI (10 minutes by default):
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

/** V8 heap in use (MiB) from a process's /metrics. */
async function heapUsedMiB(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^spendops_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? NaN) / 2 ** 20;
}

/**
 * The low point of each process's heap over a window: sampled every 2 s, the minimum approximates the live set
 * after collections, which RSS (the allocator keeps freed pages) and a single heap sample do not.
 */
async function heapFloors(
  urls: ReadonlyArray<readonly [string, string]>,
  windowMs: number,
): Promise<Map<string, number>> {
  const floors = new Map<string, number>();
  for (const end = Date.now() + windowMs; Date.now() < end; await sleep(2000)) {
    for (const [name, url] of urls) {
      const heap = await heapUsedMiB(url).catch(() => NaN);
      if (!Number.isNaN(heap)) floors.set(name, Math.min(floors.get(name) ?? Infinity, heap));
    }
  }
  return floors;
}

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
    const urls = [...cluster.processes].map(([name, p]) => [name, p.url] as const);
    const window = Math.min(30_000, minutes * 6_000);
    const heapBefore = await heapFloors(urls, window);
    const before = new Map(pids.map(([name, pid]) => [name, rssMiB(pid)]));
    const sentBefore = load.sentSoFar();
    await sleep(Math.max(0, minutes * 60_000 - 2 * window));
    const after = new Map(pids.map(([name, pid]) => [name, rssMiB(pid)]));
    const heapAfter = await heapFloors(urls, window);
    const sent = (await load.stop()).length - sentBefore;
    const pct = (a: number, b: number) => ((b - a) / a) * 100;
    const lines = [
      `soak: ${minutes} min after a ${warmupMs / 1000} s warm-up, ${sent} requests (${(sent / (minutes * 60)).toFixed(0)}/s)`,
      '  process       RSS start  RSS end  change | heap floor start  end  change | goal: heap growth <= 10%',
    ];
    for (const [name] of pids) {
      const rss = pct(before.get(name)!, after.get(name)!);
      const h0 = heapBefore.get(name)!;
      const h1 = heapAfter.get(name)!;
      const heap = pct(h0, h1);
      lines.push(
        `  ${name.padEnd(12)} ${before.get(name)!.toFixed(1).padStart(9)} ${after.get(name)!.toFixed(1).padStart(8)} ${rss.toFixed(1).padStart(6)}% | ${h0.toFixed(1).padStart(16)} ${h1.toFixed(1).padStart(4)} ${heap.toFixed(1).padStart(6)}% | ${heap <= 10 ? 'PASS' : 'MISS'}`,
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
