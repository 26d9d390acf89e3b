// usage.ingest.v1 through the real pricing service into the ledger (two apps on one in-process bus), so it lives
// with the end-to-end tests.
// usage.ingest.v1 end to end on the real in-process bus: the real PricingModule prices what a trusted producer
// published, the real LedgerModule stores it once per request id (however often it is delivered), marks it as
// ingested without changing the EVENT, and the outbox publishes it as usage.recorded.v1.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Test, type TestingModule } from '@nestjs/testing';
import { Topics, type UsageEventView, type UsagePricedV1 } from '@spendops/contracts';
import { EventStore, EventStoreModule } from '@spendops/event-store';
import { InProcessBus, MESSAGE_BUS, type Envelope } from '@spendops/messaging';
import { PersistenceModule } from '@spendops/persistence';
import { startPostgres, type TestPostgres } from '@spendops/testing';
// Test-only: the real pricing service in front of the ledger, as in the all-in-one process.
import { PricingModule } from '../apps/pricing/src';
import {
  LEDGER_MIGRATIONS,
  LEDGER_QUEUES,
  LedgerEventTypes,
  LedgerModule,
  LedgerQueries,
  LedgerService,
} from '../apps/ledger/src';

jest.setTimeout(30_000);

let pg: TestPostgres;
let app: TestingModule;
let bus: InProcessBus;
let store: EventStore;
let queries: LedgerQueries;
const recorded: Envelope<UsageEventView>[] = [];
const pricedIds: string[] = [];

beforeAll(async () => {
  pg = await startPostgres();
  bus = new InProcessBus({ maxAttempts: 3, retryBaseMs: 5, retryMaxMs: 20 });
  await bus.subscribe<UsageEventView>('test.recorded', [Topics.usageRecorded], async (_b, env) => {
    recorded.push(env);
  });
  await bus.subscribe<UsagePricedV1>('test.priced-ids', [Topics.usagePriced], async (p) => {
    pricedIds.push(p.request_id);
  });
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
      PricingModule.forRoot(),
      LedgerModule,
    ],
  }).compile();
  await app.init();
  store = app.get(EventStore);
  queries = app.get(LedgerQueries);
});

afterAll(async () => {
  await app?.close();
  await bus?.close();
  await pg?.stop();
});

/** Polls to a deadline, not a count of polls (300 × 20 ms ran out after ~6 s, sooner than a busy machine needs). */
async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The smallest message a trusted producer may send (pricing fills the rest with zero values). */
function ingest(requestId: string, promptTokens = 1000) {
  return {
    request_id: requestId,
    tenant_id: 'acme',
    api_key_id: 'batch-job',
    provider: 'anthropic',
    endpoint: '/v1/messages',
    dims: { team: 'research' },
    started_at_ms: Date.UTC(2026, 7, 1, 9),
    ended_at_ms: Date.UTC(2026, 7, 1, 9, 0, 2),
    usage: {
      model: 'claude-sonnet-4-5',
      prompt_tokens: promptTokens,
      completion_tokens: 100,
      total_tokens: promptTokens + 100,
      endpoint_class: 'messages',
    },
  };
}

