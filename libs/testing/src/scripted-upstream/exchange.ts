// One request/response of the scripted upstream: the parsed request, the provider-style JSON and SSE writers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json | undefined };
export type JsonObject = { [key: string]: Json | undefined };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Exchange {
  /** The deterministic part of X-Compat-Trace (before '#'); `untraced<path>` without one. */
  readonly seed: string;
  readonly url: URL;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly body: JsonObject,
    /** Pause between streamed events. */
    readonly gapMs: number,
  ) {
    this.url = new URL(req.url ?? '/', 'http://upstream.invalid');
    const trace = this.header('x-compat-trace');
    const seed = trace.split('#')[0];
    this.seed = seed || `untraced${this.url.pathname}`;
  }

  header(name: string): string {
    const v = this.req.headers[name];
    return Array.isArray(v) ? v.join(', ') : (v ?? '');
  }

  setHeaders(headers: Record<string, string>): void {
    for (const [k, v] of Object.entries(headers)) this.res.setHeader(k, v);
  }

  /** Whether the client accepts gzip, as every SDK does; the real providers compress non-streamed JSON then. */
  wantsGzip(): boolean {
    return this.header('accept-encoding')
      .split(',')
      .some((part) => part.split(';')[0].trim() === 'gzip');
  }

  /** Writes a complete JSON response, gzipped when accepted. Returns whether it was compressed. */
  json(status: number, value: Json): boolean {
    let body = Buffer.from(JSON.stringify(value));
    if (!this.res.hasHeader('content-type')) this.res.setHeader('Content-Type', 'application/json');
    const gzip = this.wantsGzip();
    if (gzip) {
      body = gzipSync(body);
      this.res.setHeader('Content-Encoding', 'gzip');
      this.res.setHeader('Vary', 'Accept-Encoding');
    }
    this.res.setHeader('Content-Length', String(body.length));
    this.res.writeHead(status);
    this.res.end(body);
    return gzip;
  }

  /** Starts a paced stream: headers first, then one write per event with a gap between events. */
  stream(contentType: string): EventStream {
    this.res.setHeader('Content-Type', contentType);
    this.res.setHeader('Cache-Control', 'no-cache');
    this.res.writeHead(200);
    this.res.flushHeaders();
    return new EventStream(this.res, this.gapMs);
  }
}

export class EventStream {
  private first = true;
  private burst = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly gapMs: number,
  ) {}

  /**
   * Marks the end of generation: providers send the closing events (finish chunk, usage, [DONE];
   * message_delta, message_stop; response.*.done, response.completed) back to back, without pauses.
   */
  trailer(): void {
    this.burst = true;
  }

  /** Sends one framed event (waiting the gap first unless it is the first or a trailer event). */
  async write(frame: string): Promise<void> {
    if (!this.first && !this.burst && this.gapMs > 0) await sleep(this.gapMs);
    this.first = false;
    if (this.res.destroyed) return;
    this.res.write(frame);
  }

  end(): void {
    if (!this.res.destroyed) this.res.end();
  }
}

/** Reads a JSON object body; null when it is not one (providers answer 400). */
export async function readJsonBody(req: IncomingMessage): Promise<JsonObject | null> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : null;
  } catch {
    return null;
  }
}

export const asString = (v: Json | undefined): string => (typeof v === 'string' ? v : '');
export const asArray = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);
export const asObject = (v: Json | undefined): JsonObject =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
