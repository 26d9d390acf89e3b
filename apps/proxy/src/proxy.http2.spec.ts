import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, Server } from 'node:http';
import { createSecureServer, Http2SecureServer, Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { ProviderRegistry } from '@spendops/providers';
import { ProxyHandler } from './proxy.handler';
import { resolveProxyOptions } from './proxy.options';
import { FakeAuthorizer, MemoryQueue, VALID_KEY } from './testing/harness';

/** A TLS provider offering HTTP/2 and HTTP/1.1, with a throwaway self-signed certificate for 127.0.0.1. */
describe('ProxyHandler over TLS and HTTP/2 upstreams', () => {
  jest.setTimeout(15_000); // TLS handshakes on a busy 2-core machine
  let dir: string;
  let cert: string;
  let upstream: Http2SecureServer;
  let upstreamUrl: string;
  const seen: Array<{ version: string; session: unknown; aborted: Promise<boolean> }> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spendops-h2-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    upstream = createSecureServer(
      { key: readFileSync(join(dir, 'key.pem')), cert, allowHTTP1: true },
      (req: Http2ServerRequest, res: Http2ServerResponse) => {
        // The peer reset the stream before the provider ended its body. Read from 'aborted', not from the
        // response's 'close': Node's HTTP/2 server defers destroying a reset stream whose request side nobody
        // has read to its end, so 'close' can wait forever (seen under load: RST received, no 'close').
        const aborted = new Promise<boolean>((r) => {
          req.on('aborted', () => r(true));
          res.on('close', () => r(!res.writableEnded));
        });
        req.resume(); // a provider reads the request
        seen.push({ version: req.httpVersion, session: req.stream?.session ?? null, aborted });
        if (req.url.endsWith('/stream')) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          let i = 0;
          const timer = setInterval(() => {
            if (res.destroyed || res.writableEnded || res.stream?.closed) return clearInterval(timer);
            res.write(`data: {"i":${i++}}\n\n`);
            if (i === 200) {
              res.end('data: [DONE]\n\n');
              clearInterval(timer);
            }
          }, 10);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', 'x-provider': 'p' });
        res.end('{"ok":true}');
      },
    );
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    upstreamUrl = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function front(
    http2: boolean,
  ): Promise<{ url: string; queue: MemoryQueue; close: () => Promise<void> }> {
    const queue = new MemoryQueue();
    const handler = new ProxyHandler(
      new ProviderRegistry({ upstreams: { openai: upstreamUrl } }),
      new FakeAuthorizer(),
      queue,
      resolveProxyOptions({ upstreamHttp2: http2, upstreamCa: cert, accessLog: false }),
    );
    const server: Server = createHttpServer((req, res) => handler.handle(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      queue,
      close: async () => {
        server.closeAllConnections();
        server.close();
        await handler.close();
      },
    };
  }

  it('trusts the configured CA and speaks HTTP/2 over one pooled session when enabled', async () => {
    seen.length = 0;
    const f = await front(true);
    const client = new Agent();
    try {
      for (let i = 0; i < 20; i++) {
        const res = await request(`${f.url}/v1/openai/v1/models`, {
          headers: { 'x-aso-api-key': VALID_KEY },
          dispatcher: client,
        });
        expect(res.statusCode).toBe(200);
        expect(res.headers['x-provider']).toBe('p');
        expect(await res.body.text()).toBe('{"ok":true}');
      }
      expect(seen.map((s) => s.version)).toEqual(Array(20).fill('2.0'));
      expect(new Set(seen.map((s) => s.session)).size).toBe(1);
    } finally {
      await client.close();
      await f.close();
    }
  });

  it('streams over HTTP/2 and cancels the upstream stream when the client leaves', async () => {
    seen.length = 0;
    const f = await front(true);
    const client = new Agent();
    try {
      const ac = new AbortController();
      const res = await request(`${f.url}/v1/openai/v1/stream`, {
        headers: { 'x-aso-api-key': VALID_KEY },
        dispatcher: client,
        signal: ac.signal,
      });
      for await (const chunk of res.body) {
        expect((chunk as Buffer).toString()).toContain('data: {"i":0}');
        break;
      }
      ac.abort();
      expect(await seen[0].aborted).toBe(true);
      const deadline = Date.now() + 5000;
      while (f.queue.captures.length < 1 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      expect(f.queue.captures[0]).toMatchObject({ outcome: 'cancelled', http_status: 200 });
    } finally {
      await client.close();
      await f.close();
    }
  });

  it('stays on HTTP/1.1 by default', async () => {
    seen.length = 0;
    const f = await front(false);
    try {
      const res = await request(`${f.url}/v1/openai/v1/models`, { headers: { 'x-aso-api-key': VALID_KEY } });
      await res.body.dump();
      expect(seen[0].version).toBe('1.1');
    } finally {
      await f.close();
    }
  });
});
