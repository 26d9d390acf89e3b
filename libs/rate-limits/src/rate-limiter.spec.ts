import { type UsageEventView, zeroTokens } from '@spendops/contracts';
import { compileRateLimits } from './compiled-limits';
import { RateLimiter } from './rate-limiter';
import type { RateLimitSyncV1 } from './sync-message';

const T0 = 1_699_999_200_000; // an hour (and so a minute) boundary
const MIN = 60_000;

function clock(start = T0) {
  const c = { t: start, now: () => c.t };
  return c;
}

function usage(over: Partial<UsageEventView>): UsageEventView {
  return {
    ...zeroTokens(),
    request_id: 'r1',
    ts: new Date(T0).toISOString(),
    tenant_id: 'default',
    api_key_id: 'k1',
    provider: 'openai',
    method: 'POST',
    endpoint: '/v1/chat/completions',
    endpoint_class: 'chat',
    model: 'gpt-4o',
    response_model: 'gpt-4o',
    generation_id: '',
    service_tier: '',
    stream: false,
    stream_usage_injected: false,
    outcome: 'completed',
    usage_source: 'provider',
    http_status: 200,
    dims: {},
    web_search_requests: 0,
    image_count: 0,
    image_size: '',
    image_quality: '',
    audio_seconds: '0',
    input_characters: 0,
    started_at_ms: T0,
    first_byte_at_ms: T0,
    ended_at_ms: T0,
    raw_usage: null,
    provider_cost: null,
    calculated_cost: null,
    total_cost_usd: null,
    cost_source: 'none',
    pricing_matched: false,
    pricing_model: '',
    pricing_version: '',
    ...over,
  };
}

describe('RateLimiter: requests per minute', () => {
  const limits = compileRateLimits({ requests_per_minute: 3 })!;

  it('admits up to the limit, then denies with Retry-After and the RateLimit headers', () => {
    const c = clock(T0 + 10_000);
    const rl = new RateLimiter({ now: c.now });
    const first = rl.check('k1', limits, {});
    expect(first).toEqual({
      ok: true,
      headers: { 'RateLimit-Policy': '"requests";q=3;w=60', RateLimit: '"requests";r=2;t=50' },
    });
    expect(rl.check('k1', limits, {}).ok).toBe(true);
    // Exhausted: t is when a request fits again (the sliding count), not the fixed window's end (50 s).
    expect(rl.check('k1', limits, {}).headers.RateLimit).toBe('"requests";r=0;t=70');
    const denied = rl.check('k1', limits, {});
    // 3 × (1 − e) ≤ 2 in the next window: e = 1/3 → 20 s into it, 70 s from now.
    expect(denied).toEqual({
      ok: false,
      retryAfterSeconds: 70,
      message: 'Rate limit exceeded: 3 requests per minute for this key; retry in 70 s',
      headers: {
        'RateLimit-Policy': '"requests";q=3;w=60',
        RateLimit: '"requests";r=0;t=70',
        'Retry-After': '70',
      },
    });
  });

  it('a denied request is not counted', () => {
    const c = clock();
    const rl = new RateLimiter({ now: c.now });
    for (let i = 0; i < 3; i++) rl.check('k1', limits, {});
    for (let i = 0; i < 10; i++) expect(rl.check('k1', limits, {}).ok).toBe(false);
    c.t = T0 + MIN + MIN / 3; // exactly when 3 × (1 − e) = 2
    expect(rl.check('k1', limits, {}).ok).toBe(true);
    expect(rl.check('k1', limits, {}).ok).toBe(false);
  });

  it('slides: admits again as the previous window slides out', () => {
    const c = clock();
    const rl = new RateLimiter({ now: c.now });
    for (let i = 0; i < 3; i++) rl.check('k1', limits, {});
    c.t = T0 + 2 * MIN; // the full window is behind
    for (let i = 0; i < 3; i++) expect(rl.check('k1', limits, {}).ok).toBe(true);
    expect(rl.check('k1', limits, {}).ok).toBe(false);
  });

  it('keys have separate counters', () => {
    const rl = new RateLimiter({ now: clock().now });
    for (let i = 0; i < 3; i++) rl.check('k1', limits, {});
    expect(rl.check('k1', limits, {}).ok).toBe(false);
    expect(rl.check('k2', limits, {}).ok).toBe(true);
  });
});

