// Distributed mode as an operator runs it: RabbitMQ and PostgreSQL 15 as real servers, every service its own OS
// process of the built CLI (`serve --services X`), two proxies. A key created and revoked with the CLI reaches
// both proxies through auth's events over RabbitMQ; usage flows proxy → extraction → pricing → ledger → api.
import { mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import {
  MockProvider,
  openAiChatJson,
  RabbitMqInstance,
  startMockProvider,
  startPostgres,
  startRabbitMq,
  TestPostgres,
} from '@spendops/testing';
import { runCli, SpendOpsProcess, startSpendOps } from './support/spendops-process';

jest.setTimeout(240_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('distributed mode: one process per service over RabbitMQ and PostgreSQL', () => {
  let rabbit: RabbitMqInstance;
  let pg: TestPostgres;
  let mock: MockProvider;
  const processes: Record<string, SpendOpsProcess> = {};
  let env: NodeJS.ProcessEnv;
  const adminToken = `admin-${randomBytes(12).toString('hex')}`;

  const chat = (proxy: SpendOpsProcess, key: string) =>
    request(`${proxy.url}/v1/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-aso-api-key': key, 'x-aso-dims': 'team=dist' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });

  beforeAll(async () => {
    [rabbit, pg, mock] = await Promise.all([
      startRabbitMq(),
      startPostgres(),
      startMockProvider({ body: openAiChatJson('gpt-4o-mini', 'Hello!') }),
    ]);
    env = {
      DATABASE_URL: pg.url,
      SPENDOPS_AMQP_URL: rabbit.url,
      SPENDOPS_SERVER_SECRET: randomBytes(32).toString('hex'),
      SPENDOPS_ADMIN_TOKEN: adminToken,
      SPENDOPS_UPSTREAM_OPENAI: mock.url,
    };
    // Migrations run under an advisory lock, so services may start together; auth first keeps the proxies'
    // first snapshot quick.
    processes.auth = await startSpendOps(['--services', 'auth', '--addr', '127.0.0.1:0'], {
      ...env,
      SPENDOPS_DATA_DIR: mkdtempSync(join(tmpdir(), 'so-auth-')),
    });
    const rest = ['extraction', 'pricing', 'ledger', 'api', 'proxy', 'proxy2'];
    const started = await Promise.all(
      rest.map((name) =>
        startSpendOps(['--services', name === 'proxy2' ? 'proxy' : name, '--addr', '127.0.0.1:0'], {
          ...env,
          SPENDOPS_DATA_DIR: mkdtempSync(join(tmpdir(), `so-${name}-`)),
        }),
      ),
    );
    rest.forEach((name, i) => (processes[name] = started[i]));
  });

  afterAll(async () => {
    await Promise.all(Object.values(processes).map((p) => p.stop('SIGKILL')));
    await mock?.close();
    await rabbit?.stop();
    await pg?.stop();
  });

  it('serves health and readiness on every process', async () => {
    for (const [name, p] of Object.entries(processes)) {
      const res = await request(`${p.url}/readyz`);
      const body = await res.body.text();
      expect({ name, status: res.statusCode, body }).toMatchObject({ name, status: 200 });
    }
  });

  it('carries a key from the CLI to both proxies, usage to the api, a policy change and a revocation to both within 1 s', async () => {
    const created = await runCli(['keys', 'create', '--name', 'dist', '--json'], env);
    expect(created.code).toBe(0);
    const { id, key } = JSON.parse(created.stdout) as { id: string; key: string };

    for (const proxy of [processes.proxy, processes.proxy2]) {
      const res = await chat(proxy, key);
      expect(res.statusCode).toBe(200);
      await res.body.text();
    }
    const res = await chat(processes.proxy, key);
    const requestId = res.headers['x-aso-request-id'] as string;
    await res.body.text();

    const start = Date.now();
    let events: Array<{ request_id: string; usage_source: string; dims: Record<string, string> }> = [];
    while (events.length === 0 && Date.now() - start < 5000) {
      const r = await request(`${processes.api.url}/api/v1/events?request_id=${requestId}`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      events = ((await r.body.json()) as { events: typeof events }).events ?? [];
      if (events.length === 0) await sleep(100);
    }
    expect(events).toEqual([
      expect.objectContaining({ request_id: requestId, usage_source: 'provider', dims: { team: 'dist' } }),
    ]);

    /** Time until every proxy answers the key with `message` after a change made at `changedAt`. */
    const reachBothProxies = async (changedAt: number, message: string): Promise<number> => {
      const after: number[] = [];
      for (const proxy of [processes.proxy, processes.proxy2]) {
        for (;;) {
          const r = await chat(proxy, key);
          const text = await r.body.text();
          if (r.statusCode === 403 && text.includes(message)) {
            after.push(Date.now() - changedAt);
            break;
          }
          if (Date.now() - changedAt > 5000) throw new Error(`"${message}" did not reach a proxy in 5 s`);
          await sleep(25);
        }
      }
      return Math.max(...after);
    };

    // A policy change made on another process (the CLI) ...
    expect((await runCli(['keys', 'update', id, '--providers', 'anthropic'], env)).code).toBe(0);
    expect(await reachBothProxies(Date.now(), 'Provider not allowed by API key policy')).toBeLessThan(1000);
    // ... and a revocation.
    expect((await runCli(['keys', 'revoke', id], env)).code).toBe(0);
    expect(await reachBothProxies(Date.now(), 'API key is inactive')).toBeLessThan(1000);
  });

  it('stops every process cleanly on SIGTERM', async () => {
    const codes = await Promise.all(Object.values(processes).map((p) => p.stop('SIGTERM')));
    expect(codes.every((c) => c === 0)).toBe(true);
  });
});
