import type { RateLimits } from '@spendops/contracts';
import { HOUR_MS, MINUTE_MS, compileRateLimits, usdToMicros } from './compiled-limits';

describe('compileRateLimits', () => {
  it('is null without limits', () => {
    expect(compileRateLimits(undefined)).toBeNull();
    expect(compileRateLimits(null)).toBeNull();
    expect(compileRateLimits({})).toBeNull();
    expect(compileRateLimits({ per_dimension: { team: {} } })).toBeNull();
  });

  it('lists the key limits first, then each dimension key in order', () => {
    const rl: RateLimits = {
      usd_per_hour: '2.5',
      requests_per_minute: 10,
      per_dimension: { team: { tokens_per_minute: 500 }, app: { requests_per_minute: 3 } },
    };
    const c = compileRateLimits(rl);
    expect(c?.specs).toEqual([
      { kind: 'requests', limit: 10, windowMs: MINUTE_MS, dim: null, name: 'requests' },
      { kind: 'usd', limit: 2_500_000, windowMs: HOUR_MS, dim: null, name: 'usd' },
      { kind: 'requests', limit: 3, windowMs: MINUTE_MS, dim: 'app', name: 'app.requests' },
      { kind: 'tokens', limit: 500, windowMs: MINUTE_MS, dim: 'team', name: 'team.tokens' },
    ]);
    expect(c?.countsRequests).toBe(true);
    expect(compileRateLimits(rl)).toBe(c); // compiled once per policy object
  });

  it('knows when no limit counts requests', () => {
    expect(compileRateLimits({ tokens_per_minute: 5 })?.countsRequests).toBe(false);
  });
});

describe('usdToMicros', () => {
  it.each([
    ['0', 0],
    ['1', 1_000_000],
    ['12.50', 12_500_000],
    ['0.000001', 1],
    ['0.0000001', 1], // rounded up: never free
    ['0.000001000', 1],
    ['0.123456789012', 123_457],
    ['1e3', 0],
    ['-1', 0],
    ['', 0],
  ])('%s → %d', (s, micros) => {
    expect(usdToMicros(s)).toBe(micros);
  });
});
