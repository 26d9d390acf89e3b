// Streaming usage injection: make a streaming chat/completions (or legacy completions) request ask for usage by
// splicing `"stream_options":{"include_usage":true}` into the client's JSON bytes. Every other byte stays as the
// client sent it.
import { isValidJson, JsonMember, objectMembers, skipSpace, splice } from './json-bytes';

export type InjectError = 'invalid_json' | 'duplicate_key' | 'stream_options_not_object';

export interface InjectResult {
  /** The body to forward (the input itself unless injected). */
  body: Buffer;
  injected: boolean;
  /** Why nothing was injected although the body may be streaming; the body is then forwarded unchanged. */
  error?: InjectError;
}

const INCLUDE_MEMBER = '"include_usage":true';
const STREAM_OPTIONS = '"stream_options":{"include_usage":true}';

/**
 * When the top-level object has `"stream": true` and `stream_options.include_usage` is not true, splice the
 * option in (or `"include_usage":true` into an existing stream_options object, or replace a false/null value).
 * An explicit false counts as not asking: the proxy must see usage to bill, and the stripper removes the usage
 * chunk again for a client that did not ask.
 *
 * Not a JSON object, or not streaming: unchanged, no error. Invalid JSON, a stream_options that is neither an
 * object nor null, and a repeated "stream", "stream_options" or "include_usage" key are errors (parsers disagree
 * on which duplicate wins, so the proxy must not guess what the provider will read).
 */
export function injectIncludeUsage(body: Buffer): InjectResult {
  if (!isValidJson(body)) return { body, injected: false, error: 'invalid_json' };
  const start = skipSpace(body, 0);
  if (start >= body.length || body[start] !== 0x7b) return { body, injected: false };
  const members = objectMembers(body, start);
  let stream: JsonMember | undefined;
  let opts: JsonMember | undefined;
  for (const m of members) {
    if (m.key === 'stream') {
      if (stream) return { body, injected: false, error: 'duplicate_key' };
      stream = m;
    } else if (m.key === 'stream_options') {
      if (opts) return { body, injected: false, error: 'duplicate_key' };
      opts = m;
    }
  }
  if (!stream || body.toString('latin1', stream.valStart, stream.valEnd) !== 'true') {
    return { body, injected: false };
  }
  if (!opts) {
    // After the last member's value, before any whitespace and the closing brace.
    const last = members[members.length - 1];
    return { body: splice(body, last.valEnd, last.valEnd, `,${STREAM_OPTIONS}`), injected: true };
  }
  const first = body[opts.valStart];
  if (first === 0x6e /* n: null */) {
    return { body: splice(body, opts.valStart, opts.valEnd, '{"include_usage":true}'), injected: true };
  }
  if (first !== 0x7b) return { body, injected: false, error: 'stream_options_not_object' };
  const inner = objectMembers(body, opts.valStart);
  let include: JsonMember | undefined;
  for (const m of inner) {
    if (m.key !== 'include_usage') continue;
    if (include) return { body, injected: false, error: 'duplicate_key' };
    include = m;
  }
  if (!include && inner.length === 0) {
    return { body: splice(body, opts.valStart + 1, opts.valStart + 1, INCLUDE_MEMBER), injected: true };
  }
  if (!include) {
    const last = inner[inner.length - 1];
    return { body: splice(body, last.valEnd, last.valEnd, `,${INCLUDE_MEMBER}`), injected: true };
  }
  if (body.toString('latin1', include.valStart, include.valEnd) === 'true') return { body, injected: false };
  // false, null, or not a boolean: the client did not ask in a form the provider honours.
  return { body: splice(body, include.valStart, include.valEnd, 'true'), injected: true };
}

/** Whether a request body asks for stream usage itself (top-level stream_options.include_usage is true). */
export function clientAskedUsage(body: Buffer): boolean {
  try {
    const req: unknown = JSON.parse(body.toString('utf8'));
    if (!isRecord(req) || !isRecord(req.stream_options)) return false;
    return req.stream_options.include_usage === true;
  } catch {
    return false;
  }
}

/** Only chat completions and legacy completions accept stream_options. */
export function isInjectablePath(endpoint: string): boolean {
  return endpoint.endsWith('/chat/completions') || endpoint.endsWith('/completions');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
