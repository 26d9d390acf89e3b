// Issue 13: 1,000 mixed requests, 50 at a time (OpenAI JSON and streams, Anthropic streams, Gemini, clients that
// abandon a stream, upstream 429s and 500s, streams the provider cuts) give exactly 1,000 usage events with the
// mock's usage and the right outcomes: all-in-one on embedded PostgreSQL, then distributed over RabbitMQ with
// the extraction process SIGKILLed mid-run and restarted.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockProvider } from '@spendops/testing';
import { embeddedDatabaseUrl, report, storeCounts, tally, waitForEvents } from './support/ledger-check';
import { forwardedSeqs, newRun, runLoad, startLoadMock, upstreamEnv } from './support/mixed-load';
import { runCli, SpendOpsProcess, startSpendOps } from './support/spendops-process';
import { Cluster, startCluster } from './support/cluster';

jest.setTimeout(180_000);

const TOTAL = 1000;
const CONCURRENCY = 50;

describe('load: 1,000 mixed requests, all-in-one', () => {
  let mock: MockProvider;
  let server: SpendOpsProcess;
  let dataDir: string;
  const adminToken = 'load-admin-token-0123456789abcdef';

  beforeAll(async () => {
    mock = await startLoadMock();
    dataDir = mkdtempSync(join(tmpdir(), 'spendops-load-'));
    server = await startSpendOps(['--addr', '127.0.0.1:0'], {
      SPENDOPS_DATA_DIR: dataDir,
      SPENDOPS_ADMIN_TOKEN: adminToken,
      ...upstreamEnv(mock),
    });
  });

  afterAll(async () => {
    await server?.dispose();
    await mock?.close();
  });

  it('stores exactly one event per request, with the usage and outcome of its kind', async () => {
    const created = await runCli(['keys', 'create', '--name', 'load', '--dims-allowed', 'run', '--json'], {
      SPENDOPS_DATA_DIR: dataDir,
    });
    expect(created.code).toBe(0);
    const { key } = JSON.parse(created.stdout) as { key: string };
    const run = newRun();

    const results = await runLoad({
      proxyUrls: [server.url],
      key,
      run,
      total: TOTAL,
      concurrency: CONCURRENCY,
    });
    const forwarded = forwardedSeqs(mock);
    expect(results.filter((r) => r.requestId === null || !forwarded.has(r.seq))).toEqual([]);

    const ids = results.map((r) => r.requestId!);
    const events = await waitForEvents(server.url, adminToken, run, ids, 30_000);
    const t = tally(results, events, await storeCounts(embeddedDatabaseUrl(dataDir), run));
    report('all-in-one load', t);
    expect({ sent: t.sent, stored: t.stored, duplicates: t.duplicates, lost: t.lost }).toEqual({
      sent: TOTAL,
      stored: TOTAL,
      duplicates: 0,
      lost: 0,
    });
    expect(t.unexpected).toBe(0);
    expect(t.wrong).toEqual([]);
  });

  // Found here: the process used to exit only ~62 s after SIGTERM, because the HTTP server's close waited for
  // connections the load left open (a half-sent request waits for the headers timeout). Connections still open
  // after the proxy's drain are now cut.
  it('exits 0 on SIGTERM, promptly', async () => {
    const start = Date.now();
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(Date.now() - start).toBeLessThan(20_000);
  });
});

describe('load: 1,000 mixed requests, distributed, extraction SIGKILLed mid-run', () => {
  let mock: MockProvider;
  let cluster: Cluster;

  beforeAll(async () => {
    mock = await startLoadMock();
    cluster = await startCluster(upstreamEnv(mock), { proxies: 2 });
  });

  afterAll(async () => {
    await cluster?.destroy();
    await mock?.close();
  });

  it('loses and duplicates nothing', async () => {
    const run = newRun();
    let killed: Promise<void> | null = null;
    const results = await runLoad({
      proxyUrls: cluster.proxyUrls(),
      key: cluster.key,
      run,
      total: TOTAL,
      concurrency: CONCURRENCY,
      onProgress: (done) => {
        if (done === TOTAL / 3 && !killed) killed = cluster.restart('extraction', 'SIGKILL');
      },
    });
    await killed;
    const forwarded = forwardedSeqs(mock);
    expect(results.filter((r) => r.requestId === null || !forwarded.has(r.seq))).toEqual([]);

    const ids = results.map((r) => r.requestId!);
    const events = await waitForEvents(cluster.apiUrl(), cluster.adminToken, run, ids, 60_000);
    const t = tally(results, events, await storeCounts(cluster.databaseUrl, run));
    report('distributed load (extraction killed)', t);
    expect({ sent: t.sent, stored: t.stored, duplicates: t.duplicates, lost: t.lost }).toEqual({
      sent: TOTAL,
      stored: TOTAL,
      duplicates: 0,
      lost: 0,
    });
    expect(t.unexpected).toBe(0);
    expect(t.wrong).toEqual([]);
  });
});
