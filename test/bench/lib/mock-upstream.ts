// The upstream every target forwards to: OpenAI chat completions with usage. Options ride in the model name
// (`gpt-4o-mini@chunks=100,delay_ms=20`), which every gateway forwards untouched: `chunks`/`delay_ms` for SSE
// streams (each content chunk carries its send time, `"content":"t<monotonic ns>"`, so the client computes the
// per-chunk delay the proxy added), `hold=1` to hold a stream open after its first chunk until the client
// leaves, `bytes=N` for a large JSON body written incrementally.
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MockOptions {
  chunks: number;
  delayMs: number;
  hold: boolean;
  bytes: number;
}

export function parseMockModel(model: string): { model: string; options: MockOptions } {
  const [name, spec = ''] = model.split('@');
  const kv = new Map(
    spec
      .split(',')
      .filter(Boolean)
      .map((p) => p.split('=') as [string, string]),
  );
  const num = (k: string, d: number) => (kv.has(k) ? Number(kv.get(k)) : d);
  return {
    model: name,
    options: {
      chunks: num('chunks', 5),
      delayMs: num('delay_ms', 0),
      hold: kv.get('hold') === '1',
      bytes: num('bytes', 0),
    },
  };
}

const USAGE = { prompt_tokens: 12, completion_tokens: 250, total_tokens: 262 };
const FILLER = 'lorem ipsum dolor sit amet '.repeat(38).slice(0, 1000);

export function smallCompletion(model: string): string {
  return JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: FILLER }, finish_reason: 'stop' }],
    usage: USAGE,
  });
}

export function stampChunk(model: string, ns: bigint): string {
  return `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"${model}","choices":[{"index":0,"delta":{"content":"t${ns}"},"finish_reason":null}]}\n\n`;
}

/** The send time stamped into an SSE data line by the mock, or null if the line has none. */
export function parseStamp(line: string): bigint | null {
  const m = /"content":"t(\d+)"/.exec(line);
  return m ? BigInt(m[1]) : null;
}

export function usageChunk(model: string): string {
  return `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"${model}","choices":[],"usage":${JSON.stringify(USAGE)}}\n\n`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface MockUpstream {
  url: string;
  /** Streams whose client has not left yet. */
  openStreams(): number;
  close(): Promise<void>;
}

export async function startMockUpstream(port = 0): Promise<MockUpstream> {
  let open = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    let body: { model?: string; stream?: boolean; stream_options?: { include_usage?: boolean } };
    try {
      body = JSON.parse(Buffer.concat(parts).toString('utf8')) as typeof body;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"bad json"}}');
      return;
    }
    const { model, options } = parseMockModel(body.model ?? 'gpt-4o-mini');
    if (!body.stream) {
      if (options.bytes > 0) return writeLarge(res, model, options.bytes);
      const text = smallCompletion(model);
      res
        .writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
        .end(text);
      return;
    }
    open++;
    let gone = false;
    res.once('close', () => {
      gone = true;
      open--;
    });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (let i = 0; i < options.chunks && !gone; i++) {
      if (i > 0 && options.delayMs > 0) await sleep(options.delayMs);
      res.write(stampChunk(model, process.hrtime.bigint()));
      if (options.hold) return; // held until the client leaves
    }
    if (gone) return;
    if (body.stream_options?.include_usage) res.write(usageChunk(model));
    res.end('data: [DONE]\n\n');
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 60_000;
  server.maxRequestsPerSocket = 0;
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    openStreams: () => open,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A JSON completion of `bytes` bytes, written 64 KiB at a time with backpressure. */
async function writeLarge(res: ServerResponse, model: string, bytes: number): Promise<void> {
  const head = `{"id":"chatcmpl-bench","object":"chat.completion","model":"${model}","choices":[{"index":0,"message":{"role":"assistant","content":"`;
  const tail = `"},"finish_reason":"stop"}],"usage":${JSON.stringify(USAGE)}}`;
  const fill = Math.max(0, bytes - head.length - tail.length);
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': head.length + fill + tail.length,
  });
  res.write(head);
  const block = Buffer.alloc(64 * 1024, 'a');
  for (let left = fill; left > 0; left -= block.length) {
    const ok = res.write(left >= block.length ? block : block.subarray(0, left));
    if (!ok) await new Promise((r) => res.once('drain', r));
    if (res.destroyed) return;
  }
  res.end(tail);
}
