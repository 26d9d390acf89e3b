// The built CLI driven as a user would: create a key before the server exists, start the all-in-one server on
// embedded PostgreSQL, create another key while it runs, call providers through it (JSON and a stream), read the
// events and denials back from the admin API, revoke a key from the CLI, stop with SIGTERM.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import {
  anthropicStream,
  MockProvider,
  openAiChatJson,
  openAiChatStream,
  SSE_HEADERS,
  startMockProvider,
} from '@spendops/testing';
import { runCli, SPENDOPS_BIN, SpendOpsProcess, startSpendOps } from './support/spendops-process';

jest.setTimeout(180_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface EventView {
  request_id: string;
  provider: string;
  model: string;
  outcome: string;
  usage_source: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_cost_usd: string | null;
  cost_source: string;
  dims: Record<string, string>;
  stream: boolean;
  api_key_id: string;
  tenant_id: string;
  http_status: number;
}

describe('spendops CLI, all-in-one', () => {
  let mock: MockProvider;
  let server: SpendOpsProcess;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let earlyKey: { id: string; key: string };
  let liveKey: { id: string; key: string };

  const adminGet = async (path: string) => {
    const res = await request(`${server.url}${path}`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  };

  /** Polls the admin API until the event of `requestId` is there (the ledger is asynchronous). */
  const eventOf = async (
    requestId: string,
    withinMs = 5000,
  ): Promise<{ event: EventView; afterMs: number }> => {
    const start = Date.now();
    for (;;) {
      const { body } = await adminGet(`/api/v1/events?request_id=${requestId}`);
      const events = body.events as EventView[];
      if (events.length > 0) return { event: events[0], afterMs: Date.now() - start };
      if (Date.now() - start > withinMs) throw new Error(`no event for ${requestId} after ${withinMs} ms`);
      await sleep(50);
    }
  };

  beforeAll(async () => {
    mock = await startMockProvider((req) => {
      if (req.url.startsWith('/v1/messages')) {
        return { headers: SSE_HEADERS, chunks: anthropicStream(['Hi', ' there']), delayMs: 20 };
      }
      if (req.body.includes('"stream":true')) {
        // Answers with usage only when asked, like OpenAI.
        const usage = req.body.includes('include_usage');
        return {
          headers: SSE_HEADERS,
          chunks: openAiChatStream(['Hello', ' world'], { usage }),
          delayMs: 20,
        };
      }
      return { body: openAiChatJson('gpt-4o-mini', 'Hello!') };
    });
    dataDir = mkdtempSync(join(tmpdir(), 'spendops-e2e-'));
    env = {
      SPENDOPS_DATA_DIR: dataDir,
      SPENDOPS_UPSTREAM_OPENAI: mock.url,
      SPENDOPS_UPSTREAM_ANTHROPIC: mock.url,
    };
    const early = await runCli(['keys', 'create', '--name', 'early', '--tenant', 'acme', '--json'], env);
    expect(early.stderr).toBe('');
    expect(early.code).toBe(0);
    earlyKey = JSON.parse(early.stdout) as { id: string; key: string };
    server = await startSpendOps(['--addr', '127.0.0.1:0'], env);
  });

  afterAll(async () => {
    await server?.dispose();
    await mock?.close();
  });

  it('prints the admin token once, on the first start', () => {
    expect(server.adminToken).toMatch(/^aso_admin_/);
  });

  it('creates a key while the server runs; it works on its first request', async () => {
    const created = await runCli(['keys', 'create', '--name', 'live', '--json'], env);
    expect(created.code).toBe(0);
    liveKey = JSON.parse(created.stdout) as { id: string; key: string };
    expect(liveKey.key).toMatch(/^aso_k_[0-9A-Z]{16}\.[A-Za-z0-9_-]{43}$/);
    const res = await request(`${server.url}/v1/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-aso-api-key': liveKey.key },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [] }),
    });
    expect(res.statusCode).toBe(200);
    await res.body.text();
  });

  it('forwards JSON byte for byte and records the usage with cost and dims', async () => {
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] });
    const res = await request(`${server.url}/v1/openai/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer sk-test-credential',
        'x-aso-api-key': earlyKey.key,
        'x-aso-dims': 'team=backend,app=chatbot',
      },
      body,
    });
    const text = await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(text)).toEqual(openAiChatJson('gpt-4o-mini', 'Hello!'));
    const requestId = res.headers['x-aso-request-id'] as string;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const upstream = mock.requests[mock.requests.length - 1];
    expect(upstream.body.toString()).toBe(body);
    expect(upstream.headers.authorization).toBe('Bearer sk-test-credential');
    expect(upstream.headers['x-aso-api-key']).toBeUndefined();

    const { event, afterMs } = await eventOf(requestId);
    expect(afterMs).toBeLessThan(2000);
    expect(event).toMatchObject({
      request_id: requestId,
      provider: 'openai',
      model: 'gpt-4o-mini',
      outcome: 'completed',
      usage_source: 'provider',
      http_status: 200,
      dims: { team: 'backend', app: 'chatbot' },
      api_key_id: earlyKey.id,
      tenant_id: 'acme',
      cost_source: 'standard',
    });
    expect(event.prompt_tokens).toBeGreaterThan(0);
    expect(event.total_cost_usd).toMatch(/^\d+\.\d+$/);
  });

  it('relays a stream, hides the injected usage chunk, and records the usage', async () => {
    const res = await request(`${server.url}/v1/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-aso-api-key': earlyKey.key },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [] }),
    });
    const text = await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(text).toContain('Hello');
    expect(text).toContain('[DONE]');
    expect(text).not.toContain('"usage"');
    const upstream = mock.requests[mock.requests.length - 1];
    expect(upstream.body.toString()).toContain('"include_usage":true');
    const { event } = await eventOf(res.headers['x-aso-request-id'] as string);
    expect(event).toMatchObject({ stream: true, outcome: 'completed', usage_source: 'provider' });
    expect(event.completion_tokens).toBeGreaterThan(0);
  });

  it('records an Anthropic stream with its own usage', async () => {
    const res = await request(`${server.url}/v1/anthropic/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-aso-api-key': earlyKey.key, 'x-api-key': 'sk-ant' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', stream: true, max_tokens: 10, messages: [] }),
    });
    expect(await res.body.text()).toContain('message_stop');
    const { event } = await eventOf(res.headers['x-aso-request-id'] as string);
    expect(event).toMatchObject({ provider: 'anthropic', usage_source: 'provider', outcome: 'completed' });
    expect(event.prompt_tokens).toBeGreaterThan(0);
  });

  it('relays a WebSocket upgrade (Realtime API) through the served process', async () => {
    const { port } = new URL(server.url);
    const sock = connect(Number(port), '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    let got = '';
    const until = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${text}" in ${JSON.stringify(got)}`)), 5000);
        const check = () => {
          if (got.includes(text)) {
            clearTimeout(timer);
            resolve();
          }
        };
        sock.on('data', (d: Buffer) => {
          got += d.toString();
          check();
        });
        check();
      });
    sock.write(
      'GET /v1/openai/v1/realtime?model=gpt-realtime HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n' +
        `Connection: Upgrade\r\nX-ASO-API-Key: ${earlyKey.key}\r\n\r\n`,
    );
    await until('\r\n\r\n');
    expect(got).toMatch(/^HTTP\/1.1 101 /);
    sock.write('ping\n');
    await until('echo:ping');
    sock.destroy();
  });

  it('rejects a request without a key with the documented error and records one denial', async () => {
    const res = await request(`${server.url}/v1/openai/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(res.statusCode).toBe(401);
    expect(await res.body.json()).toEqual({ error: 'AISpendOps: Missing X-ASO-API-Key' });
    const requestId = res.headers['x-aso-request-id'] as string;
    const start = Date.now();
    let denials: Array<{ type: string; http_status: number }> = [];
    while (denials.length === 0 && Date.now() - start < 5000) {
      denials = (await adminGet(`/api/v1/denials?request_id=${requestId}`)).body.denials as typeof denials;
      if (denials.length === 0) await sleep(50);
    }
    expect(denials).toEqual([expect.objectContaining({ type: 'missing_key', http_status: 401 })]);
  });

  it('refuses the admin API without the token', async () => {
    const res = await request(`${server.url}/api/v1/events`);
    expect(res.statusCode).toBe(401);
    await res.body.text();
  });

  it('stops a key revoked from the CLI within one second', async () => {
    const revoked = await runCli(['keys', 'revoke', liveKey.id], env);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain('revoked');
    const start = Date.now();
    let status = 200;
    while (Date.now() - start < 3000) {
      const res = await request(`${server.url}/v1/openai/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-aso-api-key': liveKey.key },
        body: '{"model":"gpt-4o-mini"}',
      });
      status = res.statusCode;
      const body = await res.body.text();
      if (status === 403) {
        expect(JSON.parse(body)).toEqual({ error: 'AISpendOps: API key is inactive' });
        break;
      }
      await sleep(50);
    }
    expect(status).toBe(403);
    expect(Date.now() - start).toBeLessThan(1000);
    const listed = await runCli(['keys', 'list', '--json'], env);
    const keys = (JSON.parse(listed.stdout) as { keys: Array<{ id: string; status: string }> }).keys;
    expect(keys.find((k) => k.id === liveKey.id)?.status).toBe('revoked');
  });

  it('answers health, readiness and metrics', async () => {
    expect((await request(`${server.url}/healthz`)).statusCode).toBe(200);
    const ready = await request(`${server.url}/readyz`);
    expect(ready.statusCode).toBe(200);
    await ready.body.text();
    const metrics = await (await request(`${server.url}/metrics`)).body.text();
    expect(metrics).toMatch(/spendops_requests_total\{[^}]*provider="openai"/);
  });

  it('exits 0 on SIGTERM', async () => {
    expect(await server.stop('SIGTERM')).toBe(0);
  });
});

