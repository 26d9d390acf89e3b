// The data plane: route /v1/{provider}{endpoint} → key → body cap → policy, then forward and relay byte for byte
// (streams written chunk by chunk as they arrive), and after the client has its last byte hand one capture record
// (or one denial) to the outbound queue. Never waits on the bus or a database on the request path.
import { randomUUID } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { Readable } from 'node:stream';
import { Inject, Injectable, OnModuleDestroy, Optional } from '@nestjs/common';
import { Agent, Dispatcher } from 'undici';
import {
  ADMISSION_GUARDS,
  AdmissionGuard,
  AdmissionInput,
  DenialType,
  KeyRecord,
  Outcome,
  REQUEST_AUTHORIZER,
  RequestAuthorizer,
  RequestDeniedV1,
  Topics,
  UsageCapturedV1,
} from '@spendops/contracts';
import { OUTBOUND_QUEUE, OutboundQueue } from '@spendops/messaging';
import { JsonLogger } from '@spendops/observability';
import {
  headersToRaw,
  inboundHeaders,
  injectIncludeUsage,
  isInjectablePath,
  isSafeEndpoint,
  outboundHeaders,
  parseProxyPath,
  ProviderDefinition,
  ProviderRegistry,
  rawHeaderValues,
  upstreamTarget,
  UsageChunkStripper,
} from '@spendops/providers';
import { BodyCapture } from './body-capture';
import { createEndWatcher } from './end-watcher';
import { Messages, writeError } from './errors';
import { ProxyMetrics } from './proxy.metrics';
import { PROXY_OPTIONS, ResolvedProxyOptions } from './proxy.options';
import { isJsonContentType, modelFromGeminiPath, RequestFacts, scanRequestFacts } from './request-facts';
import { readBodyCapped, responseDone, waitForDrain } from './streams';
import { relayUpgrade, writeRawError } from './upgrade';

/** One request's state from arrival to its record. */
interface Exchange {
  id: string;
  req: IncomingMessage;
  /** The response, or null for a protocol upgrade (then `socket` is the client's connection). */
  res: ServerResponse | null;
  socket: Duplex | null;
  /** Writes a proxy error to the client, whichever way it is connected. */
  reply: (status: number, message: string, closeConnection?: boolean) => void;
  startedAtMs: number;
  startHr: number;
  /** The provider segment as routed (canonical once resolved). */
  provider: string;
  def: ProviderDefinition | null;
  endpoint: string;
  query: string;
  key: KeyRecord | null;
  denialKeyId: string;
  denialTenantId: string;
  dims: Record<string, string>;
  facts: RequestFacts;
  body: Buffer | null;
  injected: boolean;
  requestCapture: BodyCapture;
  /** Admission guards ran (each is released when the request is over). */
  admitted: boolean;
}

