// Where the all-in-one server spends CPU per non-streaming request: its main thread (the proxy's event loop) and
// the whole process, with the pipeline on a worker thread, on the main thread, and the bare Node proxy (the
// platform's floor), in one run, alternating rounds so a noisy machine shows up as spread rather than bias.
// `npm run build && node dist/test/bench/cpu-split.js [--requests N] [--rounds R] [--concurrency C]`
// Embedded PostgreSQL runs in its own processes and is not counted.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { runCli, startSpendOps, type SpendOpsProcess } from '../support/spendops-process';

const TICKS = 100; // USER_HZ of /proc stat times

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** utime + stime in seconds from a /proc stat line (the command may hold spaces). */
function statCpu(path: string): number {
  const stat = readFileSync(path, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

interface Cpu {
  main: number;
  process: number;
}

const cpuOf = (pid: number): Cpu => ({
  main: statCpu(`/proc/${pid}/task/${pid}/stat`),
  process: statCpu(`/proc/${pid}/stat`),
});

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1733000000,
  model: 'gpt-4o-mini',
  choices: [
    { index: 0, message: { role: 'assistant', content: 'Hello from the mock' }, finish_reason: 'stop' },
  ],
  usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
});

function startUpstream(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(COMPLETION),
      });
      res.end(COMPLETION);
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface Target {
  name: string;
  url: string;
  pid: number;
  headers: Record<string, string>;
  stop(): Promise<void>;
}

async function startBare(upstream: string): Promise<Target> {
  const child: ChildProcess = spawn(process.execPath, [join(__dirname, 'bare-proxy.js'), upstream], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve) =>
    child.stdout!.on('data', (b: Buffer) => {
      const m = /listening (\d+)/.exec(b.toString());
      if (m) resolve(Number(m[1]));
    }),
  );
  return {
    name: 'bare node proxy',
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    headers: {},
    stop: async () => void child.kill('SIGKILL'),
  };
}

async function startAllInOne(upstream: string, pipelineThread: boolean): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), 'spendops-cpu-'));
  const env = {
    SPENDOPS_DATA_DIR: dataDir,
    SPENDOPS_UPSTREAM_OPENAI: upstream,
    SPENDOPS_PIPELINE_THREAD: String(pipelineThread),
    SPENDOPS_LOG_LEVEL: 'warn',
  };
  const server: SpendOpsProcess = await startSpendOps(['--addr', '127.0.0.1:0'], env);
  const created = await runCli(['keys', 'create', '--name', 'bench', '--json'], env);
  if (created.code !== 0) throw new Error(`keys create: ${created.stderr}`);
  const { key } = JSON.parse(created.stdout) as { key: string };
  await new Promise((r) => setTimeout(r, 1500)); // the key reaches the proxy's replica
  return {
    name: pipelineThread ? 'all-in-one, pipeline thread' : 'all-in-one, one thread',
    url: server.url,
    pid: server.child.pid!,
    headers: { 'x-aso-api-key': key },
    stop: async () => void (await server.dispose()),
  };
}

const BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] });
const agent = new Agent({ connections: 64, keepAliveTimeout: 30_000 });

/** `total` requests, `concurrency` at a time; every answer must be 200. */
async function load(target: Target, total: number, concurrency: number): Promise<void> {
  let next = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next++ < total) {
      const res = await request(`${target.url}/v1/openai/v1/chat/completions`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', ...target.headers },
        body: BODY,
      });
      await res.body.text();
      if (res.statusCode !== 200) failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failed > 0) throw new Error(`${target.name}: ${failed} requests failed`);
}

/** Waits until the process has been idle (the pipeline finished the round's events) for 1 s, at most 30 s. */
async function settle(pid: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = cpuOf(pid).process;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = cpuOf(pid).process;
    if (now - last < 0.03) return;
    last = now;
  }
}

interface Sample {
  mainUs: number;
  processUs: number;
}

async function measure(target: Target, total: number, concurrency: number): Promise<Sample> {
  await settle(target.pid);
  const before = cpuOf(target.pid);
  await load(target, total, concurrency);
  await settle(target.pid); // counts the pipeline's work for these requests, done after the answers
  const after = cpuOf(target.pid);
  return {
    mainUs: ((after.main - before.main) / total) * 1e6,
    processUs: ((after.process - before.process) / total) * 1e6,
  };
}

function stats(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return `${median.toFixed(0)} (${sorted[0].toFixed(0)}–${sorted[sorted.length - 1].toFixed(0)})`;
}

async function main(): Promise<void> {
  const total = arg('requests', 3000);
  const rounds = arg('rounds', 3);
  const concurrency = arg('concurrency', 16);
  const upstream = await startUpstream();
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const targets = [
    await startBare(upstreamUrl),
    await startAllInOne(upstreamUrl, true),
    await startAllInOne(upstreamUrl, false),
  ];
  const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
  try {
    for (const t of targets) await load(t, Math.min(1000, total), concurrency); // warm-up (JIT, pools)
    for (let round = 0; round < rounds; round++) {
      for (const t of targets) samples.get(t.name)!.push(await measure(t, total, concurrency));
    }
  } finally {
    for (const t of targets) await t.stop();
    upstream.close();
    await agent.close();
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const bare = samples.get(targets[0].name)!;
  const bareMain = median(bare.map((s) => s.mainUs));
  const bareProcess = median(bare.map((s) => s.processUs));
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(
    `CPU per non-streaming request, µs: median (min–max) of ${rounds} rounds × ${total} requests, ` +
      `concurrency ${concurrency}; ratios of medians to the bare Node proxy`,
  );
  out(
    'target | main thread | whole process | main / bare main | main / bare process | process / bare process',
  );
  for (const t of targets) {
    const s = samples.get(t.name)!;
    const mains = s.map((x) => x.mainUs);
    const procs = s.map((x) => x.processUs);
    const r = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
    out(
      `${t.name} | ${stats(mains)} | ${stats(procs)} | ${r(median(mains), bareMain)} | ` +
        `${r(median(mains), bareProcess)} | ${r(median(procs), bareProcess)}`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`cpu-split: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
