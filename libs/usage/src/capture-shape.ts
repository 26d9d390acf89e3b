// Shape check of a `usage.captured.v1` payload: what extraction relies on being present and typed.
import { type UsageCapturedV1 } from '@spendops/contracts';

const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function isBody(v: unknown): boolean {
  return (
    isObj(v) &&
    isStr(v.head) &&
    (v.tail === undefined || isStr(v.tail)) &&
    isNum(v.total_bytes) &&
    typeof v.truncated === 'boolean'
  );
}

/** Returns the first problem found, or null when the payload is a usable capture. */
export function isValidCapture(p: unknown): p is UsageCapturedV1 {
  return captureProblem(p) === null;
}

export function captureProblem(p: unknown): string | null {
  if (!isObj(p)) return 'payload is not an object';
  for (const k of [
    'request_id',
    'tenant_id',
    'api_key_id',
    'provider',
    'dialect',
    'method',
    'endpoint',
    'request_model',
    'outcome',
  ]) {
    if (!isStr(p[k])) return `${k} missing or not a string`;
  }
  if (!['openai-compatible', 'anthropic', 'gemini'].includes(p.dialect as string)) return 'unknown dialect';
  if (!['completed', 'cancelled', 'error'].includes(p.outcome as string)) return 'unknown outcome';
  if ((p.request_id as string) === '') return 'empty request_id';
  for (const k of ['http_status', 'started_at_ms', 'first_byte_at_ms', 'ended_at_ms']) {
    if (!isNum(p[k])) return `${k} missing or not a number`;
  }
  for (const k of ['stream', 'stream_usage_injected', 'stream_complete']) {
    if (typeof p[k] !== 'boolean') return `${k} missing or not a boolean`;
  }
  if (!isObj(p.dims) || !Object.values(p.dims).every(isStr)) return 'dims is not a string map';
  if (!isBody(p.request_body)) return 'request_body malformed';
  if (!isBody(p.response_body)) return 'response_body malformed';
  for (const k of ['content_encoding', 'response_content_type', 'request_content_type']) {
    if (!isStr(p[k])) return `${k} missing or not a string`;
  }
  return null;
}
