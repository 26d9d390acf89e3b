// "A consumer that is down for a while receives every usage.recorded.v1 it missed when it comes back": an
// integration's durable queue is bound before the outage; while its consumer takes nothing and the bus
// refuses some publishes, usage keeps being recorded and re-priced; when the consumer is back it gets every
// message (some twice: at least once), deduplicates by message id, and sees each request's messages in order.
import { Test, type TestingModule } from '@nestjs/testing';
import { Topics, type UsageEventView, type UsagePricedV1 } from '@spendops/contracts';
import { EventStore, EventStoreModule, ProjectionRunner } from '@spendops/event-store';
import { InProcessBus, MESSAGE_BUS, type Envelope } from '@spendops/messaging';
import { PersistenceModule } from '@spendops/persistence';
import { pricedUsage, startPostgres, type TestPostgres } from '@spendops/testing';
import { LedgerEventTypes } from './ledger.events';
import { LEDGER_PROJECTIONS } from './ledger-projections';
import { LEDGER_MIGRATIONS, LedgerModule } from './ledger.module';
import { LedgerService } from './ledger.service';

jest.setTimeout(30_000);

/** The 60 recorded requests: unpriced, so the one re-pricing below is a real change. */
function priced(i: number): UsagePricedV1 {
  return pricedUsage({
    request_id: `out-${i}`,
    tenant_id: 'default',
    api_key_id: 'k',
    started_at_ms: Date.UTC(2030, 1, 1) + i,
    first_byte_at_ms: 0,
    ended_at_ms: 0,
    usage: { prompt_tokens: i, total_tokens: i, raw_usage: null },
    cost: { cost_source: 'none', pricing_matched: false, pricing_model: '', pricing_version: 'v1' },
  });
}

let pg: TestPostgres;
let app: TestingModule;
let bus: InProcessBus;

beforeAll(async () => {
  pg = await startPostgres();
  bus = new InProcessBus({ maxAttempts: 3, retryBaseMs: 5, retryMaxMs: 20 });
  const busModule = {
    module: class TestBusModule {},
    global: true,
    providers: [{ provide: MESSAGE_BUS, useValue: bus }],
    exports: [MESSAGE_BUS],
  };
  app = await Test.createTestingModule({
    imports: [
      PersistenceModule.forRoot({
        databaseUrl: pg.url,
        dataDir: '/nonexistent',
        migrations: LEDGER_MIGRATIONS,
      }),
      EventStoreModule.forRoot({ pollMs: 20, listen: false }),
      busModule,
      LedgerModule,
    ],
  }).compile();
  await app.init(); // the projection runner (outbox included) runs in the background from here
});

afterAll(async () => {
  await app?.close();
  await bus?.close();
  await pg?.stop();
});

it('a consumer down for a while receives every usage.recorded.v1 it missed, in order per request', async () => {
  const ledger = app.get(LedgerService);
  const store = app.get(EventStore);
  const runner = app.get(ProjectionRunner);

  // Bound before the outage; "down" = it takes no message (they wait in its queue, as in a broker).
  let comeBack!: () => void;
  const down = new Promise<void>((resolve) => (comeBack = resolve));
  const received: Envelope<UsageEventView>[] = [];
  await bus.subscribe<UsageEventView>(
    'integration.billing',
    [Topics.usageRecorded],
    async (_body, env) => {
      await down;
      received.push(env);
    },
    { prefetch: 1 },
  );

  // Meanwhile the bus refuses out-0's recording: every outbox batch holds it (the checkpoint cannot pass it), so
  // each batch fails after publishing the others, and is republished. It stays away until a failed batch has
  // carried the last re-pricing, so every message but out-0's has gone out at least once before the bus is back
  // (waiting for that, not a fixed time: under load the outbox may not have run at all in a few hundred ms).
  const publish = bus.publish.bind(bus);
  let flaky = true;
  let lastTriedWhileAway = false;
  const spy = jest.spyOn(bus, 'publish').mockImplementation(async (topic, payload, options) => {
    const view = payload as UsageEventView;
    if (flaky && topic === Topics.usageRecorded) {
      if (view.request_id === 'out-0') throw new Error('bus away');
      if (view.request_id === 'out-7' && view.total_cost_usd === '0.750000000') lastTriedWhileAway = true;
    }
    return publish(topic, payload, options);
  });
  const poll = async (done: () => Promise<boolean> | boolean, ms: number) => {
    for (const deadline = Date.now() + ms; !(await done()) && Date.now() < deadline;)
      await new Promise((r) => setTimeout(r, 20));
  };
  try {
    for (let i = 0; i < 60; i++) await ledger.recordUsage(priced(i));
    // A re-pricing during the outage publishes the request again, after its recording.
    const repriced = {
      ...priced(7).cost,
      total_cost_usd: '0.5',
      calculated_cost: '0.5',
      cost_source: 'standard' as const,
    };
    await ledger.appendRepricing('out-7', repriced, 'price added', 'test');
    await ledger.appendRepricing('out-7', { ...repriced, total_cost_usd: '0.75' }, 'fix', 'test');
    await poll(() => lastTriedWhileAway, 15_000);
    expect(lastTriedWhileAway).toBe(true);
    expect((await runner.lag())[LEDGER_PROJECTIONS.outbox]).toBe(62); // nothing counted as sent yet
    flaky = false;
    // The outbox caught up only once every message was accepted.
    await poll(async () => (await runner.lag())[LEDGER_PROJECTIONS.outbox] === 0, 15_000);
    expect((await runner.lag())[LEDGER_PROJECTIONS.outbox]).toBe(0);
    expect(received).toHaveLength(0); // still down
  } finally {
    spy.mockRestore();
  }

  comeBack();
  const events = (
    await Promise.all(Array.from({ length: 60 }, (_, i) => store.readStream(`out-${i}`)))
  ).flat();
  const expectedIds = events
    .filter((e) => e.type !== LedgerEventTypes.usageIngested)
    .map((e) => e.event_id)
    .sort();
  expect(expectedIds).toHaveLength(62);
  await poll(() => new Set(received.map((e) => e.id)).size >= 62, 15_000);

  // Every message arrived; all but out-0's more than once (the failed batches): a consumer drops them by id.
  const firstOf = new Map<string, Envelope<UsageEventView>>();
  for (const env of received) if (!firstOf.has(env.id)) firstOf.set(env.id, env);
  expect([...firstOf.keys()].sort()).toEqual(expectedIds);
  expect(received.length).toBeGreaterThanOrEqual(62 + 61);
  // In order per request id: the recording, then each re-pricing.
  const forOut7 = [...firstOf.values()].filter((e) => e.payload.request_id === 'out-7');
  expect(forOut7.map((e) => e.payload.total_cost_usd)).toEqual([null, '0.500000000', '0.750000000']);
  const seenOrder = received
    .filter((e) => e.payload.request_id === 'out-7')
    .map((e) => e.payload.total_cost_usd);
  expect(seenOrder.indexOf('0.500000000')).toBeGreaterThan(seenOrder.indexOf(null));
  expect(seenOrder.lastIndexOf('0.750000000')).toBeGreaterThan(seenOrder.lastIndexOf('0.500000000'));
});
