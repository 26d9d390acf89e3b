import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { attachProxy, isProxyRequest } from './proxy.server';
import { ProxyHandler } from './proxy.handler';
import { resolveProxyOptions } from './proxy.options';
import { FakeAuthorizer, MemoryQueue } from './testing/harness';
import { ProviderRegistry } from '@spendops/providers';

describe('attachProxy', () => {
  it('classifies proxy targets', () => {
    expect(['/v1/openai/x', '/v1', '/v1?x', '/v1/'].map(isProxyRequest)).toEqual([true, true, true, true]);
    expect(['/v1x', '/api/v1/events', '/healthz', '', undefined].map(isProxyRequest)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('sends /v1 requests to the proxy and the rest to the fallback', async () => {
    const handler = new ProxyHandler(
      new ProviderRegistry(),
      new FakeAuthorizer(),
      new MemoryQueue(),
      resolveProxyOptions(),
    );
    const server = createServer();
    attachProxy(server, handler, (_req, res) => res.end('fallback'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const other = await request(`${base}/healthz`);
      expect(await other.body.text()).toBe('fallback');
      const proxied = await request(`${base}/v1/nosuch/x`);
      expect(proxied.statusCode).toBe(404);
      expect(await proxied.body.text()).toContain('Unknown provider');
    } finally {
      server.close();
      await handler.close();
    }
  });
});
