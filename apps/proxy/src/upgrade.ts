// Protocol upgrades (WebSocket, e.g. OpenAI's Realtime API): the request head goes upstream over a fresh
// connection, the provider's response head comes back with our request id added, then bytes flow both ways
// untouched until either side closes.
import { STATUS_CODES } from 'node:http';
import { connect as netConnect, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { ERROR_PREFIX } from '@spendops/contracts';

const MAX_RESPONSE_HEAD = 64 << 10;

export interface UpgradeRelay {
  origin: string;
  target: string;
  method: string;
  /** Flat list, hop-by-hop headers already removed (Connection/Upgrade re-added by the caller). */
  headers: string[];
  client: Duplex;
  /** Bytes the client sent after its request head. */
  head: Buffer;
  requestId: string;
  connectTimeoutMs: number;
  onHeaders: () => number;
}

export interface UpgradeResult {
  /** The provider's status (101 on success), 0 when it could not be reached or answered no valid head. */
  status: number;
  firstByteAtMs: number;
  error?: string;
}

/** Writes a proxy error as a raw HTTP/1.1 response on a socket, then closes it. */
export function writeRawError(socket: Duplex, requestId: string, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = `${JSON.stringify({ error: ERROR_PREFIX + message })}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      `Content-Type: application/json\r\nCache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-ASO-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function relayUpgrade(o: UpgradeRelay): Promise<UpgradeResult> {
  return new Promise((resolve) => {
    const url = new URL(o.origin);
    const secure = url.protocol === 'https:';
    const port = Number(url.port) || (secure ? 443 : 80);
    const upstream: Socket = secure
      ? tlsConnect({ host: url.hostname, port, servername: url.hostname, ALPNProtocols: ['http/1.1'] })
      : netConnect({ host: url.hostname, port });
    let status = 0;
    let firstByteAtMs = 0;
    let settled = false;
    const done = (error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(error && status === 0 ? { status: 0, firstByteAtMs, error } : { status, firstByteAtMs });
    };
    const timer = setTimeout(() => {
      upstream.destroy();
      done('ConnectTimeoutError');
    }, o.connectTimeoutMs);

    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (status === 0) done(err.code ?? err.name);
      o.client.destroy();
    });
    // Either side ending ends the relay (server sockets allow half-open connections, which would linger).
    const endClient = (): void => {
      upstream.destroy();
      o.client.destroy();
      if (status !== 0) done();
    };
    o.client.on('end', endClient);
    o.client.on('close', endClient);
    o.client.on('error', endClient);
    upstream.on('end', () => {
      o.client.destroy();
      upstream.destroy();
    });
    upstream.once('close', () => done(status === 0 ? 'UpstreamClosed' : undefined));

    upstream.once(secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      let head = `${o.method} ${o.target} HTTP/1.1\r\nHost: ${url.host}\r\n`;
      for (let i = 0; i < o.headers.length; i += 2) head += `${o.headers[i]}: ${o.headers[i + 1]}\r\n`;
      upstream.write(`${head}\r\n`);
      if (o.head.length > 0) upstream.write(o.head);
      o.client.pipe(upstream);
    });

    // The provider's response head: add our request id, then relay the rest verbatim.
    let pending = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      pending = Buffer.concat([pending, chunk]);
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) {
        if (pending.length > MAX_RESPONSE_HEAD) upstream.destroy();
        return;
      }
      upstream.off('data', onData);
      const statusLineEnd = pending.indexOf('\r\n');
      const m = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(pending.toString('latin1', 0, statusLineEnd));
      if (!m) {
        upstream.destroy();
        done('InvalidResponse');
        return;
      }
      status = Number(m[1]);
      firstByteAtMs = o.onHeaders();
      o.client.write(
        Buffer.concat([
          pending.subarray(0, statusLineEnd + 2),
          Buffer.from(`X-ASO-Request-Id: ${o.requestId}\r\n`),
          pending.subarray(statusLineEnd + 2),
        ]),
      );
      upstream.pipe(o.client);
      upstream.on('close', () => {
        o.client.destroy();
        done();
      });
    };
    upstream.on('data', onData);
  });
}
