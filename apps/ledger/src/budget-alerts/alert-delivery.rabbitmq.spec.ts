// budget.alert.v1 over a real RabbitMQ broker: a queue integration receives each crossing (message id = the
// crossing's event id); while the broker is down the bus delivery fails fast, is retried with its error visible
// in the history, and goes out once the broker is back.
import { Topics, type BudgetAlertV1 } from '@spendops/contracts';
import { RabbitMqBus, type Envelope } from '@spendops/messaging';
import {
  rabbitMqAvailable,
  startPostgres,
  startRabbitMq,
  type RabbitMqInstance,
  type TestPostgres,
} from '@spendops/testing';
import { BudgetAlertsConsumer } from './budget-alerts.consumer';
import {
  appendCrossing,
  budgetRecord,
  crossing,
  defineBudget,
  eventually,
  newBudgetId,
  startAlertsApp,
  type AlertsApp,
} from './budget-alerts.test-support';

jest.setTimeout(120_000); // a broker restart takes 10–20 s on a loaded 2-core machine

const describeBroker = rabbitMqAvailable() ? describe : describe.skip;

describeBroker('budget.alert.v1 on RabbitMQ', () => {
  let pg: TestPostgres;
  let broker: RabbitMqInstance;
  let app: AlertsApp;
  let integration: RabbitMqBus;
  const received: Envelope<BudgetAlertV1>[] = [];

  beforeAll(async () => {
    [pg, broker] = await Promise.all([startPostgres(), startRabbitMq()]);
    integration = new RabbitMqBus({ url: broker.url, reconnectMaxMs: 300 });
    await integration.start();
    // A durable queue of a queue integration, bound before any alert.
    await integration.subscribe<BudgetAlertV1>(
      'integration.budget-alerts',
      [Topics.budgetAlert],
      async (_p, e) => {
        received.push(e);
      },
    );
    const bus = new RabbitMqBus({ url: broker.url, reconnectMaxMs: 300, publishTimeoutMs: 2_000 });
    await bus.start();
    app = await startAlertsApp(
      pg.url,
      { backoffBaseMs: 200, backoffMaxMs: 1_000, maxAttempts: 1_000, timeoutMs: 3_000, pollMs: 200 },
      {},
      bus,
    );
  });

  afterAll(async () => {
    await app?.close();
    await integration?.close();
    await broker?.stop();
    await pg?.stop();
  });

  async function busDelivery(budgetId: string) {
    // Read directly: a request over the bus would fail while the broker is away.
    const res = await app.app.get(BudgetAlertsConsumer).alerts({ budget_id: budgetId });
    return res.alerts[0]?.deliveries.find((d) => d.channel === 'bus');
  }

  it('is published with the crossing as body and its event id as message id, and survives a broker outage', async () => {
    const budget = budgetRecord(newBudgetId());
    await defineBudget(app.store, budget);
    const first = await appendCrossing(app.store, crossing(budget, 50));
    await eventually(async () => (received.some((e) => e.id === first) ? true : undefined), 30_000);
    expect(received.find((e) => e.id === first)?.payload).toMatchObject({
      budget_id: budget.id,
      threshold: 50,
    });
    expect(await busDelivery(budget.id)).toMatchObject({ status: 'delivered', attempts: 1 });

    await broker.stopBroker();
    const other = budgetRecord(newBudgetId());
    await defineBudget(app.store, other);
    const second = await appendCrossing(app.store, crossing(other, 90));
    const failing = await eventually(async () => {
      const d = await busDelivery(other.id);
      return d && d.attempts >= 2 && d.status === 'pending' ? d : undefined;
    }, 30_000);
    expect(failing.last_error).toMatch(/unavailable|connect|closed/i);

    await broker.startBroker();
    const delivered = await eventually(async () => {
      const d = await busDelivery(other.id);
      return d?.status === 'delivered' ? d : undefined;
    }, 40_000);
    expect(delivered.attempts).toBeGreaterThanOrEqual(2);
    await eventually(async () => (received.some((e) => e.id === second) ? true : undefined), 30_000);
    expect(received.find((e) => e.id === second)?.payload).toMatchObject({
      budget_id: other.id,
      threshold: 90,
    });
  });
});
