// Re-pricings applied in batches (a re-pricing run's messages arriving back to back) on real PostgreSQL, over the
// in-process bus and over RabbitMQ (when installed): the aggregates afterwards equal a from-scratch rebuild, and a
// redelivery changes nothing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topics, type CostFields, type UsageRepricedV1 } from '@spendops/contracts';
import { EventStore, ProjectionRunner } from '@spendops/event-store';
import { InProcessBus, RabbitMqBus, type MessageBus } from '@spendops/messaging';
import { openDataSource, type OpenedDataSource } from '@spendops/persistence';
import {
  pricedUsage,
  rabbitMqAvailable,
  startPostgres,
  startRabbitMq,
  type RabbitMqInstance,
  type TestPostgres,
} from '@spendops/testing';
import type { DataSource } from 'typeorm';
import { LedgerEventTypes } from './ledger.events';
import { LEDGER_MIGRATIONS } from './ledger.module';
import { LedgerService } from './ledger.service';
import { AGGREGATE_TABLE_NAMES } from './projections/usage-aggregates.sql';
import { UsageEventsProjection } from './projections/usage-events.projection';
import { LEDGER_REPRICING_QUEUE, LedgerRepricingConsumer, applyRepricing } from './repricing.consumer';

jest.setTimeout(60_000);

const N = 300;
const HOUR = 3_600_000;
const BASE = Date.UTC(2026, 7, 1);

function cost(usd: string | null): CostFields {
  return {
    provider_cost: null,
    calculated_cost: usd,
    total_cost_usd: usd,
    cost_source: usd === null ? 'none' : 'standard',
    pricing_matched: usd !== null,
    pricing_model: usd === null ? '' : 'gpt-4o',
    pricing_version: 'v1',
  };
}

/** The recorded cost of request i: every 7th unpriced. */
const recordedCost = (i: number) => cost(i % 7 === 0 ? null : `0.00${(i % 5) + 1}`);

/**
 * Run 7 re-prices every request but: every 10th to the cost it already has (no event), every 11th to unpriced.
 * Run 8 re-prices every 8th request (from the 2nd) again, in the same burst: all of them changed by run 7
 * (pricing publishes only changes: a no-op message redelivered after a later run's change would be one).
 */
function messages(): UsageRepricedV1[] {
  const out: UsageRepricedV1[] = [];
  const msg = (i: number, run: string, c: CostFields): UsageRepricedV1 => ({
    request_id: `b-${i}`,
    previous: recordedCost(i),
    cost: c,
    reason: `override (run ${run})`,
    actor: 'api:alice',
    run_id: run,
    catalog_version: 'v1',
    overrides_version: 1,
  });
  for (let i = 0; i < N; i++)
    out.push(msg(i, '7', i % 10 === 0 ? recordedCost(i) : i % 11 === 0 ? cost(null) : cost(`0.1${i}`)));
  for (let i = 1; i < N; i += 8) out.push(msg(i, '8', cost(`0.25${i}`)));
  return out;
}

/**
 * Requests whose cost changes, per run: run 7 all but every 10th and those recorded unpriced that it leaves
 * unpriced; run 8 all of its own (from run 7's cost).
 */
const EXPECTED_EVENTS =
  Array.from({ length: N }, (_, i) => i).filter((i) => i % 10 !== 0 && !(i % 11 === 0 && i % 7 === 0))
    .length + Math.ceil((N - 1) / 8);

async function count(ds: DataSource, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await ds.query(sql, params);
  return Number(row.n);
}