@Injectable()
export class ProxyHandler implements OnModuleDestroy {
  private readonly log = new JsonLogger('proxy');
  private readonly metrics = new ProxyMetrics();
  private readonly agent: Agent;
  private inflight = 0;
  private draining = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    @Inject(ProviderRegistry) private readonly registry: ProviderRegistry,
    @Inject(REQUEST_AUTHORIZER) private readonly authorizer: RequestAuthorizer,
    @Inject(OUTBOUND_QUEUE) private readonly queue: OutboundQueue,
    @Inject(PROXY_OPTIONS) private readonly options: ResolvedProxyOptions,
    @Optional() @Inject(ADMISSION_GUARDS) private readonly guards: AdmissionGuard[] = [],
  ) {
    // One pool per upstream origin, keep-alive, no decompression, no header added beyond Host/Content-Length.
    this.agent = new Agent({
      connect: {
        timeout: options.connectTimeoutMs,
        // Added to the system CAs, not replacing them.
        ...(options.upstreamCa ? { ca: [...rootCertificates, options.upstreamCa] } : {}),
      },
      allowH2: options.upstreamHttp2,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: 0, // a stream may stay open as long as the provider keeps it open
      keepAliveTimeout: options.keepAliveTimeoutMs,
      keepAliveMaxTimeout: options.keepAliveTimeoutMs,
    });
  }

  /** Requests in flight (being routed, forwarded or relayed). */
  get inFlight(): number {
    return this.inflight;
  }

  /** Serve one request whose URL starts with `/v1/` (anything else gets the JSON 404). */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const x = this.exchange(req, res, null);
    x.reply = (status, message, close) => writeError(res, status, message, close);
    res.setHeader('X-ASO-Request-Id', x.id);
    this.serve(x, () => {
      if (!res.headersSent) writeError(res, 500, 'Internal error');
      else res.destroy();
    });
  }

  /**
   * Serve a protocol upgrade (WebSocket, e.g. OpenAI's Realtime API) from the server's 'upgrade' event: the same
   * checks, then a two-way byte relay. Frames are not inspected; the record carries no bodies.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const x = this.exchange(req, null, socket);
    x.reply = (status, message) => writeRawError(socket, x.id, status, message);
    socket.on('error', () => socket.destroy());
    this.serve(x, () => socket.destroy(), head);
  }

  private exchange(req: IncomingMessage, res: ServerResponse | null, socket: Duplex | null): Exchange {
    return {
      id: randomUUID(),
      req,
      res,
      socket,
      reply: () => undefined,
      startedAtMs: Date.now(),
      startHr: performance.now(),
      provider: '',
      def: null,
      endpoint: '',
      query: '',
      key: null,
      denialKeyId: '',
      denialTenantId: '',
      dims: {},
      facts: { model: '', stream: false },
      body: null,
      injected: false,
      requestCapture: new BodyCapture(this.options.captureRequestBytes),
      admitted: false,
    };
  }

  private serve(x: Exchange, onFailure: () => void, upgradeHead?: Buffer): void {
    if (this.draining) {
      x.reply(503, Messages.shuttingDown, true);
      return;
    }
    this.inflight++;
    this.metrics.inflight.inc();
    this.run(x, upgradeHead)
      .catch((err: unknown) => {
        this.log.error('proxy: request failed', {
          request_id: x.id,
          provider: x.provider,
          error: errorCode(err),
        });
        onFailure();
      })
      .finally(() => {
        if (x.admitted) for (const guard of this.guards) guard.release?.(x.id);
        this.metrics.inflight.dec();
        this.inflight--;
        if (this.inflight === 0) this.idleWaiters.splice(0).forEach((w) => w());
      });
  }

  /**
   * Stop accepting (new requests get 503 with Connection: close) and resolve once every in-flight request and
   * stream finished, or the timeout passed; true when everything finished.
   */
  async drain(timeoutMs = this.options.drainTimeoutMs): Promise<boolean> {
    this.draining = true;
    if (this.inflight === 0) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(this.inflight === 0), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Close the upstream connection pools. */
  async close(): Promise<void> {
    await this.agent.close();
  }

  async onModuleDestroy(): Promise<void> {
    await this.agent.destroy();
  }

  private async run(x: Exchange, upgradeHead?: Buffer): Promise<void> {
    const { req } = x;
    // 1. Route and path guard.
    const route = parseProxyPath(req.url ?? '/');
    if (!route.ok) {
      if (route.error === 'not_proxy_path') return x.reply(404, Messages.notFound);
      return this.deny(x, 'unknown_provider', Messages.unknownProvider, 404);
    }
    x.provider = route.provider;
    x.endpoint = route.endpoint;
    x.query = route.query;
    const def = this.registry.resolve(route.provider);
    if (!def) return this.deny(x, 'unknown_provider', Messages.unknownProvider, 404);
    x.def = def;
    x.provider = def.name;
    if (!isSafeEndpoint(route.endpoint)) return this.deny(x, 'invalid_path', Messages.invalidPath, 400);

    // 2. Authenticate: exactly one non-empty X-ASO-API-Key.
    const keyValues = rawHeaderValues(req.rawHeaders, 'x-aso-api-key');
    if (keyValues.length === 0 || keyValues[0] === '') {
      return this.deny(x, 'missing_key', Messages.missingKey, 401);
    }
    if (keyValues.length > 1) return this.deny(x, 'invalid_key', Messages.invalidKey, 403);
    const auth = await this.authorizer.authenticate(keyValues[0]);
    if (!auth.ok) {
      x.denialKeyId = auth.key_id ?? '';
      x.denialTenantId = auth.tenant_id ?? '';
      return this.deny(x, auth.type, auth.message, auth.status);
    }
    const key = auth.key;
    x.key = key;

    // 3. Read the body when it is JSON (model, stream) or the key's model list needs it; else it streams through.
    const contentType = req.headers['content-type'];
    if (hasRequestBody(req) && (isJsonContentType(contentType) || this.authorizer.needsBody(key))) {
      const max = this.options.maxJsonBodyBytes;
      const declared = Number(req.headers['content-length'] ?? NaN);
      const read = declared > max ? ({ kind: 'too_large' } as const) : await readBodyCapped(req, max);
      if (read.kind === 'too_large') {
        return this.deny(x, 'body_too_large', Messages.bodyTooLarge(max), 413, true);
      }
      if (read.kind === 'error') return this.deny(x, 'bad_request', Messages.badBody, 400, true);
      x.body = read.body;
      x.requestCapture.add(read.body);
      if (!req.headers['content-encoding']) x.facts = scanRequestFacts(read.body);
    }

    // 4. Policy: provider, dimensions, model.
    const verdict = this.authorizer.authorize(key, {
      provider: def.name,
      dialect: def.dialect,
      endpoint: x.endpoint,
      content_type: contentType ?? '',
      body: x.body,
      dims_header: rawHeaderValues(req.rawHeaders, 'x-aso-dims')[0],
    });
    x.dims = verdict.dims;
    if (!verdict.ok) return this.deny(x, verdict.type, verdict.message, verdict.status);
    if (verdict.model) x.facts.model = verdict.model;
    if (x.endpoint.endsWith(':streamGenerateContent')) x.facts.stream = true;
    if (!x.facts.model) x.facts.model = modelFromGeminiPath(x.endpoint);

    // 5. Admission: budgets and rate limits, from in-memory replicas.
    if (this.guards.length > 0 && !this.admit(x, key)) return;

    if (x.socket) return this.forwardUpgrade(x, def, x.socket, upgradeHead ?? Buffer.alloc(0));
    await this.forward(x, def);
  }

  private async forward(x: Exchange, def: ProviderDefinition): Promise<void> {
    const { req } = x;
    const res = x.res as ServerResponse;
    // Streaming usage injection (decisions.md, Streaming).
    let body = x.body;
    if (
      body &&
      def.injectStreamUsage &&
      x.facts.stream &&
      req.method === 'POST' &&
      !req.headers['content-encoding'] &&
      isInjectablePath(x.endpoint)
    ) {
      const r = injectIncludeUsage(body);
      if (r.injected) {
        body = r.body;
        x.injected = true;
      }
    }

    // An AbortController per request, not a hand-rolled emitter: the cheaper handle (about 3 % of the proxy
    // thread) left an HTTP/2 upstream stream uncancelled once in CI, and a leaked upstream stream costs more.
    const cancel = new AbortController();
    let clientGone = false;
    res.on('close', () => {
      if (!res.writableFinished) {
        clientGone = true;
        cancel.abort();
      }
    });

    const streamsThrough = body === null && hasRequestBody(req);
    const headers = withoutExpect(outboundHeaders(req.rawHeaders, !streamsThrough));
    let upstreamBody: Buffer | Readable | null = null;
    if (body !== null) {
      upstreamBody = body.length > 0 ? body : null;
      this.metrics.requestBytes.inc(body.length);
    } else if (streamsThrough) {
      upstreamBody = Readable.from(this.tapRequestBody(x), { objectMode: false });
    }

    const upSentHr = performance.now();
    this.metrics.overheadSeconds.observe((upSentHr - x.startHr) / 1000);
    let up: Dispatcher.ResponseData;
    try {
      up = await this.agent.request({
        origin: def.origin,
        path: upstreamTarget(def, x.endpoint, x.query),
        method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
        headers,
        body: upstreamBody,
        signal: cancel.signal,
      });
    } catch (err) {
      if (clientGone) {
        return this.finish(x, { status: 0, clientStatus: 499, outcome: 'cancelled', firstByteAtMs: 0 });
      }
      const reason = errorCode(err);
      this.log.warn('upstream fetch failed', { request_id: x.id, provider: def.name, error: reason });
      writeError(res, 502, Messages.upstreamFailed);
      await responseDone(res);
      return this.finish(x, {
        status: 0,
        clientStatus: 502,
        outcome: 'error',
        firstByteAtMs: 0,
        upstreamError: reason,
      });
    }
    const firstByteAtMs = Date.now();
    this.metrics.upstreamLatency.labels(def.name).observe((performance.now() - upSentHr) / 1000);

    // Response headers, unchanged but for hop-by-hop ones and our request id.
    const contentType = firstValue(up.headers['content-type']);
    const contentEncoding = firstValue(up.headers['content-encoding']).trim();
    const sse = contentType.trim().toLowerCase().startsWith('text/event-stream');
    const stream = sse || up.headers['content-length'] === undefined;
    // Only plain SSE can be edited; a compressed one reaches the client as the provider sent it.
    const identity = contentEncoding === '' || contentEncoding.toLowerCase() === 'identity';
    const stripper = x.injected && sse && identity ? new UsageChunkStripper(def.name) : null;
    let outHeaders = inboundHeaders(headersToRaw(up.headers));
    if (stripper) outHeaders = withoutHeader(outHeaders, 'content-length');
    // Trailers the provider announces are announced to the client too, and sent after the body.
    const trailerNames = firstValue(up.headers.trailer);
    if (trailerNames) outHeaders.push('Trailer', trailerNames);
    if (!clientGone) {
      // A record with arrays (not Node's flat list, which setHeader'd fields would collapse): repeated headers stay.
      res.writeHead(up.statusCode, groupHeaders(outHeaders));
      if (stream) res.flushHeaders(); // headers reach the client before the first chunk
    }
    if (stream) this.metrics.inflightStreams.inc();

    // Relay. Each chunk is written to the client as it arrives; the capture copy never delays it.
    const endWatcher = sse ? createEndWatcher(contentEncoding) : null;
    const responseCapture = new BodyCapture(this.options.captureResponseBytes);
    let deliveredEndMarker = false;
    let cutError: unknown = null;
    let responseBytes = 0;
    try {
      for await (const chunk of up.body as AsyncIterable<Buffer>) {
        responseBytes += chunk.length;
        responseCapture.add(chunk);
        // The client's copy first; the watch never delays it.
        const connected = !clientGone;
        let drained = true;
        if (connected) {
          const out = stripper ? stripper.write(chunk) : chunk;
          if (out.length > 0) drained = res.write(out);
        }
        if (endWatcher && !endWatcher.complete) {
          await endWatcher.push(chunk);
          if (endWatcher.complete && connected) deliveredEndMarker = true;
        }
        if (!drained) await waitForDrain(res);
      }
    } catch (err) {
      if (!clientGone) cutError = err;
    } finally {
      endWatcher?.close();
    }
    if (stream) this.metrics.inflightStreams.dec();
    this.metrics.responseBytes.inc(responseBytes);
    if (cutError !== null) {
      // The provider cut the body after headers: cut the client's too, as a direct connection would.
      res.destroy();
    } else if (!clientGone) {
      const tail = stripper?.end();
      if (tail && tail.length > 0) res.write(tail);
      if (trailerNames && Object.keys(up.trailers).length > 0)
        res.addTrailers(up.trailers as Record<string, string>);
      res.end();
    }
    await responseDone(res);

    let outcome: Outcome;
    if (clientGone && deliveredEndMarker) {
      // The client had the stream's end marker and closed before the provider ended the body.
      outcome = 'completed';
    } else if (clientGone) {
      outcome = 'cancelled';
    } else if (cutError !== null || up.statusCode >= 400) {
      outcome = 'error';
    } else {
      outcome = 'completed';
    }
    this.finish(x, {
      status: up.statusCode,
      clientStatus: clientGone ? 499 : up.statusCode,
      outcome,
      firstByteAtMs,
      upstreamError: cutError !== null ? errorCode(cutError) : undefined,
      contentEncoding,
      responseContentType: contentType,
      responseBody: responseCapture,
      streamComplete: endWatcher?.complete ?? false,
    });
  }

  private async forwardUpgrade(
    x: Exchange,
    def: ProviderDefinition,
    client: Duplex,
    head: Buffer,
  ): Promise<void> {
    const upgrade = rawHeaderValues(x.req.rawHeaders, 'upgrade')[0] ?? '';
    const headers = withoutExpect(outboundHeaders(x.req.rawHeaders, true));
    const result = await relayUpgrade({
      origin: def.origin,
      target: upstreamTarget(def, x.endpoint, x.query),
      method: x.req.method ?? 'GET',
      headers: [...headers, 'Connection', 'Upgrade', 'Upgrade', upgrade],
      client,
      head,
      requestId: x.id,
      connectTimeoutMs: this.options.connectTimeoutMs,
      onHeaders: () => Date.now(),
    });
    if (result.status === 0) {
      this.log.warn('upstream fetch failed', {
        request_id: x.id,
        provider: def.name,
        error: result.error ?? 'unknown',
      });
      writeRawError(client, x.id, 502, Messages.upstreamFailed);
    }
    this.finish(x, {
      status: result.status,
      clientStatus: result.status === 0 ? 502 : result.status,
      outcome: result.status === 0 || result.status >= 400 ? 'error' : 'completed',
      firstByteAtMs: result.firstByteAtMs,
      upstreamError: result.error,
    });
  }

  /** The client's body streamed upstream as it arrives, copied into the capture on the way. */
  private async *tapRequestBody(x: Exchange): AsyncGenerator<Buffer> {
    for await (const chunk of x.req as AsyncIterable<Buffer>) {
      x.requestCapture.add(chunk);
      this.metrics.requestBytes.inc(chunk.length);
      yield chunk;
    }
  }

  private finish(
    x: Exchange,
    r: {
      status: number;
      clientStatus: number;
      outcome: Outcome;
      firstByteAtMs: number;
      upstreamError?: string;
      contentEncoding?: string;
      responseContentType?: string;
      responseBody?: BodyCapture;
      streamComplete?: boolean;
    },
  ): void {
    const def = x.def as ProviderDefinition;
    const key = x.key as KeyRecord;
    const endedAtMs = Date.now();
    const record: UsageCapturedV1 = {
      request_id: x.id,
      tenant_id: key.tenant_id,
      api_key_id: key.id,
      dims: x.dims,
      provider: def.name,
      dialect: def.dialect,
      method: x.req.method ?? '',
      endpoint: x.endpoint,
      request_model: x.facts.model,
      stream: x.facts.stream,
      stream_usage_injected: x.injected,
      outcome: r.outcome,
      http_status: r.status,
      started_at_ms: x.startedAtMs,
      first_byte_at_ms: r.firstByteAtMs,
      ended_at_ms: endedAtMs,
      content_encoding: r.contentEncoding ?? '',
      response_content_type: r.responseContentType ?? '',
      request_content_type: x.req.headers['content-type'] ?? '',
      request_body: x.requestCapture.result(),
      response_body: (r.responseBody ?? new BodyCapture(1)).result(),
      stream_complete: r.streamComplete ?? false,
    };
    if (r.upstreamError) record.upstream_error = r.upstreamError;
    if (this.options.captureEnabled) this.queue.enqueue(Topics.usageCaptured, record, x.id);
    this.metrics.requests.labels(def.name, String(r.clientStatus)).inc();
    if (this.options.accessLog) {
      this.log.info('request', {
        request_id: x.id,
        provider: def.name,
        method: x.req.method,
        path: x.endpoint,
        status: r.clientStatus,
        outcome: r.outcome,
        key_id: key.id,
        model: x.facts.model,
        stream: x.facts.stream,
        bytes: r.responseBody?.totalBytes ?? 0,
        duration_ms: endedAtMs - x.startedAtMs,
      });
    }
  }

  /** Runs every admission guard; false when one denied (the denial is written). Guards that admitted stay held. */
  private admit(x: Exchange, key: KeyRecord): boolean {
    const input: AdmissionInput = {
      request_id: x.id,
      key,
      provider: x.provider,
      model: x.facts.model,
      endpoint: x.endpoint,
      dims: x.dims,
      stream: x.facts.stream,
      body: x.body,
    };
    x.admitted = true;
    for (const guard of this.guards) {
      const result = guard.admit(input);
      if (result.headers && x.res)
        for (const [name, value] of Object.entries(result.headers)) x.res.setHeader(name, value);
      if (!result.ok) {
        this.deny(x, result.type, result.message, result.status);
        return false;
      }
    }
    return true;
  }

  /** Writes the proxy error and enqueues one denial. */
  private deny(
    x: Exchange,
    type: DenialType,
    message: string,
    status: number,
    closeConnection = false,
  ): void {
    // A body left unread is not drained for keep-alive: the connection closes after the error instead.
    const unreadBody = x.res !== null && hasRequestBody(x.req) && !x.req.complete && x.body === null;
    x.reply(status, message, closeConnection || unreadBody);
    this.metrics.denials.labels(type).inc();
    this.metrics.requests.labels(x.provider, String(status)).inc();
    const denial: RequestDeniedV1 = {
      request_id: x.id,
      ts: new Date(x.startedAtMs).toISOString(),
      type,
      reason: message,
      http_status: status,
      tenant_id: x.key?.tenant_id ?? x.denialTenantId,
      api_key_id: x.key?.id ?? x.denialKeyId,
      provider: x.provider,
      path: x.endpoint,
      dims: x.dims,
    };
    this.queue.enqueue(Topics.requestDenied, denial, x.id);
    if (this.options.accessLog) {
      this.log.info('denied', {
        request_id: x.id,
        provider: x.provider,
        method: x.req.method,
        path: x.endpoint,
        status,
        denial: type,
        duration_ms: Date.now() - x.startedAtMs,
      });
    }
  }
}

function hasRequestBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const len = req.headers['content-length'];
  return len !== undefined && len !== '0';
}

/** undici refuses `Expect` (Node's server already answered 100-continue to the client). */
function withoutExpect(raw: string[]): string[] {
  for (let i = 0; i < raw.length; i += 2) {
    // Rare: the list is copied only when it holds one.
    if (raw[i].length === 6 && raw[i].toLowerCase() === 'expect') return withoutHeader(raw, 'expect');
  }
  return raw;
}

function withoutHeader(raw: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() !== name) out.push(raw[i], raw[i + 1]);
  return out;
}

function groupHeaders(raw: string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const names = new Map<string, string>();
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    const name = names.get(lower) ?? raw[i];
    names.set(lower, name);
    const prev = out[name];
    out[name] =
      prev === undefined ? raw[i + 1] : Array.isArray(prev) ? [...prev, raw[i + 1]] : [prev, raw[i + 1]];
  }
  return out;
}

function firstValue(v: string | string[] | undefined): string {
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

/** A transport error as a loggable reason: its code or name, never the URL (the query may hold `?key=`). */
function errorCode(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof e.code === 'string') return e.code;
    if (e.cause) return errorCode(e.cause);
    if (typeof e.name === 'string') return e.name;
  }
  return 'unknown';
}
