import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { MockReply } from '@spendops/testing';
import { startHarness, Harness, UUID_RE, b64 } from './testing/harness';

describe('ProxyHandler relay', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('reaches the upstream with the exact path and query for every route', async () => {
    h = await startHarness({ status: 204 });
    const table: Array<[string, string]> = [
      ['/v1/openai/v1/chat/completions', '/v1/chat/completions'],
      ['/v1/anthropic/v1/messages', '/v1/messages'],
      [
        '/v1/google/v1beta/models/gemini-2.0-flash:generateContent?alt=sse',
        '/v1beta/models/gemini-2.0-flash:generateContent?alt=sse',
      ],
      ['/v1/google-ai-studio/v1beta/openai/chat/completions', '/v1beta/openai/chat/completions'],
      ['/v1/groq/v1/chat/completions', '/openai/v1/chat/completions'],
      ['/v1/deepinfra/v1/chat/completions', '/v1/openai/chat/completions'],
      ['/v1/novita/v1/chat/completions', '/v3/openai/chat/completions'],
      ['/v1/fireworks/v1/chat/completions', '/inference/v1/chat/completions'],
      ['/v1/openrouter/v1/chat/completions', '/api/v1/chat/completions'],
      ['/v1/zai/chat/completions', '/api/paas/v4/chat/completions'],
      ['/v1/openai/v1/files/a%20b?x=%2F&y=1', '/v1/files/a%20b?x=%2F&y=1'],
      ['/v1/openai', '/'],
    ];
    for (const [path, want] of table) {
      const res = await h.send('POST', path, { body: '{}', headers: { 'content-type': 'application/json' } });
      await res.body.dump();
      expect(res.statusCode).toBe(204);
      expect(h.mock.requests.at(-1)?.url).toBe(want);
    }
    await h.queue.waitForCaptures(table.length);
    expect(h.queue.captures.map((c) => c.endpoint)[0]).toBe('/v1/chat/completions');
  });

  it('applies the header rules both ways and never adds Accept-Encoding or User-Agent', async () => {
    h = await startHarness({
      status: 200,
      body: 'ok',
      headers: {
        'X-Provider-Thing': 'p',
        'X-Repeated': ['a', 'b'],
        'Openai-Processing-Ms': '12',
        Connection: 'X-Hop-Resp',
        'X-Hop-Resp': 'must-go',
        'Set-Cookie': ['c=1', 'd=2'],
      },
    });
    // Raw request: full control of what the client sends (repeated headers, hop-by-hop, no User-Agent).
    const net = await import('node:net');
    const body = '{"model":"m"}';
    const raw =
      `POST /v1/openai/v1/chat/completions HTTP/1.1\r\nHost: proxy.local\r\n` +
      [
        'Authorization: Bearer sk-secret',
        'x-api-key: sk-ant',
        'x-goog-api-key: g',
        'anthropic-version: 2023-06-01',
        'X-Custom-Thing: c',
        'Content-Type: application/json',
        `Content-Length: ${body.length}`,
        'X-ASO-API-Key: aso_k_valid.secretsecretsecret',
        'X-ASO-Dims: team=a',
        'X-Aso-Other: x',
        'CF-Connecting-IP: 1.2.3.4',
        'CF-Ray: r',
        'CDN-Loop: l',
        'True-Client-IP: 1.1.1.1',
        'X-Forwarded-For: 9.9.9.9',
        'X-Forwarded-Proto: https',
        'X-Real-IP: 8.8.8.8',
        'Keep-Alive: timeout=5',
        'Proxy-Authorization: Basic x',
        'Connection: X-Hop-Req',
        'X-Hop-Req: must-go',
        'Te: trailers',
        'X-Repeated-Req: 1',
        'X-Repeated-Req: 2',
      ].join('\r\n') +
      `\r\n\r\n${body}`;
    const response = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(h.port, '127.0.0.1', () => sock.write(raw));
      let got = '';
      sock.on('data', (d) => {
        got += d.toString('latin1');
        if (got.includes('\r\n\r\nok')) {
          sock.destroy();
          resolve(got);
        }
      });
      sock.on('error', reject);
    });
    const up = h.mock.requests[0];
    for (const k of [
      'x-aso-api-key',
      'x-aso-dims',
      'x-aso-other',
      'cf-connecting-ip',
      'cf-ray',
      'cdn-loop',
      'true-client-ip',
      'x-forwarded-for',
      'x-forwarded-proto',
      'x-real-ip',
      'keep-alive',
      'proxy-authorization',
      'x-hop-req',
      'te',
      'accept-encoding',
      'user-agent',
    ]) {
      expect([k, up.headers[k]]).toEqual([k, undefined]);
    }
    expect(up.headers).toMatchObject({
      authorization: 'Bearer sk-secret',
      'x-api-key': 'sk-ant',
      'x-goog-api-key': 'g',
      'anthropic-version': '2023-06-01',
      'x-custom-thing': 'c',
      'content-type': 'application/json',
      'x-repeated-req': '1, 2',
      host: h.mock.url.replace('http://', ''),
    });
    expect(up.body.toString()).toBe(body);
    const head = response.split('\r\n\r\n')[0].toLowerCase();
    expect(head).toMatch(/^http\/1.1 200/);
    expect(head).toContain('\r\nx-provider-thing: p');
    expect(head).toContain('\r\nx-repeated: a\r\nx-repeated: b');
    expect(head).toContain('\r\nset-cookie: c=1\r\nset-cookie: d=2');
    expect(head).toContain('\r\nopenai-processing-ms: 12');
    expect(head).not.toContain('x-hop-resp');
    expect(head).toMatch(/\r\nx-aso-request-id: [0-9a-f-]{36}/);
  });

  it('forwards a request that asked for 100-continue, without its Expect header', async () => {
    h = await startHarness({ status: 200, body: 'ok' });
    const net = await import('node:net');
    const body = '{"model":"m"}';
    const head =
      `POST /v1/openai/v1/chat/completions HTTP/1.1\r\nHost: proxy.local\r\n` +
      `X-ASO-API-Key: aso_k_valid.secretsecretsecret\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\nEXPECT: 100-continue\r\n\r\n`;
    const response = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(h.port, '127.0.0.1', () => sock.write(head));
      let got = '';
      sock.on('data', (d) => {
        const first = got === '';
        got += d.toString('latin1');
        if (first && got.startsWith('HTTP/1.1 100')) sock.write(body);
        if (/\r\n\r\nok$/.test(got)) {
          sock.destroy();
          resolve(got);
        }
      });
      sock.on('error', reject);
    });
    expect(response).toMatch(/^HTTP\/1.1 100 Continue\r\n\r\nHTTP\/1.1 200/);
    expect(h.mock.requests[0].headers.expect).toBeUndefined();
    expect(h.mock.requests[0].body.toString()).toBe(body);
  });

  it('passes binary and JSON bodies byte-identical both ways, and gzip responses untouched', async () => {
    const bin = randomBytes(1 << 20);
    const gz = gzipSync(Buffer.from('{"usage":{"prompt_tokens":1}}'.repeat(1000)));
    h = await startHarness((req): MockReply =>
      req.url.endsWith('/gz')
        ? { body: gz, headers: { 'Content-Encoding': 'gzip', 'Content-Type': 'application/json' } }
        : { body: bin, headers: { 'Content-Type': 'application/octet-stream' } },
    );
    for (const ct of ['application/octet-stream', 'application/json']) {
      const res = await h.send('POST', '/v1/openai/v1/bin', { body: bin, headers: { 'content-type': ct } });
      const got = Buffer.from(await res.body.arrayBuffer());
      expect(got.equals(bin)).toBe(true);
      expect(h.mock.requests.at(-1)?.body.equals(bin)).toBe(true);
    }
    const res = await h.send('GET', '/v1/openai/v1/gz', { headers: { 'accept-encoding': 'gzip' } });
    const got = Buffer.from(await res.body.arrayBuffer());
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(got.equals(gz)).toBe(true);
    expect(h.mock.requests.at(-1)?.headers['accept-encoding']).toBe('gzip');
    const [, , gzCapture] = await h.queue.waitForCaptures(3);
    expect(gzCapture.content_encoding).toBe('gzip');
    expect(b64(gzCapture.response_body.head).equals(gz)).toBe(true); // still compressed
  });

  it('streams a large upload and a large download through, with head and tail captured past the cap', async () => {
    const size = 8 << 20;
    const big = Buffer.alloc(size);
    for (let i = 0; i < size; i++) big[i] = i % 251;
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    h = await startHarness(
      (req) => (req.method === 'POST' ? { status: 200, body: sha(req.body) } : { body: big }),
      {
        captureRequestBytes: 1024,
        captureResponseBytes: 2048,
      },
    );
    const up = await h.send('POST', '/v1/openai/v1/audio/transcriptions', {
      body: big,
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
    });
    expect(await up.body.text()).toBe(sha(big));
    const down = await h.send('GET', '/v1/openai/v1/files/big/content');
    expect(sha(Buffer.from(await down.body.arrayBuffer()))).toBe(sha(big));
    const [upload, download] = await h.queue.waitForCaptures(2);
    expect(upload.request_body).toMatchObject({ total_bytes: size, truncated: true });
    expect(b64(upload.request_body.head).equals(big.subarray(0, 512))).toBe(true);
    expect(b64(upload.request_body.tail).equals(big.subarray(size - 512))).toBe(true);
    expect(download.response_body).toMatchObject({ total_bytes: size, truncated: true });
    expect(b64(download.response_body.head).equals(big.subarray(0, 1024))).toBe(true);
    expect(b64(download.response_body.tail).equals(big.subarray(size - 1024))).toBe(true);
  });

  it('puts a request id on every response and records one capture per request', async () => {
    h = await startHarness({ body: {} });
    const ids = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const res = await h.send('POST', '/v1/openai/v1/chat/completions', {
          body: '{"model":"m"}',
          headers: { 'content-type': 'application/json' },
        });
        await res.body.dump();
        expect(res.headers['x-aso-request-id']).toMatch(UUID_RE);
        return res.headers['x-aso-request-id'] as string;
      }),
    );
    const captures = await h.queue.waitForCaptures(100);
    await new Promise((r) => setTimeout(r, 50));
    expect(h.queue.captures).toHaveLength(100);
    expect(new Set(captures.map((c) => c.request_id))).toEqual(new Set(ids));
    expect(new Set(h.queue.items.map((i) => i.messageId))).toEqual(new Set(ids));
  });
});

