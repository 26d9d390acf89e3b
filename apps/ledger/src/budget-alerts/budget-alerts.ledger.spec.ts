// The whole path inside a real ledger: a budget created through budgets-core's BudgetService (which stores the
// webhook secret), usage recorded by the LedgerService, the budgets projection appending BudgetThresholdCrossed,
// and this module delivering it, signed with the secret the create command returned.
import { randomBytes } from 'node:crypto';
import type { TestingModule } from '@nestjs/testing';
import { Commands, type BudgetsAlertsReply, type UsagePricedV1 } from '@spendops/contracts';
import { InProcessBus } from '@spendops/messaging';
import { pricedUsage, startPostgresModule, type PostgresTestModule } from '@spendops/testing';
import { BudgetService } from '../budgets';
import { LEDGER_MIGRATIONS, LedgerModule } from '../ledger.module';
import { LedgerService } from '../ledger.service';
import { BUDGET_ALERTS_MIGRATIONS, BudgetAlertsModule } from './budget-alerts.module';
import { eventually, startReceiver, type Receiver } from './budget-alerts.test-support';
import { verifySignature } from './webhook-signature';

jest.setTimeout(30_000);

function usage(total: string): UsagePricedV1 {
  const at = Date.now();
  return pricedUsage({
    request_id: `req-${randomBytes(6).toString('hex')}`,
    dims: { team: 'search' },
    started_at_ms: at,
    first_byte_at_ms: at,
    ended_at_ms: at,
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    cost: { calculated_cost: total, total_cost_usd: total, pricing_version: 'builtin-test' },
  });
}

let pgModule: PostgresTestModule<InProcessBus>;
let app: TestingModule;
let bus: InProcessBus;
let receiver: Receiver;

beforeAll(async () => {
  [pgModule, receiver] = await Promise.all([
    startPostgresModule({
      migrations: [...LEDGER_MIGRATIONS, ...BUDGET_ALERTS_MIGRATIONS],
      eventStore: { pollMs: 50 },
      bus: new InProcessBus({ maxAttempts: 3, retryBaseMs: 5, retryMaxMs: 20 }),
      imports: [
        LedgerModule,
        BudgetAlertsModule.forRoot({ backoffBaseMs: 40, backoffMaxMs: 200, timeoutMs: 3_000, pollMs: 200 }),
      ],
    }),
    startReceiver(),
  ]);
  ({ module: app, bus } = pgModule);
});

afterAll(async () => {
  await pgModule?.close();
  await receiver?.close();
});

it('usage crossing a budget created through the budget commands reaches its webhook, signed, once per threshold', async () => {
  const { budget, webhook_secret } = await app.get(BudgetService).create(
    {
      name: 'Acme search',
      scope: { tenant: 'acme' },
      period: 'month',
      amount_usd: '1.00',
      thresholds: [50, 100],
      webhook_url: `${receiver.url}/budget-hook`,
    },
    'test',
  );
  const ledger = app.get(LedgerService);
  await ledger.recordUsage(usage('0.30'));
  await ledger.recordUsage(usage('0.25')); // 0.55: crosses 50%
  await receiver.waitFor(1);
  await ledger.recordUsage(usage('0.50')); // 1.05: crosses 100%
  await receiver.waitFor(2);

  const bodies = receiver.requests.map((r) => {
    expect(verifySignature(webhook_secret, r.rawBody, r.headers['x-spendops-signature'] as string)).toBe(
      true,
    );
    return JSON.parse(r.rawBody) as { threshold: number; spent_usd: string; budget_id: string; name: string };
  });
  expect(bodies.map((b) => [b.budget_id, b.name, b.threshold])).toEqual([
    [budget.id, 'Acme search', 50],
    [budget.id, 'Acme search', 100],
  ]);
  expect(Number(bodies[0].spent_usd)).toBeCloseTo(0.55, 10);
  expect(Number(bodies[1].spent_usd)).toBeCloseTo(1.05, 10);

  const history = await eventually(async () => {
    const res = await bus.request<{ budget_id: string }, BudgetsAlertsReply>(Commands.budgetsAlerts, {
      budget_id: budget.id,
    });
    const done = res.alerts.every((a) => a.deliveries.every((d) => d.status === 'delivered'));
    return res.alerts.length === 2 && done ? res : undefined;
  });
  expect(history.alerts.map((a) => a.threshold)).toEqual([100, 50]);
  expect(history.alerts[0].deliveries.map((d) => d.channel).sort()).toEqual(['bus', 'webhook']);

  // More spend in the same period crosses nothing new: no third request.
  await ledger.recordUsage(usage('0.10'));
  await new Promise((r) => setTimeout(r, 500));
  expect(receiver.requests).toHaveLength(2);
});