describe('usage.ingest.v1 through pricing into the ledger', () => {
  it('is priced, stored once per request id, queryable and published as usage.recorded.v1', async () => {
    await bus.publish(Topics.usageIngest, ingest('ing-1'));
    await bus.publish(Topics.usageIngest, ingest('ing-1')); // a redelivery
    await until(
      'stored',
      async () => (await queries.findEvents({ request_id: 'ing-1' })).events.length === 1,
    );
    // A later message reusing the request id (other numbers) changes nothing: the first write wins.
    await bus.publish(Topics.usageIngest, ingest('ing-1', 5));
    await until('all three priced', () => pricedIds.filter((id) => id === 'ing-1').length === 3);
    await until('outbox', () => recorded.some((e) => e.payload.request_id === 'ing-1'));
    await new Promise((r) => setTimeout(r, 200));

    const stream = await store.readStream('ing-1');
    expect(stream.map((e) => e.type).sort()).toEqual([
      LedgerEventTypes.usageIngested,
      LedgerEventTypes.usageRecorded,
    ]);
    const [event] = (await queries.findEvents({ request_id: 'ing-1' })).events;
    // 1000 × $3/M + 100 × $15/M
    expect(event).toMatchObject({
      tenant_id: 'acme',
      api_key_id: 'batch-job',
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      prompt_tokens: 1000,
      total_tokens: 1100,
      total_cost_usd: '0.004500000',
      cost_source: 'standard',
      usage_source: 'provider',
      outcome: 'completed',
      dims: { team: 'research' },
      ts: '2026-08-01T09:00:00.000Z',
    });
    // The EVENT shape is the proxied one: the same fields, nothing added.
    const golden = JSON.parse(
      readFileSync(join(__dirname, '..', 'apps', 'ledger', 'src', 'fixtures', 'event.golden.json'), 'utf8'),
    );
    expect(Object.keys(event)).toEqual(Object.keys(golden));

    const published = recorded.filter((e) => e.payload.request_id === 'ing-1');
    expect(published).toHaveLength(1);
    expect(published[0].payload).toEqual(event);
    expect(published[0].id).toBe(stream.find((e) => e.type === LedgerEventTypes.usageRecorded)!.event_id);
  });

  it("keeps the producer's message as UsageIngested, marked source: ingest", async () => {
    await bus.publish(Topics.usageIngest, ingest('ing-2'));
    await until('stored', async () => (await store.readStream('ing-2')).length === 2);
    const receipt = (await store.readStream('ing-2')).find((e) => e.type === LedgerEventTypes.usageIngested)!;
    expect(receipt.metadata).toEqual({ source: 'ingest', topic: Topics.usageIngest });
    expect(receipt.data).toEqual(ingest('ing-2'));
  });

  it('marks the UsageRecorded event by the origin pricing set, and proxied usage as proxy', async () => {
    const priced = await new Promise<UsagePricedV1>((resolve) => {
      void bus.subscribe<UsagePricedV1>('test.priced', [Topics.usagePriced], async (p) => {
        if (p.request_id === 'ing-3') resolve(p);
      });
      void bus.publish(Topics.usageIngest, ingest('ing-3'));
    });
    await until('stored', async () => (await store.readStream('ing-3')).length === 2);
    const metaOf = async (id: string) =>
      (await store.readStream(id)).find((e) => e.type === LedgerEventTypes.usageRecorded)?.metadata;

    // Pricing's stamp decides when present (whatever the stream holds)...
    await bus.publish(Topics.usagePriced, { ...priced, request_id: 'stamped', origin: 'ingest' });
    await bus.publish(Topics.usagePriced, { ...priced, request_id: 'proxied', origin: 'proxy' });
    // ...and without one, a receipt in the stream does; none means the proxy.
    await app.get(LedgerService).recordIngestReceipt({ request_id: 'receipt-first' });
    // A producer older than the stamp: the same message without `origin`.
    const { origin: stamped, ...unstampedPriced } = priced;
    expect(stamped).toBe('ingest');
    await bus.publish(Topics.usagePriced, { ...unstampedPriced, request_id: 'receipt-first' });
    await bus.publish(Topics.usagePriced, { ...unstampedPriced, request_id: 'unstamped' });
    await until(
      'stored',
      async () => (await metaOf('unstamped')) !== undefined && (await metaOf('proxied')) !== undefined,
    );
    await until('stored', async () => (await metaOf('stamped')) !== undefined);
    expect(await metaOf('stamped')).toEqual({ source: 'ingest', topic: Topics.usagePriced });
    expect(await metaOf('proxied')).toEqual({ source: 'proxy', topic: Topics.usagePriced });
    expect(await metaOf('unstamped')).toEqual({ source: 'proxy', topic: Topics.usagePriced });
    await until('stored', async () => (await metaOf('receipt-first')) !== undefined);
    expect(await metaOf('receipt-first')).toEqual({ source: 'ingest', topic: Topics.usagePriced });
  });

  it('dead-letters an ingest message without a request id at once (both consumers)', async () => {
    await bus.publish(Topics.usageIngest, { tenant_id: 'acme', provider: 'openai', usage: {} });
    await until('dead-lettered', () => bus.deadLetters(LEDGER_QUEUES.ingest).length === 1);
    await until('dead-lettered', () => bus.deadLetters('pricing').length === 1);
    expect(bus.deadLetters(LEDGER_QUEUES.ingest)[0]).toMatchObject({ envelope: { attempt: 1 } });
  });
});