describe('spendops CLI errors', () => {
  it('names the bad field and exits non-zero', async () => {
    const res = await runCli(['serve', '--addr', 'nonsense']);
    expect(res.code).not.toBe(0);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain('addr');
  });

  it('refuses an unknown upstream override', async () => {
    const res = await runCli(['serve', '--upstream', 'nosuch=http://127.0.0.1:1']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('nosuch');
  });

  it('prints the version', async () => {
    const res = await runCli(['version']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^spendops \d+\.\d+\.\d+/);
  });
});

/** Until the server reports itself draining on /readyz (or no longer listens). */
async function untilDraining(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const state = await request(`${url}/readyz`).then(
      async (r) => ((await r.body.json()) as { checks?: { process?: string } }).checks?.process,
      () => 'gone',
    );
    if (state === 'draining' || state === 'gone') return;
    if (Date.now() > deadline) throw new Error('the server did not start draining within 30 s');
    await sleep(25);
  }
}

describe('SIGTERM while a stream is in flight', () => {
  it('lets the stream finish, refuses new requests, exits 0, and keeps its usage event', async () => {
    const words = Array.from({ length: 10 }, (_, i) => `w${i} `);
    const mock = await startMockProvider((req) => ({
      headers: SSE_HEADERS,
      chunks: openAiChatStream(words, { usage: req.body.includes('include_usage') }),
      delayMs: 150,
    }));
    const adminToken = 'e2e-admin-token-0123456789';
    const env = {
      SPENDOPS_DATA_DIR: mkdtempSync(join(tmpdir(), 'spendops-drain-')),
      SPENDOPS_UPSTREAM_OPENAI: mock.url,
      SPENDOPS_ADMIN_TOKEN: adminToken,
    };
    let server = await startSpendOps(['--addr', '127.0.0.1:0'], env);
    try {
      const { key } = JSON.parse(
        (await runCli(['keys', 'create', '--name', 'drain', '--json'], env)).stdout,
      ) as {
        key: string;
      };
      const res = await request(`${server.url}/v1/openai/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-aso-api-key': key },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [] }),
      });
      const requestId = res.headers['x-aso-request-id'] as string;
      let text = '';
      let stopping: Promise<number | null> | null = null;
      for await (const chunk of res.body) {
        text += (chunk as Buffer).toString();
        if (!stopping) {
          stopping = server.stop('SIGTERM');
          // Not a fixed pause: on a busy machine the signal can take longer than that to be handled, and a
          // request sent before it would rightly be forwarded.
          await untilDraining(server.url);
          const refused = await request(`${server.url}/v1/openai/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-aso-api-key': key },
            body: '{"model":"gpt-4o-mini"}',
          }).catch(() => null);
          // A new request during the drain is refused (503) or finds the listener closed; never forwarded.
          if (refused) {
            expect(refused.statusCode).toBe(503);
            await refused.body.text();
          }
        }
      }
      expect(text).toContain('w9');
      expect(text).toContain('[DONE]');
      expect(await stopping).toBe(0);
      expect(mock.requests).toHaveLength(1);

      server = await startSpendOps(['--addr', '127.0.0.1:0'], env);
      const start = Date.now();
      let events: EventView[] = [];
      while (events.length === 0 && Date.now() - start < 10_000) {
        const r = await request(`${server.url}/api/v1/events?request_id=${requestId}`, {
          headers: { authorization: `Bearer ${adminToken}` },
        });
        events = ((await r.body.json()) as { events: EventView[] }).events;
        if (events.length === 0) await sleep(100);
      }
      expect(events).toEqual([
        expect.objectContaining({
          request_id: requestId,
          outcome: 'completed',
          usage_source: 'provider',
          stream: true,
        }),
      ]);
    } finally {
      await server.dispose();
      await mock.close();
    }
  });
});

