// Added latency of the proxy on loopback: the same requests sent directly to a mock provider and through a
// running all-in-one SpendOps (full metering), interleaved in one run so machine noise hits both sides alike.
// Prints p50/p90/p99 of each side and the difference. Not a test: `npm run bench`.
import '../../apps/cli/src/aliases';
import { mkdtempSync } from 'node:fs';
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

  const direct = new Pool(mock.url, { connections: 1 });
  const proxied = new Pool(server.url, { connections: 1 });
  const body = JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: 'hi' }] });
  const headers = { 'content-type': 'application/json', authorization: 'Bearer sk-bench' };
  const proxyHeaders = { ...headers, 'x-aso-api-key': key, 'x-aso-dims': 'team=bench' };
  for (let i = 0; i < 300; i++) {
    await timeRequest(direct, '/v1/chat/completions', headers, body);
    await timeRequest(proxied, '/v1/openai/v1/chat/completions', proxyHeaders, body);
  }
  const d: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < n; i++) {
    d.push(await timeRequest(direct, '/v1/chat/completions', headers, body));
    p.push(await timeRequest(proxied, '/v1/openai/v1/chat/completions', proxyHeaders, body));
  }
  const ds = summary(d);
  const ps = summary(p);
  const kind = stream ? 'SSE stream (3 chunks)' : 'JSON 1.2 KB';
  process.stdout.write(
    [
      `added latency, ${kind}, ${n} sequential requests each side, interleaved, loopback (µs):`,
      `  direct   p50 ${ds.p50.toFixed(0)}  p90 ${ds.p90.toFixed(0)}  p99 ${ds.p99.toFixed(0)}`,
      `  proxied  p50 ${ps.p50.toFixed(0)}  p90 ${ps.p90.toFixed(0)}  p99 ${ps.p99.toFixed(0)}`,
      `  added    p50 ${(ps.p50 - ds.p50).toFixed(0)}  p90 ${(ps.p90 - ds.p90).toFixed(0)}  p99 ${(ps.p99 - ds.p99).toFixed(0)}`,
      '',
    ].join('\n'),
  );
  await direct.close();
  await proxied.close();
  await server.stop();
  await mock.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
