import type { AuthorizationResult } from '@spendops/contracts';
import { connect } from 'node:net';
import { metricsRegistry } from '@spendops/observability';
import { b64, Harness, INACTIVE_KEY, logLines, startHarness, UUID_RE, VALID_KEY } from './testing/harness';

/** Sends raw bytes (clients would clean the path) and returns the status code and body. */
function rawRequest(h: Harness, head: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect(h.port, '127.0.0.1', () => sock.write(head));
    let text = '';
    sock.on('data', (d) => (text += d.toString('latin1')));
    sock.on('end', () => resolve({ status: Number(text.slice(9, 12)), text }));
    sock.on('error', reject);
  });
}

async function expectError(
  res: Awaited<ReturnType<Harness['send']>>,
  status: number,
  body: string,
): Promise<void> {
  const text = await res.body.text();
  expect([res.statusCode, text.trim()]).toEqual([status, body]);
  expect(res.headers['x-aso-request-id']).toMatch(UUID_RE);
  expect(res.headers['content-type']).toBe('application/json');
  JSON.parse(text);
}

describe('ProxyHandler rejections', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('answers every row of the error table exactly, forwards nothing and publishes one denial each', async () => {
    h = await startHarness({ status: 200 });
    h.authorizer.verdict = (_key, input): AuthorizationResult => {
      switch (input.dims_header) {
        case 'deny=provider':
          return {
            ok: false,
            status: 403,
            type: 'provider_blocked',
            message: 'Provider not allowed by API key policy',
            dims: {},
          };
        case 'deny=model':
          return {
            ok: false,
            status: 403,
            type: 'model_blocked',
            message: 'Model not allowed by API key policy',
            dims: { team: 'a' },
          };
        case 'deny=dims':
          return {
            ok: false,
            status: 400,
            type: 'dimension_validation',
            message: 'Dimensions are required (X-ASO-Dims header)',
            dims: {},
          };
      }
      return { ok: true, dims: {}, model: '' };
    };
    const rows: Array<{
      name: string;
      path: string;
      key: string | null;
      deny?: string;
      status: number;
      body: string;
      type: string;
    }> = [
      {
        name: 'missing key',
        path: '/v1/openai/v1/models',
        key: null,
        status: 401,
        body: '{"error":"AISpendOps: Missing X-ASO-API-Key"}',
        type: 'missing_key',
      },
      {
        name: 'empty key',
        path: '/v1/openai/v1/models',
        key: '',
        status: 401,
        body: '{"error":"AISpendOps: Missing X-ASO-API-Key"}',
        type: 'missing_key',
      },
      {
        name: 'bad format',
        path: '/v1/openai/v1/models',
        key: 'sk-not-ours',
        status: 403,
        body: '{"error":"AISpendOps: Invalid X-ASO-API-Key"}',
        type: 'invalid_key',
      },
      {
        name: 'inactive',
        path: '/v1/openai/v1/models',
        key: INACTIVE_KEY,
        status: 403,
        body: '{"error":"AISpendOps: API key is inactive"}',
        type: 'inactive_key',
      },
      {
        name: 'provider blocked',
        path: '/v1/openai/v1/models',
        key: VALID_KEY,
        deny: 'provider',
        status: 403,
        body: '{"error":"AISpendOps: Provider not allowed by API key policy"}',
        type: 'provider_blocked',
      },
      {
        name: 'model blocked',
        path: '/v1/openai/v1/models',
        key: VALID_KEY,
        deny: 'model',
        status: 403,
        body: '{"error":"AISpendOps: Model not allowed by API key policy"}',
        type: 'model_blocked',
      },
      {
        name: 'dims',
        path: '/v1/openai/v1/models',
        key: VALID_KEY,
        deny: 'dims',
        status: 400,
        body: '{"error":"AISpendOps: Dimensions are required (X-ASO-Dims header)"}',
        type: 'dimension_validation',
      },
      {
        name: 'unknown provider',
        path: '/v1/nosuch/v1/models',
        key: VALID_KEY,
        status: 404,
        body: '{"error":"AISpendOps: Unknown provider"}',
        type: 'unknown_provider',
      },
      {
        name: 'no provider',
        path: '/v1/',
        key: VALID_KEY,
        status: 404,
        body: '{"error":"AISpendOps: Unknown provider"}',
        type: 'unknown_provider',
      },
      {
        name: 'escape',
        path: '/v1/openai/%2e%2e/admin',
        key: VALID_KEY,
        status: 400,
        body: '{"error":"AISpendOps: Invalid path"}',
        type: 'invalid_path',
      },
      // Route before key: an unknown provider is 404 even without a key.
      {
        name: 'unknown provider, no key',
        path: '/v1/nosuch/x',
        key: null,
        status: 404,
        body: '{"error":"AISpendOps: Unknown provider"}',
        type: 'unknown_provider',
      },
    ];
    for (const row of rows) {
      if (row.name === 'escape') {
        // Raw bytes: an HTTP client would resolve the encoded dot segment before sending.
        const r = await rawRequest(
          h,
          `GET ${row.path} HTTP/1.1\r\nHost: x\r\nX-ASO-API-Key: ${VALID_KEY}\r\nConnection: close\r\n\r\n`,
        );
        expect([r.status, r.text.split('\r\n\r\n')[1].trim()]).toEqual([row.status, row.body]);
        expect(r.text.toLowerCase()).toMatch(/\r\nx-aso-request-id: [0-9a-f-]{36}\r\n/);
        continue;
      }
      const res = await h.send('GET', row.path, {
        headers: { 'x-aso-api-key': row.key, ...(row.deny ? { 'x-aso-dims': `deny=${row.deny}` } : {}) },
      });
      await expectError(res, row.status, row.body);
    }
    expect(h.mock.requests).toHaveLength(0);
    const ds = h.queue.denials;
    expect(ds.map((d) => [d.type, d.http_status])).toEqual(rows.map((r) => [r.type, r.status]));
    for (const d of ds) expect(d.request_id).toMatch(UUID_RE);
    expect(ds[3].api_key_id).toBe('key-old');
    expect(ds[0].api_key_id).toBe('');
    expect(ds[4]).toMatchObject({
      api_key_id: 'key-1',
      tenant_id: 'tenant-1',
      provider: 'openai',
      path: '/v1/models',
    });
    expect(ds[5].dims).toEqual({ team: 'a' });
    expect(ds[5].reason).toBe('Model not allowed by API key policy');
    expect(h.queue.captures).toHaveLength(0);
  });

  it('rejects two X-ASO-API-Key headers as invalid', async () => {
    h = await startHarness();
    const r = await rawRequest(
      h,
      `GET /v1/openai/v1/models HTTP/1.1\r\nHost: x\r\nX-ASO-API-Key: ${VALID_KEY}\r\nX-ASO-API-Key: ${VALID_KEY}\r\nConnection: close\r\n\r\n`,
    );
    expect(r.status).toBe(403);
    expect(r.text).toContain('{"error":"AISpendOps: Invalid X-ASO-API-Key"}');
  });

  it('answers 502 Upstream fetch failed when the provider is unreachable, with an error record', async () => {
    h = await startHarness();
    await h.mock.close();
    const res = await h.send('POST', '/v1/openai/v1/chat/completions', {
      body: '{"model":"gpt-4o"}',
      headers: { 'content-type': 'application/json' },
    });
    await expectError(res, 502, '{"error":"AISpendOps: Upstream fetch failed"}');
    const [c] = await h.queue.waitForCaptures(1);
    expect(c).toMatchObject({
      outcome: 'error',
      http_status: 0,
      request_model: 'gpt-4o',
      first_byte_at_ms: 0,
    });
    expect(c.upstream_error).toBe('ECONNREFUSED');
    expect(b64(c.request_body.head).toString()).toBe('{"model":"gpt-4o"}');
  });

  it('answers a plain JSON 404 outside /v1/ without a denial', async () => {
    h = await startHarness();
    const res = await h.send('GET', '/v2/openai/x');
    await expectError(res, 404, '{"error":"AISpendOps: Not found"}');
    expect(h.queue.items).toHaveLength(0);
  });

  it('never forwards a path-escape attempt (raw TCP)', async () => {
    h = await startHarness();
    const raw = [
      '/v1/openai/../x',
      '/v1/openai/%2e%2e/x',
      '/v1/openai/%2E%2E%2Fx',
      '/v1/openai//evil.example/x',
      '/v1/openai/@evil.example/x',
      '/v1/openai/v1%2f..%2f..%2fx',
      '/v1/openai/v1%5c..',
      '/v1/openai/v1%00',
      '/v1/openai/v1/%252e%252e/x',
      '/v1/openai/v1/.%2e/x',
      '/v1/openai/./v1',
      '/v1/openai/v1\\..\\x',
      '/v1/openai/v1/%zz',
    ];
    for (const p of raw) {
      const r = await rawRequest(
        h,
        `GET ${p} HTTP/1.1\r\nHost: x\r\nX-ASO-API-Key: ${VALID_KEY}\r\nConnection: close\r\n\r\n`,
      );
      expect([p, r.status]).toEqual([p, 400]);
    }
    expect(h.mock.requests).toHaveLength(0);
    expect(h.queue.denials.every((d) => d.type === 'invalid_path')).toBe(true);
  });

  it('answers 413 past the JSON body cap and forwards a body at the cap', async () => {
    h = await startHarness({ status: 200 }, { maxJsonBodyBytes: 1024 });
    const over = await h.send('POST', '/v1/openai/v1/chat/completions', {
      body: 'x'.repeat(1025),
      headers: { 'content-type': 'application/json' },
    });
    await expectError(over, 413, '{"error":"AISpendOps: Request body too large (max 1024 bytes)"}');
    expect(h.queue.denials[0]).toMatchObject({ type: 'body_too_large', http_status: 413 });
    const at = await h.send('POST', '/v1/openai/v1/chat/completions', {
      body: 'x'.repeat(1024),
      headers: { 'content-type': 'application/json' },
    });
    await at.body.dump();
    expect(at.statusCode).toBe(200);
    expect(h.mock.requests).toHaveLength(1);
  });

  it('reads a non-JSON body for the policy when the key needs it, still capped', async () => {
    h = await startHarness({ status: 200 }, { maxJsonBodyBytes: 10 });
    h.authorizer.needsBodyFor = true;
    const res = await h.send('POST', '/v1/openai/v1/audio/transcriptions', {
      body: 'model=whisper',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    await expectError(res, 413, '{"error":"AISpendOps: Request body too large (max 10 bytes)"}');
    const ok = await h.send('POST', '/v1/openai/v1/audio/transcriptions', {
      body: 'm=w',
      headers: { 'content-type': 'text/plain' },
    });
    await ok.body.dump();
    expect(h.authorizer.inputs.at(-1)?.body?.toString()).toBe('m=w');
  });

  it('passes the policy what it needs: provider, dialect, endpoint, content type, body and dims header', async () => {
    h = await startHarness();
    const res = await h.send(
      'POST',
      '/v1/google-ai-studio/v1beta/models/gemini-2.5-pro:generateContent?key=k',
      {
        body: '{"contents":[]}',
        headers: { 'content-type': 'application/json', 'x-aso-dims': 'team=a' },
      },
    );
    await res.body.dump();
    expect(h.authorizer.inputs[0]).toEqual({
      provider: 'google',
      dialect: 'gemini',
      endpoint: '/v1beta/models/gemini-2.5-pro:generateContent',
      content_type: 'application/json',
      body: Buffer.from('{"contents":[]}'),
      dims_header: 'team=a',
    });
    const [c] = await h.queue.waitForCaptures(1);
    expect(c).toMatchObject({
      provider: 'google',
      request_model: 'gemini-2.5-pro',
      stream: false,
      dims: { team: 'a' },
    });
  });

  it('keeps provider credentials and content out of the logs', async () => {
    const secret = 'sk-SECRET-planted-123';
    const marker = 'PROMPT-MARKER-456';
    h = await startHarness({ body: { choices: [{ message: { content: marker } }] } });
    const from = logLines.length;
    const body = `{"model":"gpt-4o","messages":[{"role":"user","content":"${marker}"}]}`;
    for (const path of [
      '/v1/openai/v1/chat/completions',
      `/v1/google/v1beta/models/x:generateContent?key=${secret}`,
    ]) {
      const res = await h.send('POST', path, {
        body,
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      });
      await res.body.dump();
    }
    await h.mock.close();
    const res = await h.send('POST', `/v1/google/v1beta/models/x:generateContent?key=${secret}`, {
      body,
      headers: { authorization: `Bearer ${secret}` },
    });
    await res.body.dump();
    await h.queue.waitForCaptures(3);
    const logs = logLines.slice(from).join('');
    expect(logs).toContain('"msg":"request"');
    expect(logs).toContain('"msg":"upstream fetch failed"');
    for (const bad of [secret, marker, VALID_KEY]) expect(logs).not.toContain(bad);
  });

  it('counts requests and denials in the shared metrics registry', async () => {
    h = await startHarness({ status: 201 });
    const res = await h.send('GET', '/v1/mistral/v1/models');
    await res.body.dump();
    const denied = await h.send('GET', '/v1/mistral/v1/models', { headers: { 'x-aso-api-key': null } });
    await denied.body.dump();
    await h.queue.waitForCaptures(1);
    const text = await metricsRegistry.metrics();
    expect(text).toMatch(/spendops_requests_total\{provider="mistral",status="201"\} 1/);
    expect(text).toMatch(/spendops_requests_total\{provider="mistral",status="401"\} 1/);
    expect(text).toMatch(/spendops_denials_total\{type="missing_key"\} \d+/);
    expect(text).toMatch(/spendops_upstream_latency_seconds_count\{provider="mistral"\} 1/);
    expect(text).toContain('spendops_inflight_requests 0');
  });

  it('drains: waits for in-flight streams, refuses new requests meanwhile', async () => {
    h = await startHarness({
      headers: { 'content-type': 'text/event-stream' },
      chunks: ['data: a\n\n', 'data: [DONE]\n\n'],
      delayMs: 300,
    });
    const res = await h.send('POST', '/v1/openai/v1/chat/completions', {
      body: '{"stream":true}',
      headers: { 'content-type': 'application/json' },
    });
    const reading = res.body.text();
    expect(h.handler.inFlight).toBe(1);
    let drained = false;
    const draining = h.handler.drain(5000).then((ok) => {
      drained = ok;
    });
    const refused = await h.send('GET', '/v1/openai/v1/models');
    await expectError(refused, 503, '{"error":"AISpendOps: Shutting down"}');
    expect(drained).toBe(false);
    expect(await reading).toBe('data: a\n\ndata: [DONE]\n\n');
    await draining;
    expect(drained).toBe(true);
    expect(h.queue.captures).toHaveLength(1);
  });

  it('gives up draining after the timeout', async () => {
    h = await startHarness({ hang: true });
    const ac = new AbortController();
    const pending = h.send('GET', '/v1/openai/v1/models', { signal: ac.signal }).catch(() => undefined);
    await h.mock.waitForRequests(1);
    expect(await h.handler.drain(50)).toBe(false);
    ac.abort();
    await pending;
  });

  it('keeps a capture record for every response completed under load while draining', async () => {
    h = await startHarness({
      headers: { 'content-type': 'text/event-stream' },
      chunks: ['data: {"choices":[{"delta":{"content":"a"}}]}\n\n', 'data: [DONE]\n\n'],
      delayMs: 5,
    });
    const completed: string[] = [];
    let stop = false;
    const workers = Array.from({ length: 8 }, async () => {
      while (!stop) {
        try {
          const res = await h.send('POST', '/v1/openai/v1/chat/completions', {
            body: '{"model":"gpt-4o-mini","stream":true}',
            headers: { 'content-type': 'application/json' },
          });
          const text = await res.body.text();
          if (res.statusCode === 200 && text.includes('data: [DONE]')) {
            completed.push(res.headers['x-aso-request-id'] as string);
          }
        } catch {
          return;
        }
      }
    });
    const deadline = Date.now() + 10_000;
    while (completed.length < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(await h.handler.drain(5000)).toBe(true);
    stop = true;
    await Promise.all(workers);
    expect(completed.length).toBeGreaterThanOrEqual(20);
    const recorded = new Map<string, number>();
    for (const c of h.queue.captures) recorded.set(c.request_id, (recorded.get(c.request_id) ?? 0) + 1);
    for (const id of completed) expect([id, recorded.get(id)]).toEqual([id, 1]);
  });

  it('never lets a random raw path reach the upstream outside the provider base path (fuzz, raw TCP)', async () => {
    h = await startHarness({ status: 204 });
    const atoms = [
      '/',
      '.',
      '..',
      '%2e',
      '%2E',
      '%2f',
      '%5c',
      '%25',
      '%',
      'v1',
      'a',
      '@',
      '\\',
      ';',
      ':',
      '%41',
      '%00',
      '~',
      '?',
      '&',
    ];
    const providers = ['openai', 'groq', 'deepinfra', 'zai', 'google-ai-studio'];
    let seed = 42;
    const rand = (n: number): number => {
      // mulberry32: a small PRNG whose low bits are usable (unlike a plain LCG's)
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    for (let round = 0; round < 150; round++) {
      let rest = '/';
      for (let k = rand(7); k >= 0; k--) rest += atoms[rand(atoms.length)];
      const provider = providers[rand(providers.length)];
      await rawRequest(
        h,
        `GET /v1/${provider}${rest} HTTP/1.1\r\nHost: x\r\nX-ASO-API-Key: ${VALID_KEY}\r\nConnection: close\r\n\r\n`,
      );
    }
    expect(h.mock.requests.length).toBeGreaterThan(10);
    const bases = ['/openai/', '/v1/openai', '/api/paas/v4', '/'];
    for (const r of h.mock.requests) {
      const path = r.url.split('?')[0];
      expect(path.split('/')).not.toContain('..');
      expect(path.split('/')).not.toContain('.');
      expect(path).not.toMatch(/%2e|%2f|%5c|\/\/|@|\\/i);
      expect(bases.some((b) => path.startsWith(b))).toBe(true);
    }
  });

  it('closes the connection after rejecting a request whose body it did not read', async () => {
    h = await startHarness();
    const res = await h.send('POST', '/v1/openai/v1/audio/transcriptions', {
      body: Buffer.alloc(4 << 20),
      headers: { 'content-type': 'application/octet-stream', 'x-aso-api-key': null },
    });
    await expectError(res, 401, '{"error":"AISpendOps: Missing X-ASO-API-Key"}');
    expect(res.headers.connection).toBe('close');
    const small = await h.send('GET', '/v1/openai/v1/models', { headers: { 'x-aso-api-key': null } });
    await expectError(small, 401, '{"error":"AISpendOps: Missing X-ASO-API-Key"}');
    expect(small.headers.connection).not.toBe('close');
  });
});
