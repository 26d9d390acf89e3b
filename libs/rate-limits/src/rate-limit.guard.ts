// The proxy's admission guard for rate limits: a key without `rate_limits` passes untouched; a limited key gets
// the RateLimit headers on every answer and a 429 `rate_limited` (with Retry-After) once a limit is reached.
import { Inject, Injectable } from '@nestjs/common';
import type { AdmissionGuard, AdmissionInput, AdmissionResult } from '@spendops/contracts';
import { compileRateLimits } from './compiled-limits';
import { RateLimiter } from './rate-limiter';

@Injectable()
export class RateLimitGuard implements AdmissionGuard {
  constructor(@Inject(RateLimiter) private readonly limiter: RateLimiter) {}

  admit(input: AdmissionInput): AdmissionResult {
    const limits = compileRateLimits(input.key.policy.rate_limits);
    if (!limits) return { ok: true };
    const decision = this.limiter.check(input.key.id, limits, input.dims);
    if (decision.ok) return { ok: true, headers: decision.headers };
    return {
      ok: false,
      status: 429,
      type: 'rate_limited',
      message: decision.message,
      headers: decision.headers,
    };
  }
}