describe('ProxyHandler upstream connections', () => {
  it('reuses one pooled keep-alive connection for sequential requests', async () => {
    const h = await startHarness({ body: {} });
    try {
      for (let i = 0; i < 20; i++) {
        const res = await h.send('GET', '/v1/openai/v1/models');
        await res.body.dump();
      }
      expect(new Set(h.mock.requests.map((r) => r.remotePort)).size).toBe(1);
    } finally {
      await h.close();
    }
  });

  it('relays HEAD and 204 answers without a body, and provider errors untouched', async () => {
    const h = await startHarness((req): MockReply =>
      req.method === 'HEAD'
        ? { status: 200, headers: { 'Content-Length': '42', 'Content-Type': 'application/json' } }
        : {
            status: 429,
            body: { error: { message: 'Rate limit', type: 'rate_limit' } },
            headers: { 'Retry-After': '3' },
          },
    );
    try {
      const head = await h.send('HEAD', '/v1/openai/v1/models');
      expect(head.statusCode).toBe(200);
      expect(head.headers['content-length']).toBe('42');
      await head.body.dump();
      const err = await h.send('POST', '/v1/openai/v1/chat/completions', {
        body: '{"model":"m"}',
        headers: { 'content-type': 'application/json' },
      });
      expect(err.statusCode).toBe(429);
      expect(err.headers['retry-after']).toBe('3');
      expect(await err.body.text()).toBe('{"error":{"message":"Rate limit","type":"rate_limit"}}');
      const [, c] = await h.queue.waitForCaptures(2);
      expect(c).toMatchObject({ outcome: 'error', http_status: 429 });
    } finally {
      await h.close();
    }
  });
});