describe('RateLimiter: per dimension value', () => {
  const limits = compileRateLimits({
    requests_per_minute: 100,
    per_dimension: { team: { requests_per_minute: 2 } },
  })!;

  it('each value of the dimension has its own counter; requests without it are limited by the key only', () => {
    const rl = new RateLimiter({ now: clock().now });
    expect(rl.check('k1', limits, { team: 'ml' }).ok).toBe(true);
    expect(rl.check('k1', limits, { team: 'ml' }).ok).toBe(true);
    const denied = rl.check('k1', limits, { team: 'ml' });
    expect(denied.ok).toBe(false);
    expect(!denied.ok && denied.message).toMatch(
      /^Rate limit exceeded: 2 requests per minute for team=ml; retry in/,
    );
    expect(rl.check('k1', limits, { team: 'web' }).ok).toBe(true);
    for (let i = 0; i < 5; i++) expect(rl.check('k1', limits, {}).ok).toBe(true);
  });

  it('headers list the key limit and the value limit with its partition key', () => {
    const rl = new RateLimiter({ now: clock(T0 + 1000).now });
    expect(rl.check('k1', limits, { team: 'ml', env: 'prod' }).headers).toEqual({
      'RateLimit-Policy': '"requests";q=100;w=60, "team.requests";q=2;w=60;pk=:bWw=:',
      RateLimit: '"requests";r=99;t=59, "team.requests";r=1;t=59;pk=:bWw=:',
    });
  });

  it('a request denied by its dimension is not counted on the key either', () => {
    const rl = new RateLimiter({ now: clock().now });
    const tight = compileRateLimits({
      requests_per_minute: 3,
      per_dimension: { team: { requests_per_minute: 1 } },
    })!;
    rl.check('k1', tight, { team: 'ml' });
    for (let i = 0; i < 5; i++) expect(rl.check('k1', tight, { team: 'ml' }).ok).toBe(false);
    expect(rl.check('k1', tight, { team: 'web' }).ok).toBe(true);
    expect(rl.check('k1', tight, {}).ok).toBe(true);
    expect(rl.check('k1', tight, {}).ok).toBe(false);
  });
});

