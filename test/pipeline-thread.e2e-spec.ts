// The all-in-one server with its pipeline (extraction, pricing, ledger) on a worker thread: the worker killed
// mid-load (SIGUSR2 under SPENDOPS_PIPELINE_FAULTS=1 terminates it as a crash would) loses and duplicates
// nothing and takes the proxy down with it never; /readyz reports the worker; SIGTERM under load drains the
// proxy, then the outbound queue into the worker, then the worker, leaving nothing in the spool.
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { MockProvider } from '@spendops/testing';
import {
  embeddedDatabaseUrl,
  fetchRunEvents,
  report,
  StoredEvent,
  storeCounts,
  tally,
} from './support/ledger-check';
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

/** The sum of a Prometheus counter's samples in a /metrics page. */
function counterSum(page: string, name: string): number {
  let sum = 0;
  for (const line of page.split('\n'))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.split(' ').pop());
  return sum;
}

/**
 * Until every id has its event. After the kills the pipeline thread works off a backlog of spooled captures, and
 * at nice 10 on a loaded machine it gets CPU in bursts (seen: nothing replayed for 12 s, nothing stored for 33 s
 * after the worker was back, then 1,738 events in 2 s). So the wait fails on a stall, not at a fixed time: 45 s
 * in which neither an event was stored nor a spooled capture replayed, or 150 s in all.
 */
async function waitForAllEvents(url: string, run: string, ids: string[]): Promise<Map<string, StoredEvent>> {
  const STALL_MS = 45_000;
  const end = Date.now() + 150_000;
  let stalledAt = Date.now() + STALL_MS;
  let progress = '';
  let events = new Map<string, StoredEvent>();
  for (;;) {
    events = (await fetchRunEvents(url, ADMIN_TOKEN, run)) ?? events;
    const stored = ids.filter((id) => events.has(id)).length;
    if (stored === ids.length) return events;
    const metrics = await request(`${url}/metrics`).then(
      (r) => r.body.text(),
      () => '',
    );
    const now = `${stored} ${counterSum(metrics, 'spendops_outbound_replayed_total')}`;
    if (now !== progress) {
      progress = now;
      stalledAt = Date.now() + STALL_MS;
    }
    if (Date.now() > stalledAt || Date.now() > end) {
      console.log(`events: ${stored} of ${ids.length} stored; stopped waiting`);
      return events;
    }
    await sleep(250);
  }
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
  const events = await waitForAllEvents(url, run, ids);
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

async function until(what: string, check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** Until the mock upstream got `n` more requests than it had: load is flowing through the proxy. */
async function untilForwarded(mock: MockProvider, n: number, what: string): Promise<void> {
  const from = mock.requests.length;
  await until(`${n} requests forwarded ${what}`, () => mock.requests.length - from >= n, 60_000);
}

function restartsLogged(server: SpendOpsProcess): number {
  return (server.output().match(/pipeline thread exited; restarting/g) ?? []).length;
}

// The worker runs at nice 10: on a busy machine it gets little CPU, and a restart (a fresh thread loading the
// pipeline's modules and connecting) took 6-22 s under load. Waits for it are bounded by the supervisor's own
// start timeout.
const WORKER_START_MS = 60_000;

async function untilPipelineReady(url: string): Promise<void> {
  await until(
    'the pipeline thread to be ready',
    async () => (await readyz(url)).checks.pipeline === 'ok',
    WORKER_START_MS,
  );
}

/**
 * SIGUSR2 terminates the worker there is: sent while the previous one is still exiting or waiting out its restart
 * backoff, it does nothing. So each kill is confirmed by its log line before anything else happens.
 */
async function killWorker(server: SpendOpsProcess): Promise<void> {
  const before = restartsLogged(server);
  server.child.kill('SIGUSR2');
  await until('the killed worker to exit', () => restartsLogged(server) > before, 30_000);
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
    const deadline = Date.now() + WORKER_START_MS;
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

  // Found flaky at a fixed 2.5 s between the kills: under load the first worker was still exiting or waiting
  // out its backoff, the second SIGUSR2 did nothing, and 2 restarts were logged instead of 3. Now each kill
  // waits for a live worker that has taken load.
  it('every request of a steady load gets exactly one event though the worker is killed twice', async () => {
    const restartsBefore = restartsLogged(server);
    const run = newRun();
    // Load goes on through both restarts (slow under load): at 8 at a time without pause it left ~2,000
    // captures to work off after the second one.
    const load = startSteadyLoad({ proxyUrls: [server.url], key, run, concurrency: 6, pauseMs: 20 });
    let results: SentRequest[];
    const t0 = Date.now();
    const marks: string[] = [];
    const mark = (what: string) => marks.push(`${what}=${((Date.now() - t0) / 1000).toFixed(1)}s`);
    try {
      for (const kill of ['first', 'second']) {
        await untilPipelineReady(server.url);
        mark('ready');
        await untilForwarded(mock, 40, `before the ${kill} kill`);
        mark('kill');
        await killWorker(server);
        mark('exited');
      }
      await untilPipelineReady(server.url);
      mark('ready');
      await untilForwarded(mock, 40, 'after the second kill');
    } finally {
      results = await load.stop();
      console.log(`worker killed twice: ${marks.join(' ')}`);
    }
    expect(restartsLogged(server) - restartsBefore).toBe(2);
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
  }, 240_000);

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
    await untilForwarded(mock, 60, 'before SIGTERM');
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