describe('ProxyHandler upstream failures and uploads', () => {
  it('cancels the upstream request when the client leaves before the provider answers', async () => {
    const h = await startHarness({ hang: true });
    try {
      const ac = new AbortController();
      const pending = h.send('GET', '/v1/openai/v1/models', { signal: ac.signal }).then(
        () => 'answered',
        () => 'aborted',
      );
      await h.mock.waitForRequests(1);
      ac.abort();
      expect(await pending).toBe('aborted');
      expect(await h.mock.requests[0].closed).toBe('aborted');
      const [c] = await h.queue.waitForCaptures(1);
      expect(c).toMatchObject({ outcome: 'cancelled', http_status: 0, first_byte_at_ms: 0 });
    } finally {
      await h.close();
    }
  });

  it('answers 502 when the provider sends no headers within the headers timeout', async () => {
    const h = await startHarness({ headersDelayMs: 2000, body: {} }, { headersTimeoutMs: 200 });
    try {
      const res = await h.send('GET', '/v1/openai/v1/models');
      expect(res.statusCode).toBe(502);
      expect(await res.body.text()).toBe('{"error":"AISpendOps: Upstream fetch failed"}\n');
      const [c] = await h.queue.waitForCaptures(1);
      expect(c).toMatchObject({
        outcome: 'error',
        http_status: 0,
        upstream_error: 'UND_ERR_HEADERS_TIMEOUT',
      });
    } finally {
      await h.close();
    }
  });

  it('streams a chunked upload of unknown length through as it arrives', async () => {
    const h = await startHarness((req): MockReply => ({ status: 200, body: String(req.body.length) }));
    try {
      const { Readable } = await import('node:stream');
      const parts = Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000, i));
      const res = await h.send('POST', '/v1/openai/v1/uploads/u/parts', {
        body: Readable.from(parts),
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(await res.body.text()).toBe('500000');
      expect(h.mock.requests[0].headers['transfer-encoding']).toBe('chunked');
      expect(h.mock.requests[0].body.equals(Buffer.concat(parts))).toBe(true);
      const [c] = await h.queue.waitForCaptures(1);
      expect(c.request_body.total_bytes).toBe(500_000);
    } finally {
      await h.close();
    }
  });
});