describe('RateLimiter: tokens and USD from recorded usage', () => {
  it('denies while the tokens of the sliding minute are at the limit', () => {
    const c = clock(T0 + 5000);
    const rl = new RateLimiter({ now: c.now });
    const limits = compileRateLimits({ tokens_per_minute: 1000 })!;
    expect(rl.check('k1', limits, {}).headers.RateLimit).toBe('"tokens";r=1000;t=55');
    rl.recordUsage(usage({ request_id: 'a', total_tokens: 600, ended_at_ms: T0 + 4000 }), limits);
    expect(rl.check('k1', limits, {}).ok).toBe(true);
    rl.recordUsage(usage({ request_id: 'b', total_tokens: 400, ended_at_ms: T0 + 4500 }), limits);
    const denied = rl.check('k1', limits, {});
    expect(denied.ok).toBe(false);
    // 1000 × (1 − e) ≤ 999 → e = 0.001 → 60 ms into the next window.
    expect(!denied.ok && denied.retryAfterSeconds).toBe(56);
    expect(!denied.ok && denied.message).toBe(
      'Rate limit exceeded: 1000 tokens per minute for this key; retry in 56 s',
    );
    c.t = T0 + MIN + 60;
    expect(rl.check('k1', limits, {}).ok).toBe(true);
  });

  it('a redelivered event counts once; a re-pricing counts the difference', () => {
    const c = clock(T0 + 5000);
    const rl = new RateLimiter({ now: c.now });
    const limits = compileRateLimits({ usd_per_hour: '1', tokens_per_minute: 100 })!;
    const ev = usage({ request_id: 'a', total_tokens: 60, total_cost_usd: '0.60' });
    rl.recordUsage(ev, limits);
    rl.recordUsage(ev, limits);
    expect(rl.check('k1', limits, {}).headers.RateLimit).toBe('"tokens";r=40;t=55, "usd";r=400000;t=3595');
    rl.recordUsage({ ...ev, total_cost_usd: '1.00' }, limits); // re-priced
    const denied = rl.check('k1', limits, {});
    expect(denied.ok).toBe(false);
    expect(!denied.ok && denied.message).toMatch(/^Rate limit exceeded: 1 USD per hour for this key/);
    rl.recordUsage({ ...ev, total_cost_usd: '0.10' }, limits); // re-priced down
    expect(rl.check('k1', limits, {}).ok).toBe(true);
  });

  it('counts per dimension value from the event dims, and ignores keys without limits', () => {
    const rl = new RateLimiter({ now: clock(T0 + 5000).now });
    const limits = compileRateLimits({ per_dimension: { team: { tokens_per_minute: 100 } } })!;
    rl.recordUsage(usage({ request_id: 'a', total_tokens: 100, dims: { team: 'ml' } }), limits);
    rl.recordUsage(usage({ request_id: 'b', total_tokens: 100, dims: { team: 'x' } }), null);
    expect(rl.check('k1', limits, { team: 'ml' }).ok).toBe(false);
    expect(rl.check('k1', limits, { team: 'web' }).ok).toBe(true);
  });

  it('forgets counted requests after 10 minutes: a later re-pricing counts its whole cost (never too little)', () => {
    const c = clock(T0 + 5000);
    const rl = new RateLimiter({ now: c.now });
    const limits = compileRateLimits({ usd_per_hour: '10' })!;
    const ev = usage({ request_id: 'a', total_cost_usd: '1', ended_at_ms: T0 + 5000 });
    rl.recordUsage(ev, limits);
    c.t += 11 * MIN;
    rl.sweep();
    rl.recordUsage({ ...ev, total_cost_usd: '1.5' }, limits);
    expect(rl.used('k1', 'usd')).toBe(2_500_000);
  });

  it('usage older than the window no longer counts', () => {
    const rl = new RateLimiter({ now: clock(T0 + 3 * MIN).now });
    const limits = compileRateLimits({ tokens_per_minute: 100 })!;
    rl.recordUsage(usage({ request_id: 'a', total_tokens: 1000, ended_at_ms: T0 }), limits);
    expect(rl.check('k1', limits, {}).ok).toBe(true);
  });
});