async function until(probe: () => Promise<number>, want: number): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = await probe();
    if (v >= want || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Transport {
  bus: MessageBus;
  /** In-process only: the dead letters of the ledger's queue. */
  deadLetters?: () => { reason: string }[];
  close(): Promise<void>;
}

const TRANSPORTS: [name: string, start: () => Promise<Transport>][] = [
  [
    'in-process',
    async () => {
      const bus = new InProcessBus({ maxAttempts: 2, retryBaseMs: 5, retryMaxMs: 10 });
      return { bus, deadLetters: () => bus.deadLetters(LEDGER_REPRICING_QUEUE), close: () => bus.close() };
    },
  ],
];
if (rabbitMqAvailable())
  TRANSPORTS.push([
    'RabbitMQ',
    async () => {
      const broker: RabbitMqInstance = await startRabbitMq();
      const bus = new RabbitMqBus({ url: broker.url, maxAttempts: 2, retryBaseMs: 50, retryMaxMs: 100 });
      await bus.start();
      return {
        bus,
        async close() {
          await bus.close();
          await broker.stop();
        },
      };
    },
  ]);

describe.each(TRANSPORTS)('re-pricings applied in batches (%s bus)', (_name, startTransport) => {
  let pg: TestPostgres;
  let opened: OpenedDataSource;
  let dataDir: string;
  let ds: DataSource;
  let transport: Transport;
  let bus: MessageBus;
  let ledger: LedgerService;
  let runner: ProjectionRunner;

  /** Copies the view and the aggregates aside, rebuilds the projection, and counts the rows that differ. */
  async function differencesFromRebuild(): Promise<number> {
    const tables = ['usage_events_view', ...AGGREGATE_TABLE_NAMES];
    for (const t of tables) {
      await ds.query(`DROP TABLE IF EXISTS live_${t}`);
      await ds.query(`CREATE TABLE live_${t} AS SELECT * FROM ${t}`);
    }
    await runner.rebuild('usage_events_view');
    let n = 0;
    for (const t of tables) {
      // As jsonb: comparable with raw_usage (json) in it, and numbers compare by value (0.50 = 0.5).
      n += await count(
        ds,
        `SELECT count(*) AS n FROM (
           (SELECT to_jsonb(a) FROM ${t} a EXCEPT ALL SELECT to_jsonb(b) FROM live_${t} b)
           UNION ALL (SELECT to_jsonb(b) FROM live_${t} b EXCEPT ALL SELECT to_jsonb(a) FROM ${t} a)) d`,
      );
    }
    return n;
  }

  beforeAll(async () => {
    [pg, dataDir, transport] = await Promise.all([
      startPostgres(),
      mkdtemp(join(tmpdir(), 'spendops-reprice-batch-')),
      startTransport(),
    ]);
    bus = transport.bus;
    opened = await openDataSource({ databaseUrl: pg.url, dataDir, migrations: LEDGER_MIGRATIONS });
    ds = opened.dataSource;
    const store = new EventStore(ds);
    ledger = new LedgerService(store, ds);
    runner = new ProjectionRunner(ds, store, { pollMs: 60_000 });
    runner.register(new UsageEventsProjection());
    await new LedgerRepricingConsumer(bus, ledger).onApplicationBootstrap();
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        ledger.recordUsage(
          pricedUsage({
            request_id: `b-${i}`,
            tenant_id: `t${i % 3}`,
            api_key_id: `k${i % 5}`,
            request_model: i % 2 ? 'gpt-4o' : 'gpt-4o-mini',
            dims: i % 3 ? { team: `team${i % 4}` } : {},
            started_at_ms: BASE + (i % 30) * HOUR,
            origin: 'proxy',
            usage: { prompt_tokens: 100 + i, completion_tokens: 10, total_tokens: 110 + i },
            cost: recordedCost(i),
          }),
        ),
      ),
    );
    await runner.catchUp();
  }, 60_000);

  afterAll(async () => {
    await transport?.close();
    await opened?.close();
    await pg?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('appends each change once, in few transactions, and the aggregates equal a rebuild', async () => {
    // Back to back, as a run publishes them, plus (in-process) one for a request never recorded.
    for (const m of messages())
      await bus.publish(Topics.usageRepriced, m, { messageId: `reprice:${m.run_id}:${m.request_id}` });
    const { deadLetters } = transport;
    if (deadLetters) await bus.publish(Topics.usageRepriced, { ...messages()[1], request_id: 'b-never' });
    const repriced = () =>
      count(ds, 'SELECT count(*) AS n FROM events WHERE type = $1', [LedgerEventTypes.usageRepriced]);
    expect(await until(repriced, EXPECTED_EVENTS)).toBe(EXPECTED_EVENTS);
    if (deadLetters) {
      // A request never recorded fails alone (retried, then dead-lettered); the rest of its batch is stored.
      expect(await until(async () => deadLetters().length, 1)).toBe(1);
      expect(deadLetters()[0].reason).toMatch(/no usage event with request_id b-never/);
    }
    if (deadLetters) {
      // Group commit: the messages in flight together shared a transaction. (In-process, the whole burst is
      // delivered at once; over RabbitMQ it trickles in at the publisher's confirm rate, so batches vary.)
      const transactions = await count(
        ds,
        'SELECT count(DISTINCT transaction_id) AS n FROM events WHERE type = $1',
        [LedgerEventTypes.usageRepriced],
      );
      expect(transactions).toBeLessThan(EXPECTED_EVENTS / 10);
    }
    // Run 8's re-pricing of a request follows run 7's, each with its own event and the right previous cost.
    const history = await ledger.costHistory('b-9');
    expect(history.map((h) => h.cost.total_cost_usd)).toEqual(['0.005', '0.19', '0.259']);
    expect(history.map((h) => h.reason)).toEqual([null, 'override (run 7)', 'override (run 8)']);
    expect(await ledger.costHistory('b-10')).toHaveLength(1); // run 7 left it as it was

    // One projection batch holds them all (a request re-priced twice in it ends at its last cost).
    expect(await runner.catchUpOne('usage_events_view')).toBe(EXPECTED_EVENTS);
    const [b9] = await ds.query(
      `SELECT total_cost_usd::text AS c, cost_source FROM usage_events_view WHERE request_id = 'b-9'`,
    );
    expect(b9).toEqual({ c: '0.259', cost_source: 'standard' });
    const [b11] = await ds.query(
      `SELECT total_cost_usd, cost_source FROM usage_events_view WHERE request_id = 'b-11'`,
    );
    expect(b11).toEqual({ total_cost_usd: null, cost_source: 'none' });
    const [totals] = await ds.query(
      `SELECT sum(requests)::int AS requests, sum(cost_usd)::text AS cost, sum(unpriced_requests)::int AS unpriced
       FROM usage_totals WHERE bucket = 'day'`,
    );
    const [view] = await ds.query(
      `SELECT count(*)::int AS requests, coalesce(sum(total_cost_usd), 0)::text AS cost,
         count(*) FILTER (WHERE total_cost_usd IS NULL)::int AS unpriced FROM usage_events_view`,
    );
    expect(totals).toEqual(view);
    expect(await differencesFromRebuild()).toBe(0);
  });

  it('a redelivery of the whole burst appends nothing and moves no aggregate', async () => {
    const before = await count(ds, 'SELECT count(*) AS n FROM events');
    // Through the handler at once (as a batch) ...
    const results = await Promise.all(messages().map((m) => applyRepricing(ledger, m).then(() => m)));
    expect(results).toHaveLength(messages().length);
    // ... and over the bus, followed by one real change: once that is stored, everything before it was handled
    // (delivered in order; the batcher applies in the order it was handed).
    for (const m of messages())
      await bus.publish(Topics.usageRepriced, m, { messageId: `reprice:${m.run_id}:${m.request_id}` });
    await bus.publish(Topics.usageRepriced, { ...messages()[1], run_id: '9', cost: cost('9.99') });
    expect(await until(() => count(ds, 'SELECT count(*) AS n FROM events'), before + 1)).toBe(before + 1);
    expect((await ledger.costHistory('b-1')).map((h) => h.cost.total_cost_usd)).toEqual([
      '0.002',
      '0.11',
      '0.251',
      '9.99',
    ]);
    // Run 7's message for b-9 comes again after run 8 changed its cost: still a redelivery (its run's re-pricing
    // is stored), not a change back.
    expect(await runner.catchUpOne('usage_events_view')).toBe(1);
    expect(await differencesFromRebuild()).toBe(0);
  });
});
