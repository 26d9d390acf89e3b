// The ledger's usage.repriced.v1 consumer on real PostgreSQL and the real in-process bus.
import { Topics, type CostFields, type UsagePricedV1, type UsageRepricedV1 } from '@spendops/contracts';
import { EventStore } from '@spendops/event-store';
import { InProcessBus } from '@spendops/messaging';
import { pricedUsage, startTestDatabase, type TestDatabase } from '@spendops/testing';
import { LEDGER_MIGRATIONS } from './ledger.module';
import { LedgerService } from './ledger.service';
import { LEDGER_REPRICING_QUEUE, LedgerRepricingConsumer } from './repricing.consumer';

jest.setTimeout(30_000);

const UNPRICED: CostFields = {
  provider_cost: null,
  calculated_cost: null,
  total_cost_usd: null,
  cost_source: 'none',
  pricing_matched: false,
  pricing_model: '',
  pricing_version: 'builtin-abc',
};
const CUSTOM: CostFields = {
  provider_cost: null,
  calculated_cost: '0.0014',
  total_cost_usd: '0.0014',
  cost_source: 'custom',
  pricing_matched: true,
  pricing_model: 'override:gpt-new-*',
  pricing_version: 'builtin-abc+ov1',
};

/** Stored unpriced: a model no catalog knows. */
function priced(requestId: string): UsagePricedV1 {
  const at = Date.UTC(2026, 7, 1, 12);
  return pricedUsage({
    request_id: requestId,
    request_model: 'gpt-new-1',
    started_at_ms: at,
    first_byte_at_ms: at,
    ended_at_ms: at,
    usage: { prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 },
    cost: UNPRICED,
  });
}

function repriced(requestId: string, over: Partial<UsageRepricedV1> = {}): UsageRepricedV1 {
  return {
    request_id: requestId,
    previous: UNPRICED,
    cost: CUSTOM,
    reason: 'override 1 added (run 7)',
    actor: 'api:alice',
    run_id: '7',
    catalog_version: 'builtin-abc',
    overrides_version: 1,
    ...over,
  };
}

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; ; i++) {
    const v = await probe();
    if (ok(v) || i > 400) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('LedgerRepricingConsumer', () => {
  let db: TestDatabase;
  let bus: InProcessBus;
  let ledger: LedgerService;

  beforeAll(async () => {
    db = await startTestDatabase(LEDGER_MIGRATIONS);
    ledger = new LedgerService(new EventStore(db.dataSource), db.dataSource);
    bus = new InProcessBus({ maxAttempts: 3, retryBaseMs: 5, retryMaxMs: 20 });
    await new LedgerRepricingConsumer(bus, ledger).onApplicationBootstrap();
  }, 60_000);

  afterAll(async () => {
    await bus?.close();
    await db?.close();
  });

  it('appends UsageRepriced with the old and new cost, reason and actor; a redelivery appends nothing', async () => {
    await ledger.recordUsage(priced('rp-1'));
    const msg = repriced('rp-1');
    await bus.publish(Topics.usageRepriced, msg, { messageId: 'reprice:7:rp-1' });
    const history = await until(
      () => ledger.costHistory('rp-1'),
      (h) => h.length === 2,
    );
    expect(history.map((h) => [h.cost.cost_source, h.cost.total_cost_usd, h.reason, h.actor])).toEqual([
      ['none', null, null, null],
      ['custom', '0.0014', 'override 1 added (run 7)', 'api:alice'],
    ]);
    // the same message again (at-least-once delivery), and once more under another id
    await bus.publish(Topics.usageRepriced, msg, { messageId: 'reprice:7:rp-1' });
    await bus.publish(Topics.usageRepriced, msg);
    await new Promise((r) => setTimeout(r, 100));
    expect(await ledger.costHistory('rp-1')).toHaveLength(2);
    // a later run taking the price away again is a new event: the history keeps all three
    await bus.publish(
      Topics.usageRepriced,
      repriced('rp-1', { previous: CUSTOM, cost: UNPRICED, run_id: '8' }),
    );
    const after = await until(
      () => ledger.costHistory('rp-1'),
      (h) => h.length === 3,
    );
    expect(after[2].cost).toEqual(UNPRICED);
  });

  it('dead-letters a malformed message at once, and an unknown request after its retries', async () => {
    await bus.publish(Topics.usageRepriced, { request_id: 'rp-x' });
    await bus.publish(Topics.usageRepriced, repriced('never-recorded'));
    const dead = await until(
      async () => bus.deadLetters(LEDGER_REPRICING_QUEUE),
      (d) => d.length === 2,
    );
    expect(dead.map((d) => d.reason).join('\n')).toMatch(/without request_id or cost/);
    expect(dead.map((d) => d.reason).join('\n')).toMatch(/no usage event with request_id never-recorded/);
    expect(await ledger.costHistory('never-recorded')).toEqual([]);
  });
});