describe('RateLimiter: several proxies', () => {
  const limits = compileRateLimits({ requests_per_minute: 10 })!;

  function pair() {
    const c = clock(T0 + 1000);
    const a = new RateLimiter({ now: c.now, nodeId: 'a' });
    const b = new RateLimiter({ now: c.now, nodeId: 'b' });
    const exchange = () => {
      const ma = a.takeSyncMessage(true) as RateLimitSyncV1;
      const mb = b.takeSyncMessage(true) as RateLimitSyncV1;
      b.applySync(ma);
      a.applySync(mb);
    };
    return { c, a, b, exchange };
  }

  it('alone, a proxy has the whole limit', () => {
    const { a } = pair();
    for (let i = 0; i < 10; i++) expect(a.check('k1', limits, {}).ok).toBe(true);
    expect(a.check('k1', limits, {}).ok).toBe(false);
  });

  it('with a live peer, each proxy admits at most its share, however late the reports are', () => {
    const { a, b, exchange } = pair();
    exchange();
    expect(a.liveProxies).toBe(2);
    let admitted = 0;
    for (let i = 0; i < 20; i++)
      admitted += Number(a.check('k1', limits, {}).ok) + Number(b.check('k1', limits, {}).ok);
    expect(admitted).toBe(10);
    const denied = a.check('k1', limits, {});
    // t agrees with Retry-After: the share's own count, not the window's end, says when this proxy admits again.
    expect(denied.headers.RateLimit).toBe(`"requests";r=0;t=${denied.ok ? -1 : denied.retryAfterSeconds}`);
    expect(denied.ok ? 0 : denied.retryAfterSeconds).toBeGreaterThan(59);
  });

  it('reports add the peer’s admissions to the counter: a skewed load stops at the limit', () => {
    const { a, b, exchange } = pair();
    exchange();
    for (let i = 0; i < 5; i++) expect(a.check('k1', limits, {}).ok).toBe(true);
    exchange();
    expect(b.check('k1', limits, {}).headers.RateLimit).toBe('"requests";r=4;t=59'); // 10 − 5 − 1, share 5 − 1
    const msg = a.takeSyncMessage();
    expect(msg).toBeNull(); // nothing new, no heartbeat asked
  });

  it('a peer that goes silent stops taking a share; its reported admissions still count', () => {
    const { c, a, b, exchange } = pair();
    exchange();
    for (let i = 0; i < 5; i++) b.check('k1', limits, {});
    exchange();
    c.t += 3001; // b silent past the TTL
    a.takeSyncMessage(true);
    expect(a.liveProxies).toBe(1);
    let admitted = 0;
    for (let i = 0; i < 10; i++) admitted += Number(a.check('k1', limits, {}).ok);
    expect(admitted).toBe(5);
  });

  it('own messages are ignored; a delta of the previous window lands there', () => {
    const { c, a, b } = pair();
    a.applySync({
      node: 'a',
      sent_at_ms: 0,
      deltas: [{ counter: 'x', window_start_ms: T0, window_ms: MIN, n: 5 }],
    });
    expect(a.size).toBe(0);
    for (let i = 0; i < 4; i++) a.check('k1', limits, {});
    c.t = T0 + MIN + 30_000; // the window ended before a reported
    a.check('k1', limits, {});
    const msg = a.takeSyncMessage() as RateLimitSyncV1;
    expect(msg.deltas.map((d) => [d.window_start_ms, d.n])).toEqual([
      [T0, 4],
      [T0 + MIN, 1],
    ]);
    b.applySync(msg);
    // b: 4 × 0.5 + 1 = 3 of 10 used, 6 left after this one; but a is live now, so b's share is 5, 4 left of it.
    expect(b.check('k1', limits, {}).headers.RateLimit).toBe('"requests";r=4;t=30');
    expect(b.liveProxies).toBe(2);
  });

  it('a proxy that joins mid-window is told what was admitted before it (its global view)', () => {
    const c = clock(T0 + 1000);
    const a = new RateLimiter({ now: c.now, nodeId: 'a' });
    for (let i = 0; i < 6; i++) expect(a.check('k1', limits, {}).ok).toBe(true); // alone: the whole limit
    a.takeSyncMessage();
    const b = new RateLimiter({ now: c.now, nodeId: 'b' });
    a.applySync(b.takeSyncMessage(true) as RateLimitSyncV1); // b's first heartbeat
    const welcomes = a.takeJoinerViews();
    expect(welcomes).toHaveLength(1);
    expect(welcomes[0]).toMatchObject({
      node: 'a',
      to: 'b',
      views: [{ counter: 'k1\u0000requests', current: 6 }],
    });
    expect(a.takeJoinerViews()).toEqual([]); // once
    b.applySync(welcomes[0]);
    expect(b.used('k1', 'requests')).toBe(6);
    expect(b.liveProxies).toBe(2);
    let admitted = 0;
    for (let i = 0; i < 10; i++) admitted += Number(b.check('k1', limits, {}).ok);
    expect(admitted).toBe(4); // the limit's rest, below b's share of 5
  });

  it('a welcome addressed to another proxy only tells that its sender is live', () => {
    const c = clock(T0 + 1000);
    const third = new RateLimiter({ now: c.now, nodeId: 'c' });
    third.applySync({
      node: 'a',
      sent_at_ms: c.t,
      deltas: [],
      to: 'b',
      views: [{ counter: 'k1\u0000requests', window_start_ms: T0, window_ms: MIN, current: 9, previous: 0 }],
    });
    expect(third.used('k1', 'requests')).toBe(0);
    third.takeSyncMessage();
    expect(third.liveProxies).toBe(2);
  });

  it('a restarted proxy learns what its previous run admitted from the others', () => {
    const { a, b, exchange } = pair();
    exchange();
    for (let i = 0; i < 5; i++) a.check('k1', limits, {});
    exchange(); // b has a's 5
    const a2 = new RateLimiter({ now: () => T0 + 2000, nodeId: 'a2' }); // a restarts with a new id
    b.applySync(a2.takeSyncMessage(true) as RateLimitSyncV1);
    for (const w of b.takeJoinerViews()) a2.applySync(w);
    expect(a2.used('k1', 'requests')).toBe(5);
  });

  it('views are not added to the counts they repeat', () => {
    const c = clock(T0 + 1000);
    const rl = new RateLimiter({ now: c.now, nodeId: 'x' });
    for (let i = 0; i < 3; i++) rl.check('k1', limits, {});
    const view = {
      counter: 'k1\u0000requests',
      window_start_ms: T0,
      window_ms: MIN,
      current: 5,
      previous: 2,
    };
    rl.applySync({ node: 'y', sent_at_ms: c.t, deltas: [], to: 'x', views: [view] });
    rl.applySync({ node: 'y', sent_at_ms: c.t, deltas: [], to: 'x', views: [view] });
    c.t = T0 + MIN / 2;
    expect(rl.used('k1', 'requests')).toBeCloseTo(2 * 0.5 + 5);
  });

  it('a report that could not be sent goes out with the next one', () => {
    const { a, b, exchange } = pair();
    exchange();
    for (let i = 0; i < 3; i++) a.check('k1', limits, {});
    const lost = a.takeSyncMessage() as RateLimitSyncV1;
    a.requeue(lost);
    a.check('k1', limits, {});
    const next = a.takeSyncMessage() as RateLimitSyncV1;
    expect(next.deltas.reduce((n, d) => n + d.n, 0)).toBe(4);
    b.applySync(next);
    expect(b.used('k1', 'requests')).toBe(4);
  });

  it('forgets idle counters and old usage', () => {
    const c = clock();
    const rl = new RateLimiter({ now: c.now });
    rl.check('k1', limits, {});
    rl.takeSyncMessage();
    c.t += 2 * MIN + 1;
    rl.sweep();
    expect(rl.size).toBe(0);
  });
});

