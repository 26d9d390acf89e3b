// The RateLimit header fields of draft-ietf-httpapi-ratelimit-headers-10 (docs/rate-limits.md, "Headers"): two
// Structured Fields lists, `RateLimit-Policy` (the quotas) and `RateLimit` (what is left now), one item per limit
// that applies to the request; `Retry-After` on a 429.
import type { LimitKind, LimitSpec } from './compiled-limits';

/** The state of one limit for one request. */
export interface LimitState {
  spec: LimitSpec;
  /** The dimension value of a per-dimension limit (its partition key); null for the key's own limits. */
  value: string | null;
  /** Units left in the sliding window (floor, ≥ 0). */
  remaining: number;
  /** Seconds until the current fixed window ends. */
  resetSeconds: number;
}

/** Quota units (`qu`): `requests` is the draft's default and left out; the others are ours. */
const UNITS: Record<LimitKind, string | null> = { requests: null, tokens: 'tokens', usd: 'usd-micros' };

/** One `RateLimit-Policy` item: `"<name>";q=<quota>;w=<window s>[;qu="<unit>"][;pk=:<base64 value>:]`. */
export function policyItem(state: LimitState): string {
  const { spec } = state;
  const unit = UNITS[spec.kind];
  return (
    `${sfString(spec.name)};q=${spec.limit};w=${spec.windowMs / 1000}` +
    (unit ? `;qu=${sfString(unit)}` : '') +
    partitionKey(state)
  );
}

/** One `RateLimit` item: `"<name>";r=<remaining>;t=<seconds>[;pk=…]`. */
export function limitItem(state: LimitState): string {
  return `${sfString(state.spec.name)};r=${state.remaining};t=${state.resetSeconds}${partitionKey(state)}`;
}

/** The response headers of a request's limits; `retryAfterSeconds` is set on a denial. */
export function rateLimitHeaders(states: LimitState[], retryAfterSeconds?: number): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Policy': states.map(policyItem).join(', '),
    RateLimit: states.map(limitItem).join(', '),
  };
  if (retryAfterSeconds !== undefined) headers['Retry-After'] = String(retryAfterSeconds);
  return headers;
}

function partitionKey(state: LimitState): string {
  return state.value === null ? '' : `;pk=:${Buffer.from(state.value, 'utf8').toString('base64')}:`;
}

/** A Structured Fields String (printable ASCII; `"` and `\` escaped). Names here are always printable ASCII. */
function sfString(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
