// A scriptable mock AI provider on 127.0.0.1 (a real node:http server) for tests of anything that talks to
// providers: answers like OpenAI/Anthropic/Gemini with JSON, SSE (timed chunks), gzip, errors, a hang or a cut
// mid-stream, and records what it received for assertions.
import { once } from 'node:events';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';

/** What the mock received for one request. */
export interface RecordedRequest {
  method: string;
  /** The request target exactly as sent (path and query, still escaped). */
  url: string;
  /** Lower-cased names (Node's `req.headers`). */
  headers: IncomingMessage['headers'];
  /** Names and values as sent, in order. */
  rawHeaders: string[];
  body: Buffer;
  /** The client port of the connection it came on (same port = same pooled connection). */
  remotePort: number;
  /** Body bytes the mock has written so far (`produceBytes` replies). */
  bytesWritten: number;
  /** Times (ms since epoch) at which each body chunk was handed to the socket. */
  chunkSentAt: number[];
  /** Resolves when the exchange ends: 'finished' (the mock ended the body), or 'aborted' (the peer left first). */
  closed: Promise<'finished' | 'aborted'>;
}

/** How to answer one request. */
export interface MockReply {
  status?: number;
  headers?: Record<string, string | string[]>;
  /** The whole body (JSON values other than strings/Buffers are serialised). */
  body?: string | Buffer | object;
  /** Body written chunk by chunk, `delayMs` apart (the first one at once). */
  chunks?: Array<string | Buffer>;
  delayMs?: number;
  /** Wait before sending headers. */
  headersDelayMs?: number;
  /** Gzip the body (`body` only): sets Content-Encoding: gzip. */
  gzip?: boolean;
  /** Never answer (the request stays open until the peer leaves or the mock closes). */
  hang?: boolean;
  /** Destroy the socket after writing this many chunks (a provider dying mid-stream). */
  cutAfterChunks?: number;
  /** Keep the body open this long after the last chunk before ending it (a provider that lingers). */
  lingerMs?: number;
  /** Write this many bytes (byte i is i % 251) in ~64 KiB chunks as fast as the peer takes them, honouring backpressure. */
  produceBytes?: number;
  /** HTTP trailers sent after the last chunk (`chunks` only; announced in a Trailer header). */
  trailers?: Record<string, string>;
}

export type MockHandler = (req: RecordedRequest) => MockReply | Promise<MockReply>;

