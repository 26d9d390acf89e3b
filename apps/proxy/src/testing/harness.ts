// Test harness: a real front server with the ProxyHandler, every provider pointed at one mock provider (keeping
// its base path), a fake authorizer and an in-memory outbound queue.
import { once } from 'node:events';
import { createServer, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { Agent, Dispatcher, request } from 'undici';
import {
  AuthenticationResult,
  AuthorizationInput,
  AuthorizationResult,
  KeyRecord,
  RequestAuthorizer,
  RequestDeniedV1,
  Topics,
  UsageCapturedV1,
} from '@spendops/contracts';
import type { OutboundQueue } from '@spendops/messaging';
import { JsonLogger } from '@spendops/observability';
import { BUILTIN_PROVIDERS, ProviderRegistry } from '@spendops/providers';
import { MockHandler, MockProvider, MockReply, startMockProvider } from '@spendops/testing';
import { ProxyHandler } from '../proxy.handler';
import { ProxyOptions, resolveProxyOptions } from '../proxy.options';

export const VALID_KEY = 'aso_k_valid.secretsecretsecret';
export const INACTIVE_KEY = 'aso_k_old.secretsecretsecret';

export function keyRecord(id: string, tenant = 'tenant-1'): KeyRecord {
  return {
    id,
    name: id,
    tenant_id: tenant,
    status: 'active',
    secret_hash: 'x',
    previous_secret_hash: null,
    previous_valid_until: null,
    policy: {
      providers: ['*'],
      models: ['*'],
      dims_required: false,
      dims_allowed: ['team', 'env', 'app'],
      max_dims: 8,
      max_key_len: 32,
      max_value_len: 64,
      dims_pinned: {},
      dims_default: {},
    },
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    version: 1,
  };
}

/** Knows one active and one inactive key; the verdict is scriptable per test. */
export class FakeAuthorizer implements RequestAuthorizer {
  readonly key = keyRecord('key-1');
  needsBodyFor = false;
  inputs: AuthorizationInput[] = [];
  verdict: (key: KeyRecord, input: AuthorizationInput) => AuthorizationResult = (_k, input) => ({
    ok: true,
    dims: input.dims_header ? Object.fromEntries([input.dims_header.split('=')]) : {},
    model: '',
  });

  async authenticate(header: string | undefined): Promise<AuthenticationResult> {
    if (header === VALID_KEY) return { ok: true, key: this.key };
    if (header === INACTIVE_KEY) {
      return {
        ok: false,
        status: 403,
        type: 'inactive_key',
        message: 'API key is inactive',
        key_id: 'key-old',
        tenant_id: 'tenant-1',
      };
    }
    return { ok: false, status: 403, type: 'invalid_key', message: 'Invalid X-ASO-API-Key' };
  }

  needsBody(): boolean {
    return this.needsBodyFor;
  }

  authorize(key: KeyRecord, input: AuthorizationInput): AuthorizationResult {
    this.inputs.push(input);
    return this.verdict(key, input);
  }
}

export interface Enqueued {
  topic: string;
  payload: unknown;
  messageId?: string;
}

/** The outbound queue as an array. */
export class MemoryQueue implements OutboundQueue {
  readonly items: Enqueued[] = [];
  enqueue<T>(topic: string, payload: T, messageId?: string): void {
    this.items.push({ topic, payload, messageId });
  }
  async drain(): Promise<void> {}

  get captures(): UsageCapturedV1[] {
    return this.items
      .filter((i) => i.topic === Topics.usageCaptured)
      .map((i) => i.payload as UsageCapturedV1);
  }
  get denials(): RequestDeniedV1[] {
    return this.items
      .filter((i) => i.topic === Topics.requestDenied)
      .map((i) => i.payload as RequestDeniedV1);
  }
  async waitForCaptures(n: number, timeoutMs = 5000): Promise<UsageCapturedV1[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.captures.length < n) {
      if (Date.now() > deadline) throw new Error(`got ${this.captures.length} capture records, want ${n}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.captures;
  }
}

/** Every JSON log line written during the tests (the sink is process-wide). */
export const logLines: string[] = [];
JsonLogger.setSink((line) => {
  logLines.push(line);
});

export interface Harness {
  mock: MockProvider;
  front: Server;
  url: string;
  host: string;
  port: number;
  handler: ProxyHandler;
  authorizer: FakeAuthorizer;
  queue: MemoryQueue;
  client: Agent;
  /** A request to the front with the valid key (headers override; `null` removes one). */
  send(
    method: string,
    path: string,
    options?: {
      body?: Buffer | string | Readable;
      headers?: Record<string, string | null>;
      signal?: AbortSignal;
    },
  ): Promise<Dispatcher.ResponseData>;
  close(): Promise<void>;
}

export async function startHarness(
  reply: MockReply | MockHandler = { body: {} },
  options: ProxyOptions = {},
): Promise<Harness> {
  const mock = await startMockProvider(reply);
  const base = new ProviderRegistry();
  const upstreams: Record<string, string> = {};
  for (const d of BUILTIN_PROVIDERS) upstreams[d.name] = mock.url + base.resolve(d.name)!.basePath;
  const registry = new ProviderRegistry({ upstreams });
  const authorizer = new FakeAuthorizer();
  const queue = new MemoryQueue();
  const handler = new ProxyHandler(
    registry,
    authorizer,
    queue,
    resolveProxyOptions({ accessLog: true, ...options }),
  );
  const front = createServer((req, res) => handler.handle(req, res));
  front.on('upgrade', (req, socket, head) => handler.handleUpgrade(req, socket, head));
  const sockets = new Set<Socket>();
  front.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  const { port } = front.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const client = new Agent();
  return {
    mock,
    front,
    url,
    host: '127.0.0.1',
    port,
    handler,
    authorizer,
    queue,
    client,
    send(method, path, opts = {}) {
      const headers: Record<string, string> = { 'x-aso-api-key': VALID_KEY };
      for (const [k, v] of Object.entries(opts.headers ?? {})) {
        for (const existing of Object.keys(headers))
          if (existing.toLowerCase() === k.toLowerCase()) delete headers[existing];
        if (v !== null) headers[k] = v;
      }
      return request(url + path, {
        method: method as Dispatcher.HttpMethod,
        headers,
        body: opts.body,
        dispatcher: client,
        signal: opts.signal,
      });
    },
    async close() {
      await client.destroy();
      for (const s of sockets) s.destroy(); // upgraded connections too
      await new Promise<void>((r) => front.close(() => r()));
      await handler.close();
      await mock.close();
    },
  };
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export const b64 = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'base64');
