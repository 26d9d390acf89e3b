// The budgets inside the real LedgerModule (as `spendops serve` composes it): commands served on the bus, the
// budgets projection first in the runner's pass, and crossings still appended while the bus refuses the
// usage.recorded outbox's publishes (an outage must not hold back budget alerts).
import type { TestingModule } from '@nestjs/testing';
import {
  BudgetEventTypes,
  Commands,
  Topics,
  type BudgetsCreateReply,
  type UsagePricedV1,
} from '@spendops/contracts';
import { EventStore, ProjectionRunner } from '@spendops/event-store';
import { BusUnavailableError, InProcessBus } from '@spendops/messaging';
import { pricedUsage, startPostgresModule, type PostgresTestModule } from '@spendops/testing';
import { LEDGER_PROJECTIONS } from '../ledger-projections';
import { LEDGER_MIGRATIONS, LedgerModule } from '../ledger.module';
import { LedgerService } from '../ledger.service';
import { BUDGETS_PROJECTION } from './budgets.projection';

jest.setTimeout(30_000);

function priced(requestId: string, total: string): UsagePricedV1 {
  const at = Date.now();
  return pricedUsage({
    request_id: requestId,
    tenant_id: 'mod',
    api_key_id: 'k',
    started_at_ms: at,
    first_byte_at_ms: at,
    ended_at_ms: at,
    cost: { calculated_cost: total, total_cost_usd: total, pricing_version: 'v1' },
  });
}

let pgModule: PostgresTestModule<InProcessBus>;
let app: TestingModule;
let bus: InProcessBus;

beforeAll(async () => {
  pgModule = await startPostgresModule({
    migrations: LEDGER_MIGRATIONS,
    eventStore: { pollMs: 50 },
    bus: new InProcessBus({ maxAttempts: 3, retryBaseMs: 5, retryMaxMs: 20 }),
    imports: [LedgerModule],
  });
  ({ module: app, bus } = pgModule);
}, 60_000);

afterAll(async () => {
  await pgModule?.close();
});

it('runs the budgets projection first, and appends crossings while the outbox cannot publish', async () => {
  const runner = app.get(ProjectionRunner);
  expect(runner.names()[0]).toBe(BUDGETS_PROJECTION);
  expect(runner.names()).toContain(LEDGER_PROJECTIONS.outbox);

  const { budget } = await bus.request<object, BudgetsCreateReply>(Commands.budgetsCreate, {
    spec: { name: 'module', period: 'day', amount_usd: '1', thresholds: [100], scope: { tenant: 'mod' } },
    actor: 'test',
  });

  // The broker goes away for usage.recorded.v1: every outbox batch fails and rolls back.
  const publish = bus.publish.bind(bus);
  let refused = 0;
  bus.publish = async (topic, payload, options) => {
    if (topic === Topics.usageRecorded) {
      refused++;
      throw new BusUnavailableError('test outage');
    }
    return publish(topic, payload, options);
  };
  const ledger = app.get(LedgerService);
  await ledger.recordUsage(priced('mod-0', '0.10'));
  for (let i = 0; i < 500 && refused === 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(refused).toBeGreaterThan(0); // the outbox is failing now
  await ledger.recordUsage(priced('mod-1', '0.90'));

  const store = app.get(EventStore);
  let crossed = 0;
  for (let i = 0; i < 500 && crossed === 0; i++) {
    const stream = await store.readStream(`budget:${budget.id}`);
    crossed = stream.filter((e) => e.type === BudgetEventTypes.thresholdCrossed).length;
    if (crossed === 0) await new Promise((r) => setTimeout(r, 10));
  }
  expect(crossed).toBe(1);
  const outbox = await runner.checkpointOf(LEDGER_PROJECTIONS.outbox);
  expect(outbox.global_position).toBe('0'); // still nothing published
  bus.publish = publish;
});