export interface MockProvider {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Answer every following request with this handler (or fixed reply). */
  setHandler(handler: MockHandler | MockReply): void;
  /** Resolves once `n` requests have been received (bodies read). */
  waitForRequests(n: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

export async function startMockProvider(
  handler: MockHandler | MockReply = { status: 200, body: {} },
): Promise<MockProvider> {
  let current: MockHandler = toHandler(handler);
  const requests: RecordedRequest[] = [];
  const waiters: Array<() => void> = [];
  const sockets = new Set<Socket>();

  const server: Server = createServer((req, res) => {
    void serve(req, res);
  });
  // Protocol upgrades (WebSocket-style): 101, then every line received comes back as "echo:<line>".
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    let settle: (v: 'finished' | 'aborted') => void = () => undefined;
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: Buffer.alloc(0),
      remotePort: socket.remotePort ?? 0,
      bytesWritten: 0,
      chunkSentAt: [],
      closed: new Promise((r) => (settle = r)),
    });
    waiters.splice(0).forEach((w) => w());
    socket.on('close', () => settle('finished'));
    socket.on('error', () => socket.destroy());
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    let buffered = '';
    socket.on('data', (d: Buffer) => {
      buffered += d.toString();
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        socket.write(`echo:${buffered.slice(0, i + 1)}`);
        buffered = buffered.slice(i + 1);
      }
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let settle: (v: 'finished' | 'aborted') => void = () => undefined;
    const closed = new Promise<'finished' | 'aborted'>((r) => (settle = r));
    res.on('close', () => settle(res.writableFinished ? 'finished' : 'aborted'));
    const parts: Buffer[] = [];
    try {
      for await (const c of req) parts.push(c as Buffer);
    } catch {
      // the peer left while sending
    }
    const rec: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: Buffer.concat(parts),
      remotePort: req.socket.remotePort ?? 0,
      bytesWritten: 0,
      chunkSentAt: [],
      closed,
    };
    requests.push(rec);
    waiters.splice(0).forEach((w) => w());
    let reply: MockReply;
    try {
      reply = await current(rec);
    } catch (err) {
      reply = { status: 500, body: { error: String(err) } };
    }
    await answer(res, reply, rec);
  }

  async function answer(res: ServerResponse, reply: MockReply, rec: RecordedRequest): Promise<void> {
    if (reply.hang) return;
    if (reply.headersDelayMs) await sleep(reply.headersDelayMs);
    if (res.destroyed) return;
    const headers: Record<string, string | string[]> = { ...(reply.headers ?? {}) };
    const status = reply.status ?? 200;
    if (reply.produceBytes !== undefined) {
      res.writeHead(status, { 'Content-Length': String(reply.produceBytes), ...headers });
      // 261 x 251 bytes: every block starts the pattern afresh, so the stream is (offset % 251) throughout.
      const block = Buffer.alloc(251 * 261);
      for (let i = 0; i < block.length; i++) block[i] = i % 251;
      while (rec.bytesWritten < reply.produceBytes && !res.destroyed) {
        const n = Math.min(block.length, reply.produceBytes - rec.bytesWritten);
        const chunk = block.subarray(0, n);
        rec.bytesWritten += n;
        if (!res.write(chunk)) await drainOrClose(res);
      }
      res.end();
      return;
    }
    if (reply.chunks) {
      if (reply.trailers) headers['Trailer'] = Object.keys(reply.trailers).join(', ');
      res.writeHead(status, headers);
      res.flushHeaders();
      for (let i = 0; i < reply.chunks.length; i++) {
        if (i > 0 && reply.delayMs) await sleep(reply.delayMs);
        if (res.destroyed) return;
        rec.chunkSentAt.push(Date.now());
        res.write(reply.chunks[i]);
        if (reply.cutAfterChunks !== undefined && i + 1 >= reply.cutAfterChunks) {
          await sleep(10);
          res.socket?.destroy();
          return;
        }
      }
      if (reply.lingerMs) {
        await Promise.race([sleep(reply.lingerMs), once(res, 'close')]);
        if (res.destroyed) return;
      }
      if (reply.trailers) res.addTrailers(reply.trailers);
      res.end();
      return;
    }
    let body: Buffer;
    if (reply.body === undefined) body = Buffer.alloc(0);
    else if (Buffer.isBuffer(reply.body)) body = reply.body;
    else if (typeof reply.body === 'string') body = Buffer.from(reply.body);
    else {
      body = Buffer.from(JSON.stringify(reply.body));
      if (!hasHeader(headers, 'content-type')) headers['Content-Type'] = 'application/json';
    }
    if (reply.gzip) {
      body = gzipSync(body);
      headers['Content-Encoding'] = 'gzip';
    }
    if (!hasHeader(headers, 'content-length') && !hasHeader(headers, 'transfer-encoding')) {
      headers['Content-Length'] = String(body.length);
    }
    res.writeHead(status, headers);
    rec.chunkSentAt.push(Date.now());
    res.end(body);
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setHandler(h) {
      current = toHandler(h);
    },
    async waitForRequests(n, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (requests.length < n) {
        if (Date.now() > deadline)
          throw new Error(`mock provider got ${requests.length} requests, want ${n}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
      return requests;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Resolves on 'drain' or 'close', leaving no listener behind (events.once would leak the loser's). */
function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function toHandler(h: MockHandler | MockReply): MockHandler {
  return typeof h === 'function' ? h : () => h;
}

function hasHeader(headers: Record<string, unknown>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

// Canned provider answers.

/** SSE bytes for data events (objects are JSON-serialised), each `data: ...\n\n`, optional event names. */
export function sseEvents(events: Array<{ event?: string; data: string | object }>): string[] {
  return events.map(
    (e) =>
      `${e.event ? `event: ${e.event}\n` : ''}data: ${typeof e.data === 'string' ? e.data : JSON.stringify(e.data)}\n\n`,
  );
}

export const SSE_HEADERS = { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' };

/** An OpenAI chat completion (non-streaming). */
export function openAiChatJson(model = 'gpt-4o-mini', text = 'Hello!'): object {
  return {
    id: 'chatcmpl-mock',
    object: 'chat.completion',
    created: 1,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
  };
}

/** An OpenAI chat stream: content chunks, optionally the usage-only chunk, then [DONE]. */
export function openAiChatStream(
  words: string[],
  options: { usage?: boolean; model?: string } = {},
): string[] {
  const model = options.model ?? 'gpt-4o-mini';
  const base = { id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: 1, model };
  const events: Array<{ data: string | object }> = words.map((w) => ({
    data: { ...base, choices: [{ index: 0, delta: { content: w }, finish_reason: null }] },
  }));
  events.push({ data: { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] } });
  if (options.usage) {
    events.push({
      data: {
        ...base,
        choices: [],
        usage: { prompt_tokens: 9, completion_tokens: words.length, total_tokens: 9 + words.length },
      },
    });
  }
  events.push({ data: '[DONE]' });
  return sseEvents(events);
}

/** An Anthropic Messages stream ending with message_stop. */
export function anthropicStream(words: string[], model = 'claude-sonnet-4-5'): string[] {
  return sseEvents([
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: { id: 'msg_mock', model, usage: { input_tokens: 12, output_tokens: 1 } },
      },
    },
    {
      event: 'content_block_start',
      data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    },
    ...words.map((w) => ({
      event: 'content_block_delta',
      data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: w } },
    })),
    { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
    {
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn' },
        usage: { output_tokens: words.length },
      },
    },
    { event: 'message_stop', data: { type: 'message_stop' } },
  ]);
}

/** A Gemini streamGenerateContent?alt=sse stream; the last chunk has finishReason and usage. */
export function geminiStream(words: string[], model = 'gemini-2.5-flash'): string[] {
  return sseEvents(
    words.map((w, i) => ({
      data: {
        candidates: [
          {
            content: { parts: [{ text: w }], role: 'model' },
            ...(i === words.length - 1 ? { finishReason: 'STOP' } : {}),
          },
        ],
        ...(i === words.length - 1
          ? {
              usageMetadata: {
                promptTokenCount: 5,
                candidatesTokenCount: words.length,
                totalTokenCount: 5 + words.length,
              },
            }
          : {}),
        modelVersion: model,
      },
    })),
  );
}
