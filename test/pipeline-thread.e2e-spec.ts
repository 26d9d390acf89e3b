// The all-in-one server with its pipeline (extraction, pricing, ledger) on a worker thread: the worker killed
// mid-load (SIGUSR2 under SPENDOPS_PIPELINE_FAULTS=1 terminates it as a crash would) loses and duplicates
// nothing and takes the proxy down with it never; /readyz reports the worker; SIGTERM under load drains the
// proxy, then the outbound queue into the worker, then the worker, leaving nothing in the spool.
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { MockProvider } from '@spendops/testing';
import { embeddedDatabaseUrl, report, storeCounts, tally, waitForEvents } from './support/ledger-check';
import {
  forwardedSeqs,
  newRun,
  SentRequest,
  startLoadMock,
  startSteadyLoad,
  upstreamEnv,
} from './support/mixed-load';
import { runCli, SpendOpsProcess, startSpendOps } from './support/spendops-process';

jest.setTimeout(120_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ADMIN_TOKEN = 'pipeline-admin-token-0123456789abcdef';

interface Readiness {
  status: number;
  checks: Record<string, string>;
}

async function readyz(url: string): Promise<Readiness> {
  const res = await request(`${url}/readyz`);
  const body = (await res.body.json()) as { checks: Record<string, string> };
  return { status: res.statusCode, checks: body.checks };
}

async function serve(
  dataDir: string,
  mock: MockProvider,
  env: NodeJS.ProcessEnv = {},
): Promise<SpendOpsProcess> {
  return startSpendOps(['--addr', '127.0.0.1:0'], {
    SPENDOPS_DATA_DIR: dataDir,
    SPENDOPS_ADMIN_TOKEN: ADMIN_TOKEN,
    SPENDOPS_PIPELINE_THREAD: 'true',
    SPENDOPS_PIPELINE_FAULTS: '1',
    ...upstreamEnv(mock),
    ...env,
  });
}

async function createKey(dataDir: string): Promise<string> {
  const created = await runCli(['keys', 'create', '--name', 'load', '--dims-allowed', 'run', '--json'], {
    SPENDOPS_DATA_DIR: dataDir,
  });
  expect(created.code).toBe(0);
  return (JSON.parse(created.stdout) as { key: string }).key;
}

/** The requests the proxy forwarded and answered with a request id. */
function forwardedOnes(mock: MockProvider, results: SentRequest[]): SentRequest[] {
  const forwarded = forwardedSeqs(mock);
  return results.filter((r) => r.requestId !== null && forwarded.has(r.seq));
}

async function expectExactlyOnce(
  name: string,
  url: string,
  dataDir: string,
  run: string,
  sent: SentRequest[],
  output: () => string,
  minSent = 50,
): Promise<void> {
  const ids = sent.map((r) => r.requestId!);
  const events = await waitForEvents(url, ADMIN_TOKEN, run, ids, 30_000);
  const t = tally(sent, events, await storeCounts(embeddedDatabaseUrl(dataDir), run));
  report(name, t);
  if (t.lost > 0 || t.duplicates > 0)
    console.log(`server output, last lines:\n${output().split('\n').slice(-40).join('\n')}`);
  expect(t.sent).toBeGreaterThan(minSent);
  expect({ duplicates: t.duplicates, lost: t.lost, unexpected: t.unexpected }).toEqual({
    duplicates: 0,
    lost: 0,
    unexpected: 0,
  });
  expect(t.wrong).toEqual([]);
}

function spooledBytes(dataDir: string): number {
  const spoolRoot = join(dataDir, 'spool');
  if (!existsSync(spoolRoot)) return 0;
  let bytes = 0;
  for (const dir of readdirSync(spoolRoot)) {
    for (const file of readdirSync(join(spoolRoot, dir))) bytes += statSync(join(spoolRoot, dir, file)).size;
  }
  return bytes;
}

describe('pipeline thread: the worker killed under load', () => {
  let mock: MockProvider;
  let server: SpendOpsProcess;
  let dataDir: string;
  let key: string;

  beforeAll(async () => {
    mock = await startLoadMock();
    dataDir = mkdtempSync(join(tmpdir(), 'spendops-pipeline-'));
    server = await serve(dataDir, mock);
    key = await createKey(dataDir);
  });

  afterAll(async () => {
    await server?.dispose();
    await mock?.close();
  });

  it('reports the worker on /readyz: ready, then restarting after a crash, then ready again', async () => {
    const before = await readyz(server.url);
    expect(before).toEqual({ status: 200, checks: expect.objectContaining({ pipeline: 'ok' }) });
    server.child.kill('SIGUSR2');
    let sawRestart: Readiness | null = null;
    const deadline = Date.now() + 20_000;
    let now = before;
    while (Date.now() < deadline) {
      now = await readyz(server.url);
      if (now.status === 503 && !sawRestart) sawRestart = now;
      if (sawRestart && now.status === 200) break;
      await sleep(10);
    }
    expect(sawRestart?.checks.pipeline).toMatch(/^pipeline thread restarting \(restarts: 1\)$/);
    expect(now).toEqual({ status: 200, checks: expect.objectContaining({ pipeline: 'ok' }) });
    expect(server.output()).toMatch(/pipeline thread exited; restarting/);
  });

  it('every request of a steady load gets exactly one event though the worker is killed twice', async () => {
    const run = newRun();
    const load = startSteadyLoad({ proxyUrls: [server.url], key, run, concurrency: 8, pauseMs: 5 });
    let results: SentRequest[];
    try {
      await sleep(1500);
      server.child.kill('SIGUSR2');
      await sleep(2500);
      server.child.kill('SIGUSR2');
      await sleep(1500);
    } finally {
      results = await load.stop();
    }
    // The proxy never went down with the worker: every request was answered.
    expect(results.filter((r) => r.status === 0 && r.kind !== 'upstream-cut')).toEqual([]);
    await expectExactlyOnce(
      'worker killed twice',
      server.url,
      dataDir,
      run,
      forwardedOnes(mock, results),
      () => server.output(),
    );
    expect(
      (server.output().match(/pipeline thread exited; restarting/g) ?? []).length,
    ).toBeGreaterThanOrEqual(3);
  });

  it("shows the worker's metrics on the main thread's /metrics", async () => {
    const metrics = await (await request(`${server.url}/metrics`)).body.text();
    // Counted by extraction on the worker thread (the load above went through it).
    expect(metrics).toMatch(/^spendops_extraction_captures_total\{[^}]*\} [1-9]\d*$/m);
    // And the proxy's, from this thread.
    expect(metrics).toMatch(/^spendops_requests_total\{/m);
  });
});

describe('pipeline thread: SIGTERM under load', () => {
  let mock: MockProvider;
  let server: SpendOpsProcess | undefined;
  let dataDir: string;

  beforeAll(async () => {
    mock = await startLoadMock();
    dataDir = mkdtempSync(join(tmpdir(), 'spendops-pipeline-term-'));
  });

  afterAll(async () => {
    await server?.dispose();
    await mock?.close();
  });

  it('drains proxy, outbound queue and worker in order: exit 0, nothing left in the spool, every event stored', async () => {
    server = await serve(dataDir, mock);
    const key = await createKey(dataDir);
    const run = newRun();
    const load = startSteadyLoad({ proxyUrls: [server.url], key, run, concurrency: 12 });
    await sleep(3000);
    const exit = server.stop('SIGTERM');
    const results = await load.stop();
    const code = await exit;
    if (code !== 0) console.log(server.output().split('\n').slice(-40).join('\n'));
    expect(code).toBe(0);
    expect(server.output()).not.toMatch(/kept in the spool/);
    // Everything went through the pipeline before exit: no capture waits on disk for the next run.
    expect(spooledBytes(dataDir)).toBe(0);
    const sent = forwardedOnes(mock, results);
    // A fresh start (one thread, so it is the store that answers, not a replay) shows every event once.
    server = await serve(dataDir, mock, { SPENDOPS_PIPELINE_THREAD: 'false' });
    expect((await readyz(server.url)).checks.pipeline).toBeUndefined();
    await expectExactlyOnce('SIGTERM under load', server.url, dataDir, run, sent, () => server!.output(), 20);
  });
});
