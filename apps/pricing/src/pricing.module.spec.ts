// The pricing service end to end on the real in-process bus: usage in, priced usage out, poison dead-lettered,
// admin commands over request/reply.
import { Test, type TestingModule } from '@nestjs/testing';
import {
  Commands,
  Topics,
  type PricingModelGetResponse,
  type PricingModelsListResponse,
  type PricingOverridesResponse,
  type PricingUnpricedListResponse,
  type UsagePricedV1,
} from '@spendops/contracts';
import { InProcessBus } from '@spendops/messaging';
import { captureMessages, globalBusModule, type CapturedMessages } from '@spendops/testing';
import { PricingModule } from './pricing.module';
import { extractedEvent } from './testing/usage-builder';

describe('PricingModule', () => {
  let app: TestingModule;
  let bus: InProcessBus;
  let captured: CapturedMessages<UsagePricedV1>;

  beforeAll(async () => {
    bus = new InProcessBus({ maxAttempts: 3, retryBaseMs: 5, retryMaxMs: 20 });
    captured = await captureMessages<UsagePricedV1>(bus, 'ledger-test', [Topics.usagePriced]);
    app = await Test.createTestingModule({
      imports: [globalBusModule(bus), PricingModule.forRoot()],
    }).compile();
    await app.init();
  });

  afterAll(async () => {
    await app.close();
    await bus.close();
  });

  it('prices usage.extracted.v1 and publishes usage.priced.v1 keyed by request id', async () => {
    const e = extractedEvent(
      'openai',
      'gpt-4o',
      { prompt_tokens: 10000, cache_read_tokens: 4000, completion_tokens: 500 },
      {},
      { request_id: 'req-a' },
    );
    await bus.publish(Topics.usageExtracted, e);
    await captured.waitFor(1);
    const env = captured.envelopes.find((p) => p.payload.request_id === 'req-a')!;
    expect(env.id).toBe('req-a');
    expect(env.payload.cost).toMatchObject({
      total_cost_usd: '0.025',
      cost_source: 'standard',
      pricing_model: 'gpt-4o',
    });
    expect(env.payload.usage).toEqual(e.usage);
    expect(env.payload.tenant_id).toBe(e.tenant_id);
  });

  it('prices usage.ingest.v1 from trusted producers, filling fields they left out', async () => {
    const n = captured.envelopes.length;
    await bus.publish(Topics.usageIngest, {
      request_id: 'req-ingest',
      tenant_id: 'acme',
      provider: 'anthropic',
      started_at_ms: Date.UTC(2026, 7, 1),
      usage: {
        model: 'claude-sonnet-4-5',
        prompt_tokens: 1000,
        completion_tokens: 100,
        endpoint_class: 'messages',
      },
    });
    await captured.waitFor(n + 1);
    const p = captured.envelopes.find((x) => x.payload.request_id === 'req-ingest')!.payload;
    // 1000 × 3 + 100 × 15
    expect(p.cost).toMatchObject({ total_cost_usd: '0.0045', cost_source: 'standard' });
    expect(p.usage.cache_read_tokens).toBe(0);
  });

  it('dead-letters a message of the wrong shape at once, without retries', async () => {
    await bus.publish(Topics.usageExtracted, {
      request_id: 'req-bad',
      tenant_id: 't',
      provider: 'openai',
      usage: { prompt_tokens: -5 },
    });
    await waitFor(() => bus.deadLetters('pricing').length > 0);
    const [dl] = bus.deadLetters('pricing');
    expect(dl.reason).toMatch(/usage\.prompt_tokens must be a non-negative integer/);
    expect(dl.envelope.attempt).toBe(1);
    expect(captured.envelopes.some((p) => p.payload.request_id === 'req-bad')).toBe(false);
  });

  it('lists unpriced models seen, with counts, and never prices them at $0', async () => {
    const n = captured.envelopes.length;
    for (const id of ['u1', 'u2']) {
      await bus.publish(
        Topics.usageExtracted,
        extractedEvent('openai', 'gpt-unknown-9', { prompt_tokens: 10 }, {}, { request_id: id }),
      );
    }
    await captured.waitFor(n + 2);
    expect(captured.envelopes.find((p) => p.payload.request_id === 'u1')!.payload.cost).toMatchObject({
      total_cost_usd: null,
      cost_source: 'none',
    });
    const res = await bus.request<unknown, PricingUnpricedListResponse>(Commands.pricingUnpricedList, {});
    expect(res.models).toEqual([{ provider: 'openai', model: 'gpt-unknown-9', events: 2, cost_known: 0 }]);
  });

  it('serves pricing.models.list with expense tiers, filtered by provider', async () => {
    const res = await bus.request<unknown, PricingModelsListResponse>(Commands.pricingModelsList, {
      provider: 'anthropic',
    });
    expect(res.version).toMatch(/^builtin-/);
    expect(res.models.length).toBeGreaterThan(10);
    expect(res.models.every((m) => m.provider === 'anthropic')).toBe(true);
    const sonnet = res.models.find((m) => m.model === 'claude-sonnet-4-5')!;
    expect(sonnet.current.rates).toMatchObject({ input: '3', output: '15' });
    expect(sonnet.expense).toMatchObject({ tier: '$$$' });
    expect(sonnet.prices).toBeUndefined();
  });

  it('serves pricing.model.get for a name as a request sends it, and rejects unknown names', async () => {
    const res = await bus.request<unknown, PricingModelGetResponse>(Commands.pricingModelGet, {
      model: 'gpt-4o-2024-08-06',
      provider: 'openai',
    });
    expect(res.models).toHaveLength(1);
    expect(res.models[0]).toMatchObject({ provider: 'openai', model: 'gpt-4o' });
    expect(res.models[0].prices!.length).toBeGreaterThan(0);
    await expect(bus.request(Commands.pricingModelGet, { model: 'no-such-model' })).rejects.toThrow(
      /no price for model no-such-model/,
    );
    await expect(bus.request(Commands.pricingModelGet, {})).rejects.toThrow(/model is required/);
  });

  it('applies an override added over the bus to later events, and stops after delete', async () => {
    await expect(
      bus.request(Commands.pricingOverridesAdd, { tenant_id: 'acme', model: 'gpt-4o*', markup_pct: '-100' }),
    ).rejects.toThrow(/above -100/);
    const added = await bus.request<unknown, PricingOverridesResponse>(Commands.pricingOverridesAdd, {
      tenant_id: 'acme',
      provider: 'openai',
      model: 'gpt-4o*',
      rates: { input: '2', output: '8' },
    });
    expect(added.version).toBe(1);
    const id = added.overrides[0].id;
    const n = captured.envelopes.length;
    const ev = (rid: string) =>
      extractedEvent(
        'openai',
        'gpt-4o',
        { prompt_tokens: 10000, cache_read_tokens: 4000, completion_tokens: 500 },
        {},
        { request_id: rid, tenant_id: 'acme' },
      );
    await bus.publish(Topics.usageExtracted, ev('ov-1'));
    await captured.waitFor(n + 1);
    // 10000 × 2 + 500 × 8
    expect(captured.envelopes.find((p) => p.payload.request_id === 'ov-1')!.payload.cost).toMatchObject({
      total_cost_usd: '0.024',
      cost_source: 'custom',
    });
    expect(
      captured.envelopes.find((p) => p.payload.request_id === 'ov-1')!.payload.cost.pricing_version,
    ).toMatch(/\+ov1$/);
    const after = await bus.request<unknown, PricingOverridesResponse>(Commands.pricingOverridesDelete, {
      id,
    });
    expect(after).toEqual({ version: 2, overrides: [] });
    await expect(bus.request(Commands.pricingOverridesDelete, { id })).rejects.toThrow(/no override/);
    await bus.publish(Topics.usageExtracted, ev('ov-2'));
    await captured.waitFor(n + 2);
    expect(captured.envelopes.find((p) => p.payload.request_id === 'ov-2')!.payload.cost).toMatchObject({
      total_cost_usd: '0.025',
      cost_source: 'standard',
    });
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
