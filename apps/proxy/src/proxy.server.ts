import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ProxyHandler } from './proxy.handler';

/** Whether a raw request target belongs to the proxy data plane (`/v1` and below, query allowed). */
export function isProxyRequest(url: string | undefined): boolean {
  if (!url) return false;
  return url.startsWith('/v1/') || url === '/v1' || url.startsWith('/v1?');
}

/**
 * Mount the proxy on a node:http server, ahead of anything else: `/v1/...` requests and upgrades go to the
 * handler, everything else to `fallback` (e.g. the framework's router; a JSON 404 by default).
 */
export function attachProxy(
  server: Server,
  handler: ProxyHandler,
  fallback?: (req: IncomingMessage, res: ServerResponse) => void,
): void {
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (isProxyRequest(req.url) || !fallback) handler.handle(req, res);
    else fallback(req, res);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (isProxyRequest(req.url)) handler.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
}