/**
 * The bound of docs/rate-limits.md: with P live proxies, admitted ≤ N + P − 1 per window, whatever the order of
 * requests and however late the reports arrive. A deterministic simulation: every proxy receives a random stream
 * of requests, reports every 100 ms, and each report reaches each peer after a random delay of up to 3 rounds.
 */
describe('RateLimiter: the bound across proxies (simulation)', () => {
  function simulate(P: number, N: number, seed: number): number {
    let s = seed;
    const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const c = clock(T0 + 1);
    const limits = compileRateLimits({ requests_per_minute: N })!;
    const proxies = Array.from({ length: P }, (_, i) => new RateLimiter({ now: c.now, nodeId: `p${i}` }));
    for (const p of proxies) {
      const m = p.takeSyncMessage(true) as RateLimitSyncV1;
      for (const o of proxies) o.applySync(m);
    }
    for (const p of proxies) p.takeSyncMessage();
    const phase = proxies.map(() => Math.floor(rand() * 100));
    const inflight: Array<{ at: number; to: RateLimiter; m: RateLimitSyncV1 }> = [];
    let admitted = 0;
    for (let t = 0; t < 1000; t++) {
      c.t++;
      for (let i = inflight.length - 1; i >= 0; i--) {
        if (inflight[i].at > c.t) continue;
        const d = inflight.splice(i, 1)[0];
        d.to.applySync(d.m);
      }
      for (const p of proxies) {
        for (let k = Math.floor(rand() * 3); k > 0; k--) admitted += Number(p.check('k', limits, {}).ok);
      }
      proxies.forEach((p, i) => {
        if ((t + phase[i]) % 100 !== 0) return;
        const m = p.takeSyncMessage(true);
        if (m)
          for (const o of proxies)
            if (o !== p) inflight.push({ at: c.t + Math.floor(rand() * 300), to: o, m });
      });
    }
    return admitted;
  }

  it.each([
    [2, 20],
    [2, 101],
    [3, 30],
    [3, 100],
    [4, 7],
  ])('%i proxies, %i requests per minute', (P, N) => {
    for (let seed = 1; seed <= 20; seed++) {
      const admitted = simulate(P, N, seed);
      expect(admitted).toBeLessThanOrEqual(N + P - 1);
      expect(admitted).toBeGreaterThanOrEqual(N - P); // every proxy uses its share under an even load
    }
  });
});
