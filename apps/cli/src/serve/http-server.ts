// One node:http server per process. `/v1/...` goes to the proxy's handler on the raw request, before any
// framework router (a router would normalise `..` or `//`, which the proxy must refuse, and costs CPU on the
// hot path); everything else (admin API, ops endpoints, 404s) goes to Nest on the fastify adapter.
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { Duplex } from 'node:stream';

export type RawHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
export type UpgradeHandler = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

export class RequestDispatcher {
  private proxyHandler: RawHandler | null = null;
  private proxyUpgrade: UpgradeHandler | null = null;
  private frameworkHandler: RawHandler | null = null;

  /** The proxy's handlers, set once the proxy module is initialised (only in processes that run `proxy`). */
  setProxy(handler: RawHandler, upgrade: UpgradeHandler): void {
    this.proxyHandler = handler;
    this.proxyUpgrade = upgrade;
  }

  /** Passed as fastify's `serverFactory`: fastify hands us its request handler and gets our server back. */
  readonly serverFactory = (handler: RawHandler): http.Server => {
    this.frameworkHandler = handler;
    const server = http.createServer(
      // Streams and large uploads may take long; slow-loris protection stays with the headers timeout.
      { requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 65_000 },
      (req, res) => this.dispatch(req, res),
    );
    // WebSocket upgrades (the Realtime API) under /v1/ are relayed by the proxy; nothing else upgrades.
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.proxyUpgrade && req.url !== undefined && req.url.startsWith('/v1/')) {
        this.proxyUpgrade(req, socket, head);
      } else {
        socket.destroy();
      }
    });
    return server;
  };

  private dispatch(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.proxyHandler && req.url !== undefined && req.url.startsWith('/v1/')) {
      this.proxyHandler(req, res);
      return;
    }
    // Every response carries a request id, the admin API and ops endpoints included.
    res.setHeader('X-ASO-Request-Id', randomUUID());
    if (this.frameworkHandler) {
      this.frameworkHandler(req, res);
      return;
    }
    res.writeHead(503, { 'Content-Type': 'application/json' }).end('{"error":"AISpendOps: Starting"}');
  }
}

/** Splits `host:port` / `[v6]:port`. */
export function splitHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0';
  return { host, port: Number(addr.slice(i + 1)) };
}