describe('ProxyHandler trailers', () => {
  it('forwards trailers the provider announces', async () => {
    const h = await startHarness({ chunks: ['a', 'b'], trailers: { 'X-Usage-Tokens': '42' } });
    try {
      const res = await h.send('GET', '/v1/openai/v1/x');
      expect(res.headers.trailer).toBe('X-Usage-Tokens');
      expect(await res.body.text()).toBe('ab');
      expect(res.trailers).toEqual({ 'x-usage-tokens': '42' });
    } finally {
      await h.close();
    }
  });
});

describe('ProxyHandler backpressure', () => {
  it('reads from the provider only as fast as the client reads (bounded buffering)', async () => {
    const total = 256 << 20;
    const h = await startHarness({
      produceBytes: total,
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    try {
      const res = await h.send('GET', '/v1/openai/v1/files/big/content');
      // The client reads nothing: the provider must be held back (socket buffers fill, then it waits), not
      // drained into proxy memory. Wait until the provider's writes stop growing.
      let heldBack = -1;
      let stableSince = Date.now();
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && Date.now() - stableSince < 300) {
        await new Promise((r) => setTimeout(r, 50));
        const now = h.mock.requests[0]?.bytesWritten ?? 0;
        if (now !== heldBack) {
          heldBack = now;
          stableSince = Date.now();
        }
      }
      expect(heldBack).toBeGreaterThan(0);
      expect(heldBack).toBeLessThan(32 << 20);
      let received = 0;
      let offset = 0;
      let patternOk = true;
      for await (const c of res.body) {
        const chunk = c as Buffer;
        if (
          patternOk &&
          (chunk[0] !== offset % 251 || chunk[chunk.length - 1] !== (offset + chunk.length - 1) % 251)
        ) {
          patternOk = false;
        }
        offset += chunk.length;
        received += chunk.length;
      }
      expect(received).toBe(total);
      expect(patternOk).toBe(true);
    } finally {
      await h.close();
    }
  }, 30_000);
});
