// The module on a real (in-process) bus: the guard's answers, tokens counted from usage.recorded.v1 events, and
// two proxies' limiters finding each other and sharing a limit over the sync topic.
import 'reflect-metadata';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  type AdmissionInput,
  type KeyPolicy,
  type KeyRecord,
  Topics,
  type UsageEventView,
  zeroTokens,
} from '@spendops/contracts';
import { InProcessBus } from '@spendops/messaging';
import { KeyReplica, issueKey } from '@spendops/policy';
import { globalBusModule } from '@spendops/testing';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimiter } from './rate-limiter';
import { RateLimitsModule } from './rate-limits.module';

const secret = Buffer.alloc(32, 7);

function keyWith(policy: Partial<KeyPolicy>): KeyRecord {
  return issueKey(secret, { policy }).record;
}

function input(key: KeyRecord, dims: Record<string, string> = {}): AdmissionInput {
  return {
    request_id: 'r',
    key,
    provider: 'openai',
    model: 'gpt-4o',
    endpoint: '/v1/chat/completions',
    dims,
    stream: false,
    body: null,
  };
}

function recorded(key: KeyRecord, requestId: string, tokens: number): UsageEventView {
  const now = Date.now();
  return {
    ...zeroTokens(),
    total_tokens: tokens,
    request_id: requestId,
    ts: new Date(now).toISOString(),
    tenant_id: key.tenant_id,
    api_key_id: key.id,
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
    started_at_ms: now,
    first_byte_at_ms: now,
    ended_at_ms: now,
    raw_usage: null,
    provider_cost: null,
    calculated_cost: '0.001',
    total_cost_usd: '0.001',
    cost_source: 'standard',
    pricing_matched: true,
    pricing_model: 'gpt-4o',
    pricing_version: 'test',
  };
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('RateLimitsModule', () => {
  let bus: InProcessBus;
  const modules: TestingModule[] = [];

  async function proxy(replica?: KeyReplica): Promise<TestingModule> {
    const m = await Test.createTestingModule({
      imports: [
        globalBusModule(bus),
        RateLimitsModule.forRoot({ syncIntervalMs: 20, heartbeatMs: 50, peerTtlMs: 2000 }),
      ],
      providers: replica ? [{ provide: KeyReplica, useValue: replica }] : [],
    }).compile();
    await m.init();
    modules.push(m);
    return m;
  }

  beforeEach(() => {
    bus = new InProcessBus();
  });

  afterEach(async () => {
    for (const m of modules.splice(0)) await m.close();
    await bus.close();
  });

  it('passes a key without limits untouched', async () => {
    const guard = (await proxy()).get(RateLimitGuard);
    expect(guard.admit(input(keyWith({})))).toEqual({ ok: true });
  });

  it('a limited key: headers when admitted, then 429 rate_limited with Retry-After', async () => {
    const guard = (await proxy()).get(RateLimitGuard);
    const key = keyWith({ rate_limits: { requests_per_minute: 2 } });
    const first = guard.admit(input(key));
    expect(first.ok).toBe(true);
    expect(first.headers?.['RateLimit-Policy']).toBe('"requests";q=2;w=60');
    expect(guard.admit(input(key)).ok).toBe(true);
    const denied = guard.admit(input(key));
    expect(denied).toMatchObject({ ok: false, status: 429, type: 'rate_limited' });
    expect(denied.headers?.['Retry-After']).toMatch(/^\d+$/);
    expect(denied.headers?.RateLimit).toMatch(/^"requests";r=0;t=\d+$/);
  });

  it('counts tokens from usage.recorded.v1 (limits from the key replica) and denies once over', async () => {
    const key = keyWith({ rate_limits: { tokens_per_minute: 100 } });
    const replica = new KeyReplica();
    replica.upsert(key);
    const guard = (await proxy(replica)).get(RateLimitGuard);
    expect(guard.admit(input(key)).ok).toBe(true);
    await bus.publish(Topics.usageRecorded, recorded(key, 'req-1', 60));
    await bus.publish(Topics.usageRecorded, recorded(key, 'req-1', 60)); // a redelivery
    await until(() => guard.admit(input(key)).headers?.RateLimit?.startsWith('"tokens";r=40;') === true);
    await bus.publish(Topics.usageRecorded, recorded(key, 'req-2', 40));
    await until(() => !guard.admit(input(key)).ok);
    expect(guard.admit(input(key))).toMatchObject({ ok: false, type: 'rate_limited' });
  });

  it('two proxies on one bus find each other and share a request limit', async () => {
    const a = await proxy();
    const b = await proxy();
    await until(() => a.get(RateLimiter).liveProxies === 2 && b.get(RateLimiter).liveProxies === 2);
    const key = keyWith({ rate_limits: { requests_per_minute: 10 } });
    let admitted = 0;
    for (let i = 0; i < 20; i++) {
      admitted += Number(a.get(RateLimitGuard).admit(input(key)).ok);
      admitted += Number(b.get(RateLimitGuard).admit(input(key)).ok);
    }
    expect(admitted).toBe(10);
    // Each learns of the other's admissions from its report.
    await until(() => a.get(RateLimiter).used(key.id, 'requests') > 9.9);
    await until(() => b.get(RateLimiter).used(key.id, 'requests') > 9.9);
  });

  it('a proxy started mid-window learns what the running one admitted', async () => {
    const a = await proxy();
    const key = keyWith({ rate_limits: { requests_per_minute: 10 } });
    for (let i = 0; i < 7; i++) expect(a.get(RateLimitGuard).admit(input(key)).ok).toBe(true);
    const b = await proxy();
    await until(() => b.get(RateLimiter).used(key.id, 'requests') > 6.9);
    await until(() => b.get(RateLimiter).liveProxies === 2);
    let admitted = 0;
    for (let i = 0; i < 10; i++) admitted += Number(b.get(RateLimitGuard).admit(input(key)).ok);
    expect(admitted).toBeLessThanOrEqual(3);
  });
});
