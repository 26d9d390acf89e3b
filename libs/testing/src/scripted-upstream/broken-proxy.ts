// A deliberately broken reverse proxy for the compatibility suite: sits in front of SpendOps and breaks one
// thing per mode, to prove that the suite fails when SpendOps would behave that way.
import { once } from 'node:events';
import {
  createServer,
  IncomingHttpHeaders,
  IncomingMessage,
  request,
  Server,
  ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export const BROKEN_PROXY_MODES = {
  none: 'control: forwards everything unchanged',
  'drop-dims': 'drops the X-ASO-Dims request header',
  'flip-byte': 'changes one byte of one streamed chunk',
  'drop-request-id': 'drops the X-ASO-Request-Id response header',
  'leak-usage':
    'asks upstream for include_usage on OpenAI streams that did not (injected usage chunk reaches the client)',
  buffer: 'delivers each response only once complete (no streaming)',
  'skew-usage': 'admin API events report prompt_tokens + 1',
  'drop-events': 'admin API returns no events (every capture lost)',
  'lose-one-event': 'admin API never returns the event of the first request id asked for (one capture lost)',
  'rewrite-errors': "replaces the provider's 429 body with a generic one",
} as const;

export type BrokenProxyMode = keyof typeof BROKEN_PROXY_MODES;

export const isBrokenProxyMode = (m: string): m is BrokenProxyMode => m in BROKEN_PROXY_MODES;

export interface BrokenProxyOptions {
  /** SpendOps base URL, e.g. http://127.0.0.1:8080 */
  target: string;
  mode: BrokenProxyMode;
  host?: string;
  port?: number;
}

export interface BrokenProxy {
  readonly url: string;
  close(): Promise<void>;
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade'];

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** OpenAI chat streams that did not ask for usage now do (the proxy must hide the injected chunk; this does not). */
function leakUsage(path: string, body: Buffer): Buffer {
  if (!path.includes('/chat/completions')) return body;
  try {
    const m = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    if (m.stream !== true || m.stream_options !== undefined) return body;
    return Buffer.from(JSON.stringify({ ...m, stream_options: { include_usage: true } }));
  } catch {
    return body;
  }
}

type EventList = { events?: Array<Record<string, unknown>> };

export async function startBrokenProxy(options: BrokenProxyOptions): Promise<BrokenProxy> {
  const { mode } = options;
  const target = new URL(options.target);
  let lostRequestId: string | null = null;
  const sockets = new Set<Socket>();

  const editEvents = (path: string, body: Buffer): Buffer => {
    const url = new URL(path, 'http://x');
    let parsed: EventList;
    try {
      parsed = JSON.parse(body.toString('utf8')) as EventList;
    } catch {
      return body;
    }
    const events = parsed.events ?? [];
    if (mode === 'drop-events') parsed.events = [];
    if (mode === 'skew-usage') {
      for (const e of events) if (typeof e.prompt_tokens === 'number') e.prompt_tokens += 1;
    }
    if (mode === 'lose-one-event') {
      const rid = url.searchParams.get('request_id');
      if (rid && lostRequestId === null && events.length > 0) lostRequestId = rid;
      if (rid && rid === lostRequestId) parsed.events = [];
    }
    return Buffer.from(JSON.stringify(parsed));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    let body = await readAll(req);
    const headers: IncomingHttpHeaders = { ...req.headers, host: target.host };
    for (const h of HOP_BY_HOP) delete headers[h];
    if (mode === 'drop-dims') delete headers['x-aso-dims'];
    if (mode === 'leak-usage') body = leakUsage(path, body);
    headers['content-length'] = String(body.length);

    const upstream = request({
      host: target.hostname,
      port: target.port,
      method: req.method,
      path,
      headers,
    });
    res.on('close', () => upstream.destroy());
    upstream.end(body);
    const [up] = (await once(upstream, 'response')) as [IncomingMessage];
    const out: IncomingHttpHeaders = { ...up.headers };
    for (const h of HOP_BY_HOP) delete out[h];
    if (mode === 'drop-request-id') delete out['x-aso-request-id'];
    const status = up.statusCode ?? 502;
    const isEvents = path.startsWith('/api/v1/events');
    const whole = async (edit: (b: Buffer) => Buffer) => {
      const b = edit(await readAll(up));
      out['content-length'] = String(b.length);
      res.writeHead(status, out).end(b);
    };
    if (mode === 'buffer') return whole((b) => b);
    if ((mode === 'skew-usage' || mode === 'drop-events' || mode === 'lose-one-event') && isEvents) {
      return whole((b) => editEvents(path, b));
    }
    if (mode === 'rewrite-errors' && status === 429) {
      delete out['content-encoding'];
      out['content-type'] = 'application/json';
      return whole(() => Buffer.from('{"error":"rate limited"}'));
    }
    const flip = mode === 'flip-byte' && String(out['content-type'] ?? '').startsWith('text/event-stream');
    let flipped = false;
    res.writeHead(status, out);
    res.flushHeaders();
    for await (const chunk of up) {
      let c = chunk as Buffer;
      if (flip && !flipped) {
        const i = c.indexOf(' from');
        if (i >= 0) {
          c = Buffer.from(c);
          c[i + 3] = 'O'.charCodeAt(0);
          flipped = true;
        }
      }
      res.write(c);
    }
    res.end();
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.destroy();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.address}:${addr.port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
