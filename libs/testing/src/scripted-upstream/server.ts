// The scripted provider: answers OpenAI, Anthropic and Gemini requests the way the real APIs do (bodies,
// headers, SSE framing, gzip, pacing) so that real SDKs can be driven through SpendOps without a provider key.
//
// Every reply is a pure function of the request's X-Compat-Trace header (the part before '#', the "seed") and
// its body, so a call sent directly and the same call sent through the proxy produce byte-identical streams. The
// usage each reply reports is logged, normalised to the SpendOps event convention, at GET /_compat/log. A seed
// containing "error429" gets the provider's rate-limit error instead.
import { once } from 'node:events';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { anthropicMessages } from './anthropic';
import { Exchange, readJsonBody } from './exchange';
import { gemini } from './gemini';
import { ServedOutcome, UpstreamLogEntry } from './log';
import { openaiChat, openaiEmbeddings, openaiResponses } from './openai';

export interface ScriptedUpstreamOptions {
  /** Listen host (default 127.0.0.1). */
  host?: string;
  /** Listen port (default 0: any free port). */
  port?: number;
  /** Pause between streamed events (default 50 ms: wide enough to tell a buffering proxy from CPU stalls). */
  gapMs?: number;
}

export interface ScriptedUpstream {
  /** `http://host:port` */
  readonly url: string;
  /** Every served request, in order. */
  readonly log: readonly UpstreamLogEntry[];
  close(): Promise<void>;
}

type Route = (x: Exchange) => Promise<ServedOutcome>;

function route(method: string, path: string): Route | null {
  if (method !== 'POST') return null;
  switch (path) {
    case '/v1/chat/completions':
      return openaiChat;
    case '/v1/responses':
      return openaiResponses;
    case '/v1/embeddings':
      return openaiEmbeddings;
    case '/v1/messages':
      return anthropicMessages;
  }
  const m = /^\/(?:v1beta|v1)\/models\/([^/]+)$/.exec(path);
  return m ? (x) => gemini(x, decodeURIComponent(m[1])) : null;
}

const CREDENTIAL_HEADERS = ['authorization', 'x-api-key', 'x-goog-api-key'];

function logEntry(req: IncomingMessage, url: URL, seq: number, served: ServedOutcome): UpstreamLogEntry {
  const names = req.rawHeaders.filter((_, i) => i % 2 === 0);
  const auth = CREDENTIAL_HEADERS.filter((h) => req.headers[h]);
  if (url.searchParams.get('key')) auth.push('?key');
  return {
    seq,
    trace: String(req.headers['x-compat-trace'] ?? ''),
    method: req.method ?? '',
    path: url.pathname,
    query: url.search.slice(1),
    stream: false,
    include_usage: null,
    aso_headers: [...new Set(names.filter((n) => n.toLowerCase().startsWith('x-aso-')))].sort(),
    auth,
    gzipped: false,
    expect: null,
    usage_reported: false,
    ...served,
  };
}

export async function startScriptedUpstream(
  options: ScriptedUpstreamOptions = {},
): Promise<ScriptedUpstream> {
  const gapMs = options.gapMs ?? 50;
  const log: UpstreamLogEntry[] = [];
  const sockets = new Set<Socket>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://upstream.invalid');
    if (req.method === 'GET' && url.pathname === '/_compat/healthz') {
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'GET' && url.pathname === '/_compat/log') {
      const trace = url.searchParams.get('trace');
      const entries = trace === null ? log : log.filter((e) => e.trace === trace);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ entries }));
      return;
    }
    const handler = route(req.method ?? '', url.pathname);
    const body = await readJsonBody(req);
    if (!handler) {
      const x = new Exchange(req, res, body ?? {}, gapMs);
      x.json(404, {
        error: {
          message: `Invalid URL (${req.method} ${url.pathname})`,
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      });
      return;
    }
    if (body === null) {
      res.writeHead(400, { 'Content-Type': 'application/json' }).end(
        JSON.stringify({
          error: {
            message: 'We could not parse the JSON body of your request.',
            type: 'invalid_request_error',
            param: null,
            code: null,
          },
        }),
      );
      return;
    }
    const served = await handler(new Exchange(req, res, body, gapMs));
    log.push(logEntry(req, url, log.length + 1, served));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`scripted upstream: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    log,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