describe('SIGTERM with a client holding a half-sent request', () => {
  it('exits promptly instead of waiting for the client', async () => {
    const env = { SPENDOPS_DATA_DIR: mkdtempSync(join(tmpdir(), 'spendops-halfsent-')) };
    const server = await startSpendOps(['--addr', '127.0.0.1:0'], env);
    const { port } = new URL(server.url);
    const held = connect(Number(port), '127.0.0.1');
    try {
      await new Promise((r) => held.once('connect', r));
      held.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'); // headers never finished
      await sleep(200);
      const start = Date.now();
      expect(await server.stop('SIGTERM')).toBe(0);
      expect(Date.now() - start).toBeLessThan(10_000);
    } finally {
      held.destroy();
      await server.dispose();
    }
  });
});

/** A live process (a zombie waiting for its reaper counts as gone). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('SIGTERM while the server is still starting', () => {
  it('finishes starting, then stops cleanly: exit 0 and no PostgreSQL left running', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'spendops-early-term-'));
    const child = spawn(process.execPath, [SPENDOPS_BIN, 'serve', '--addr', '127.0.0.1:0'], {
      env: { ...process.env, SPENDOPS_DATA_DIR: dataDir, SPENDOPS_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
    let postmaster = 0;
    try {
      // The embedded PostgreSQL is up, the server is not listening yet.
      const deadline = Date.now() + 60_000;
      while (!out.includes('embedded postgres started') && Date.now() < deadline) await sleep(20);
      expect(out).toContain('embedded postgres started');
      expect(out).not.toContain('"msg":"listening"');
      postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('signal while starting');
      expect(out).toContain('embedded postgres stopped');
      expect(existsSync(pidFile)).toBe(false);
      expect(running(postmaster)).toBe(false); // the postmaster is gone, not orphaned
    } finally {
      child.kill('SIGKILL');
      if (postmaster > 0) {
        try {
          process.kill(postmaster, 'SIGQUIT');
        } catch {
          // already gone
        }
      }
    }
  });
});
