// Raw-path routing: /v1/{provider}{endpoint}?{query}, taken from the request target exactly as the client sent
// it (still escaped), so what goes upstream is verbatim.
import type { ProviderDefinition } from './definitions';

export type ProxyRoute =
  | { ok: true; provider: string; endpoint: string; query: string }
  /** not_proxy_path: outside `/v1/` (a plain 404); unknown_provider: `/v1` or `/v1/` without a provider. */
  | { ok: false; error: 'not_proxy_path' | 'unknown_provider' };

const PREFIX = '/v1/';

/**
 * Split a raw request target (`req.url`) into the provider segment, the escaped endpoint (empty or starting
 * with "/") and the raw query (without "?", '' when none). Check the endpoint with `isSafeEndpoint`.
 */
export function parseProxyPath(rawUrl: string): ProxyRoute {
  let target = rawUrl;
  if (!target.startsWith('/')) {
    // absolute-form (`GET http://host/v1/... HTTP/1.1`): drop scheme and authority
    const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?]*/.exec(target);
    target = m ? target.slice(m[0].length) || '/' : target;
  }
  const q = target.indexOf('?');
  const path = q >= 0 ? target.slice(0, q) : target;
  const query = q >= 0 ? target.slice(q + 1) : '';
  if (!path.startsWith(PREFIX)) {
    return { ok: false, error: path === '/v1' ? 'unknown_provider' : 'not_proxy_path' };
  }
  const rest = path.slice(PREFIX.length);
  const slash = rest.indexOf('/');
  const provider = slash >= 0 ? rest.slice(0, slash) : rest;
  const endpoint = slash >= 0 ? rest.slice(slash) : '';
  if (provider === '') return { ok: false, error: 'unknown_provider' };
  return { ok: true, provider, endpoint, query };
}

const FORBIDDEN_ESCAPES = ['%2e', '%2f', '%5c', '%00', '%25', '%40'];

/**
 * The path guard. Rejects anything that could change the upstream host or leave the provider's base path once
 * joined, decoded or normalised by any hop between us and the provider: dot segments (plain or percent-encoded),
 * encoded slashes and backslashes, double slashes (a `//host` authority), userinfo markers, NUL and other control
 * bytes, non-ASCII bytes, '#', malformed escapes and double encoding. Legitimate provider paths need none of these.
 */
export function isSafeEndpoint(endpoint: string): boolean {
  if (endpoint === '') return true;
  for (let i = 0; i < endpoint.length; i++) {
    const c = endpoint.charCodeAt(i);
    // '#' too: a URL fragment marker would cut the path short at the provider (the reference's URL type
    // re-escaped it; we send the path verbatim, so we refuse it).
    if (
      c < 0x20 ||
      c === 0x7f ||
      c === 0x5c /* \ */ ||
      c === 0x40 /* @ */ ||
      c === 0x23 /* # */ ||
      c >= 0x80
    ) {
      return false;
    }
  }
  if (endpoint.includes('//')) return false;
  const lower = endpoint.toLowerCase();
  if (FORBIDDEN_ESCAPES.some((bad) => lower.includes(bad))) return false;
  const decoded = percentDecode(endpoint);
  if (decoded === null) return false;
  let segStart = 0;
  for (let i = 0; i <= decoded.length; i++) {
    if (i === decoded.length || decoded[i] === 0x2f) {
      const len = i - segStart;
      if (len === 1 && decoded[segStart] === 0x2e) return false;
      if (len === 2 && decoded[segStart] === 0x2e && decoded[segStart + 1] === 0x2e) return false;
      segStart = i + 1;
      continue;
    }
    const c = decoded[i];
    if (c < 0x20 || c === 0x7f || c === 0x5c) return false;
  }
  return true;
}

/** Percent-decodes to bytes; null when an escape is malformed. */
function percentDecode(s: string): Buffer | null {
  const out = Buffer.allocUnsafe(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hi = hexValue(s.charCodeAt(i + 1));
      const lo = hexValue(s.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return null;
      out[n++] = hi * 16 + lo;
      i += 2;
    } else {
      out[n++] = c;
    }
  }
  return out.subarray(0, n);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** The upstream path for a checked endpoint: base path + endpoint (after the provider's strip prefix). */
export function upstreamPath(def: ProviderDefinition, endpoint: string): string {
  let rest = endpoint;
  const prefix = def.stripPrefix;
  if (prefix) {
    if (rest === prefix) rest = '';
    else if (rest.startsWith(`${prefix}/`)) rest = rest.slice(prefix.length);
  }
  return def.basePath + rest;
}

/** The request target sent upstream: path ('/' when empty) and the raw query. */
export function upstreamTarget(def: ProviderDefinition, endpoint: string, query: string): string {
  const path = upstreamPath(def, endpoint) || '/';
  return query ? `${path}?${query}` : path;
}

/** The full upstream URL. The host always comes from the provider definition, never from the path. */
export function upstreamUrl(def: ProviderDefinition, endpoint: string, query: string): string {
  const path = upstreamPath(def, endpoint);
  return def.origin + path + (query ? `?${query}` : '');
}
