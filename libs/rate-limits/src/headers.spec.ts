import { compileRateLimits } from './compiled-limits';
import { limitItem, policyItem, rateLimitHeaders } from './headers';

const specs = compileRateLimits({
  requests_per_minute: 20,
  tokens_per_minute: 1000,
  usd_per_hour: '1.5',
  per_dimension: { team: { requests_per_minute: 5 } },
})!.specs;

describe('RateLimit headers (draft-ietf-httpapi-ratelimit-headers-10)', () => {
  it('a request limit: quota and window; the unit is the default (requests)', () => {
    const s = { spec: specs[0], value: null, remaining: 19, resetSeconds: 42 };
    expect(policyItem(s)).toBe('"requests";q=20;w=60');
    expect(limitItem(s)).toBe('"requests";r=19;t=42');
  });

  it('tokens and USD name their unit; USD in micro-dollars over an hour', () => {
    expect(policyItem({ spec: specs[1], value: null, remaining: 0, resetSeconds: 1 })).toBe(
      '"tokens";q=1000;w=60;qu="tokens"',
    );
    expect(policyItem({ spec: specs[2], value: null, remaining: 0, resetSeconds: 1 })).toBe(
      '"usd";q=1500000;w=3600;qu="usd-micros"',
    );
  });

  it('a per-dimension limit carries its value as the partition key (a byte sequence, any characters)', () => {
    const s = { spec: specs[3], value: 'équipe "ml", 2', remaining: 4, resetSeconds: 7 };
    const pk = Buffer.from('équipe "ml", 2').toString('base64');
    expect(policyItem(s)).toBe(`"team.requests";q=5;w=60;pk=:${pk}:`);
    expect(limitItem(s)).toBe(`"team.requests";r=4;t=7;pk=:${pk}:`);
  });

  it('one list item per limit; Retry-After only when given', () => {
    const states = [
      { spec: specs[0], value: null, remaining: 0, resetSeconds: 3 },
      { spec: specs[3], value: 'ml', remaining: 2, resetSeconds: 3 },
    ];
    expect(rateLimitHeaders(states)).toEqual({
      'RateLimit-Policy': '"requests";q=20;w=60, "team.requests";q=5;w=60;pk=:bWw=:',
      RateLimit: '"requests";r=0;t=3, "team.requests";r=2;t=3;pk=:bWw=:',
    });
    expect(rateLimitHeaders(states, 9)['Retry-After']).toBe('9');
  });
});
