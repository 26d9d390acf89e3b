// A key's `rate_limits` turned once into the list of limits the request path checks. Cached per policy object: a
// key's record is replaced, never changed in place, so a changed policy is compiled again on its next request.
import type { RateLimitValues, RateLimits } from '@spendops/contracts';

export type LimitKind = 'requests' | 'tokens' | 'usd';

export interface LimitSpec {
  kind: LimitKind;
  /** In the counter's unit: requests, tokens, or micro-dollars. */
  limit: number;
  windowMs: number;
  /** The dimension key whose values each have their own counter; null for the key as a whole. */
  dim: string | null;
  /** Policy name in the RateLimit headers: `requests`, `tokens`, `usd`, or `<dim>.<kind>`. */
  name: string;
}

export interface CompiledLimits {
  /** Every limit, the key's first. */
  specs: LimitSpec[];
  /** Whether any limit counts requests (the only ones counted at admission and synchronised between proxies). */
  countsRequests: boolean;
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;

const compiled = new WeakMap<RateLimits, CompiledLimits | null>();

/** The limits of a policy's `rate_limits`; null when it sets none. */
export function compileRateLimits(rl: RateLimits | null | undefined): CompiledLimits | null {
  if (!rl || typeof rl !== 'object') return null;
  let c = compiled.get(rl);
  if (c === undefined) {
    const specs = specsOf(rl, null);
    for (const dim of Object.keys(rl.per_dimension ?? {}).sort()) {
      specs.push(...specsOf(rl.per_dimension?.[dim] ?? {}, dim));
    }
    c = specs.length === 0 ? null : { specs, countsRequests: specs.some((s) => s.kind === 'requests') };
    compiled.set(rl, c);
  }
  return c;
}

function specsOf(v: RateLimitValues, dim: string | null): LimitSpec[] {
  const specs: LimitSpec[] = [];
  const name = (kind: LimitKind) => (dim === null ? kind : `${dim}.${kind}`);
  if (isPositive(v.requests_per_minute)) {
    specs.push({
      kind: 'requests',
      limit: v.requests_per_minute,
      windowMs: MINUTE_MS,
      dim,
      name: name('requests'),
    });
  }
  if (isPositive(v.tokens_per_minute)) {
    specs.push({
      kind: 'tokens',
      limit: v.tokens_per_minute,
      windowMs: MINUTE_MS,
      dim,
      name: name('tokens'),
    });
  }
  const micros = typeof v.usd_per_hour === 'string' ? usdToMicros(v.usd_per_hour) : 0;
  if (micros > 0) specs.push({ kind: 'usd', limit: micros, windowMs: HOUR_MS, dim, name: name('usd') });
  return specs;
}

function isPositive(n: unknown): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0;
}

/**
 * A decimal USD string in whole micro-dollars, rounded up (a cost of $0.0000001 still counts one micro-dollar,
 * so many tiny costs never slip under a limit); 0 for anything that is not a non-negative decimal.
 */
export function usdToMicros(s: string): number {
  const m = /^(\d+)(?:\.(\d*))?$/.exec(s.trim());
  if (!m) return 0;
  const frac = m[2] ?? '';
  const head = frac.slice(0, 6).padEnd(6, '0');
  const rest = frac.slice(6);
  const micros = Number(m[1]) * 1_000_000 + Number(head);
  return /[1-9]/.test(rest) ? micros + 1 : micros;
}
