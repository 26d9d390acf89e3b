// Header rules, both directions. Headers travel as Node's flat raw list ([name, value, name, value, ...]) so
// that order, case and repeated headers survive.

/** Hop-by-hop headers (RFC 9110 §7.6.1, plus the non-standard Proxy-Connection and Keep-Alive). */
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Client headers that never reach the provider (decisions.md): ours, the CDN's, and client-address hints. */
const STRIPPED_OUTBOUND = new Set([
  'host',
  'true-client-ip',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-real-ip',
]);
const STRIPPED_OUTBOUND_PREFIXES = ['x-aso-', 'cf-', 'cdn-'];

export type RawHeaders = string[];

/** Lower-cased names listed in any Connection header value. */
function connectionNamed(raw: RawHeaders): Set<string> {
  const named = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() !== 'connection') continue;
    for (const f of raw[i + 1].split(',')) {
      const name = f.trim().toLowerCase();
      if (name) named.add(name);
    }
  }
  return named;
}

/** Whether a client header is withheld from the provider. */
export function isStrippedOutbound(name: string): boolean {
  const k = name.toLowerCase();
  return (
    STRIPPED_OUTBOUND.has(k) || HOP_BY_HOP.has(k) || STRIPPED_OUTBOUND_PREFIXES.some((p) => k.startsWith(p))
  );
}

/**
 * The headers to send upstream: everything the client sent except hop-by-hop headers (including those named
 * in Connection), Host (the transport sets it from the upstream URL), X-ASO-*, CF-*, CDN-*, True-Client-IP,
 * X-Forwarded-For/Proto and X-Real-IP. Provider credentials pass untouched. Nothing is added. When
 * `dropContentLength` is set (the body is re-sent from memory), Content-Length is left to the transport.
 */
export function outboundHeaders(raw: RawHeaders, dropContentLength = false): RawHeaders {
  const named = connectionNamed(raw);
  const out: RawHeaders = [];
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toLowerCase();
    if (isStrippedOutbound(k) || named.has(k)) continue;
    if (dropContentLength && k === 'content-length') continue;
    out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/** The provider's response headers for the client: unchanged but for hop-by-hop ones. */
export function inboundHeaders(raw: RawHeaders): RawHeaders {
  const named = connectionNamed(raw);
  const out: RawHeaders = [];
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(k) || named.has(k)) continue;
    out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/** Record form (as undici returns headers: lower-cased, repeated values as arrays) → raw list. */
export function headersToRaw(headers: Record<string, string | string[] | undefined>): RawHeaders {
  const raw: RawHeaders = [];
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) raw.push(k, item);
    else raw.push(k, v);
  }
  return raw;
}

/** First value of a header in a raw list (case-insensitive), or undefined. */
export function rawHeaderValue(raw: RawHeaders, name: string): string | undefined {
  const k = name.toLowerCase();
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === k) return raw[i + 1];
  return undefined;
}

/** All values of a header in a raw list. */
export function rawHeaderValues(raw: RawHeaders, name: string): string[] {
  const k = name.toLowerCase();
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === k) values.push(raw[i + 1]);
  return values;
}
