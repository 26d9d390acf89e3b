// Added latency of the proxy on loopback: the same requests sent directly to a mock provider and through a
// running all-in-one SpendOps (full metering), interleaved in one run so machine noise hits both sides alike.
// Prints p50/p90/p99 of each side and the difference. Not a test: `npm run bench`.
import '../../apps/cli/src/aliases';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { openAiChatJson, openAiChatStream, SSE_HEADERS, startMockProvider } from '@spendops/testing';
import { runCli, startSpendOps } from '../support/spendops-process';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(samples: number[]): { p50: number; p90: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99) };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function startBareProxy(upstream: string): Promise<{ url: string; pid: number; stop: () => void }> {
  const child = spawn(process.execPath, [join(__dirname, 'bare-proxy.js'), upstream], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) =>
    child.stdout!.on('data', (d: Buffer) => {
      const m = /listening (\d+)/.exec(d.toString());
      if (m) resolve(m[1]);
    }),
  );
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => child.kill() };
}

async function timeRequest(pool: Pool, path: string, headers: Record<string, string>, body: string): Promise<number> {
  const start = process.hrtime.bigint();
  const res = await pool.request({ method: 'POST', path, headers, body });
  await res.body.arrayBuffer();
  if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  return Number(process.hrtime.bigint() - start) / 1000;
}

async function main(): Promise<void> {
  const n = Number(process.env.BENCH_REQUESTS ?? 3000);
  const stream = process.argv.includes('--stream');
  const mock = await startMockProvider((req) =>
    stream && req.body.includes('"stream":true')
      ? { headers: SSE_HEADERS, chunks: openAiChatStream(['Hello', ' world', '!'], { usage: true }) }
      : { body: openAiChatJson('gpt-4o-mini', 'x'.repeat(1000)) },
  );
  const dataDir = mkdtempSync(join(tmpdir(), 'spendops-bench-'));
  const env = { SPENDOPS_DATA_DIR: dataDir, SPENDOPS_UPSTREAM_OPENAI: mock.url };
  const server = await startSpendOps(['--addr', '127.0.0.1:0'], env);
  const created = await runCli(['keys', 'create', '--name', 'bench', '--json'], env);
  const key = (JSON.parse(created.stdout) as { key: string }).key;

  const bare = await startBareProxy(mock.url);
  const direct = new Pool(mock.url, { connections: 1 });
  const floor = new Pool(bare.url, { connections: 1 });
  const proxied = new Pool(server.url, { connections: 1 });
  const body = JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: 'hi' }] });
  const headers = { 'content-type': 'application/json', authorization: 'Bearer sk-bench' };
  const proxyHeaders = { ...headers, 'x-aso-api-key': key, 'x-aso-dims': 'team=bench' };
  const path = '/v1/openai/v1/chat/completions';
  for (let i = 0; i < 300; i++) {
    await timeRequest(direct, '/v1/chat/completions', headers, body);
    await timeRequest(floor, path, headers, body);
    await timeRequest(proxied, path, proxyHeaders, body);
  }
  const d: number[] = [];
  const b: number[] = [];
  const p: number[] = [];
  let bareCpu = 0;
  let spendopsCpu = 0;
  // Blocks of 100 alternate between the targets, so CPU per request is read per block under the same noise.
  for (let done = 0; done < n; done += 100) {
    for (let i = 0; i < 100; i++) d.push(await timeRequest(direct, '/v1/chat/completions', headers, body));
    let before = cpuSeconds(bare.pid);
    for (let i = 0; i < 100; i++) b.push(await timeRequest(floor, path, headers, body));
    bareCpu += cpuSeconds(bare.pid) - before;
    before = cpuSeconds(server.child.pid!);
    for (let i = 0; i < 100; i++) p.push(await timeRequest(proxied, path, proxyHeaders, body));
    spendopsCpu += cpuSeconds(server.child.pid!) - before;
  }
  const ds = summary(d);
  const bs = summary(b);
  const ps = summary(p);
  const kind = stream ? 'SSE stream (3 chunks)' : 'JSON 1.2 KB';
  const row = (name: string, x: { p50: number; p90: number; p99: number }) =>
    `  ${name.padEnd(22)} p50 ${x.p50.toFixed(0).padStart(6)}  p90 ${x.p90.toFixed(0).padStart(6)}  p99 ${x.p99.toFixed(0).padStart(6)}`;
  const perRequest = (cpu: number) => ((cpu / n) * 1e6).toFixed(0);
  process.stdout.write(
    [
      `latency, ${kind}, ${n} sequential requests per target, in alternating blocks, loopback (µs):`,
      row('direct', ds),
      row('bare Node proxy', bs),
      row('SpendOps all-in-one', ps),
      `  added over direct      p50 ${(ps.p50 - ds.p50).toFixed(0)}  p99 ${(ps.p99 - ds.p99).toFixed(0)}`,
      `  added over bare proxy  p50 ${(ps.p50 - bs.p50).toFixed(0)}  p99 ${(ps.p99 - bs.p99).toFixed(0)}`,
      `server CPU per request (µs, user+sys; SpendOps includes capture, extraction, pricing and the event store):`,
      `  bare Node proxy ${perRequest(bareCpu)}   SpendOps ${perRequest(spendopsCpu)}   ratio ${(spendopsCpu / bareCpu).toFixed(2)}x`,
      '',
    ].join('\n'),
  );
  await floor.close();
  bare.stop();
  await direct.close();
  await proxied.close();
  await server.stop();
  await mock.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
