/** Tuning of the proxy data plane. Every field has the documented default. */
export interface ProxyOptions {
  /** Cap on request bodies read into memory (JSON bodies, and any body a key's model list needs): 64 MiB → 413. */
  maxJsonBodyBytes?: number;
  /** Cap on the request body copy in the capture record (head and tail kept past it): 1 MiB. */
  captureRequestBytes?: number;
  /** Cap on the response body copy in the capture record (head and tail kept past it): 1 MiB. */
  captureResponseBytes?: number;
  /** Publish one capture record per forwarded request: on (off only to measure what capture costs). */
  captureEnabled?: boolean;
  /** TCP/TLS connect timeout to a provider: 10 s. */
  connectTimeoutMs?: number;
  /** Wait for a provider's response headers (reasoning models think for minutes): 10 min. */
  headersTimeoutMs?: number;
  /** Idle upstream keep-alive connections are closed after: 90 s. */
  keepAliveTimeoutMs?: number;
  /** How long `drain()` waits for in-flight requests by default: 30 s. */
  drainTimeoutMs?: number;
  /** One JSON access-log line per request: on. */
  accessLog?: boolean;
  /** Negotiate HTTP/2 (ALPN) with https providers that offer it: off (HTTP/1.1 keep-alive pools). */
  upstreamHttp2?: boolean;
  /** Extra CA certificates (PEM) trusted for providers, e.g. a corporate egress proxy's; '' = system CAs only. */
  upstreamCa?: string;
}

export type ResolvedProxyOptions = Required<ProxyOptions>;

export const DEFAULT_PROXY_OPTIONS: ResolvedProxyOptions = {
  maxJsonBodyBytes: 64 << 20,
  captureRequestBytes: 1 << 20,
  captureResponseBytes: 1 << 20,
  captureEnabled: true,
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 10 * 60_000,
  keepAliveTimeoutMs: 90_000,
  drainTimeoutMs: 30_000,
  accessLog: true,
  upstreamHttp2: false,
  upstreamCa: '',
};

export function resolveProxyOptions(options: ProxyOptions = {}): ResolvedProxyOptions {
  const out = { ...DEFAULT_PROXY_OPTIONS };
  for (const [k, v] of Object.entries(options) as Array<[keyof ProxyOptions, unknown]>) {
    if (v === undefined) continue;
    if (k === 'accessLog' || k === 'upstreamHttp2' || k === 'captureEnabled') {
      if (typeof v !== 'boolean')
        throw new Error(`proxy.${k}: must be true or false, got ${JSON.stringify(v)}`);
      out[k] = v;
      continue;
    }
    if (k === 'upstreamCa') {
      if (typeof v !== 'string') throw new Error(`proxy.${k}: must be PEM text`);
      out.upstreamCa = v;
      continue;
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new Error(`proxy.${k}: must be a positive number, got ${JSON.stringify(v)}`);
    }
    out[k] = v;
  }
  return out;
}

/** Nest injection token of the resolved ProxyOptions. */
export const PROXY_OPTIONS = Symbol('PROXY_OPTIONS');
