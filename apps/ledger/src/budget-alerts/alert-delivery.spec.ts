// Budget alert delivery end to end inside a ledger-like app: real PostgreSQL (a fresh database per test), a real
// HTTP receiver on 127.0.0.1, an SMTP sink, the in-process bus. Crossings are appended in budgets-core's
// contract shape; the projection, the worker and the history command are the real ones.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import {
  BUDGET_SIGNATURE_HEADER,
  Commands,
  Topics,
  type BudgetAlertV1,
  type BudgetsAlertsReply,
  type BudgetRecord,
} from '@spendops/contracts';
import { ProjectionRunner } from '@spendops/event-store';
import { metricsRegistry } from '@spendops/observability';
import { captureMessages, startPostgres, type TestPostgres } from '@spendops/testing';
import { AlertDeliveryStore } from './alert-delivery.store';
import { AlertDeliveryWorker } from './alert-delivery.worker';
import { BUDGET_ALERTS_PROJECTION } from './alert-deliveries.projection';
import type { BudgetAlertsOptions } from './budget-alerts.options';
import {
  appendCrossing,
  budgetRecord,
  changeBudget,
  crossing,
  defineBudget,
  eventually,
  mailHeader,
  newBudgetId,
  startAlertsApp,
  startReceiver,
  startSmtpSink,
  type AlertsApp,
  type Receiver,
} from './budget-alerts.test-support';
import { signTimestamped, verifySignature } from './webhook-signature';

jest.setTimeout(30_000);

let pg: TestPostgres;
let receiver: Receiver;
const opened: AlertsApp[] = [];

beforeAll(async () => {
  pg = await startPostgres();
});

afterAll(async () => {
  await pg?.stop();
});

beforeEach(async () => {
  receiver = await startReceiver();
});

afterEach(async () => {
  for (const a of opened.splice(0)) await a.close().catch(() => undefined);
  await receiver.close();
});

/** A fresh database on the test cluster: no test sees another's deliveries. */
async function freshDatabase(): Promise<string> {
  const name = `alerts_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: pg.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(pg.url);
  url.pathname = `/${name}`;
  return url.toString();
}

const FAST: BudgetAlertsOptions = {
  backoffBaseMs: 40,
  backoffMaxMs: 200,
  maxAttempts: 8,
  timeoutMs: 3_000,
  pollMs: 200,
};

async function open(url: string, options: BudgetAlertsOptions = FAST, runner = {}): Promise<AlertsApp> {
  const app = await startAlertsApp(url, options, runner);
  opened.push(app);
  return app;
}

async function withSecret(app: AlertsApp, budgetId: string, secret: string): Promise<void> {
  await app.app
    .get(DataSource)
    .query('INSERT INTO budget_secrets (budget_id, webhook_secret) VALUES ($1, $2)', [budgetId, secret]);
}

async function alertsOf(app: AlertsApp, budgetId: string): Promise<BudgetsAlertsReply> {
  return app.bus.request<{ budget_id: string }, BudgetsAlertsReply>(Commands.budgetsAlerts, {
    budget_id: budgetId,
  });
}

/** Resolves with the history once every delivery of the budget's alerts is delivered or failed. */
async function settled(app: AlertsApp, budgetId: string, alerts = 1): Promise<BudgetsAlertsReply> {
  return eventually(async () => {
    const res = await alertsOf(app, budgetId);
    const done =
      res.alerts.length >= alerts &&
      res.alerts.every((a) => a.deliveries.length > 0 && a.deliveries.every((d) => d.status !== 'pending'));
    return done ? res : undefined;
  });
}

async function webhookBudget(app: AlertsApp, over: Partial<BudgetRecord> = {}): Promise<BudgetRecord> {
  const budget = budgetRecord(newBudgetId(), { webhook_url: `${receiver.url}/hook`, ...over });
  await defineBudget(app.store, budget);
  await withSecret(app, budget.id, 'whsec_test');
  return budget;
}

it('a crossing gets one delivery per channel and target, each sent once, also when the projection replays', async () => {
  const smtp = await startSmtpSink();
  try {
    const app = await open(await freshDatabase(), {
      ...FAST,
      smtp: { host: '127.0.0.1', port: smtp.port, from: 'SpendOps <alerts@spendops.test>', ignoreTLS: true },
    });
    const onBus = await captureMessages<BudgetAlertV1>(app.bus, 'test.alerts', [Topics.budgetAlert]);
    const budget = await webhookBudget(app, {
      webhook_url: `${receiver.url}/hook?token=s3cret`,
      slack_webhook_url: `${receiver.url}/services/T000/B000/XXXXSECRET`,
      email: ['finops@corp.example', 'cfo@corp.example', 'finops@corp.example'],
    });
    const eventId = await appendCrossing(app.store, crossing(budget, 75));

    const res = await settled(app, budget.id);
    expect(res.alerts).toHaveLength(1);
    const [alert] = res.alerts;
    expect(alert).toMatchObject({
      threshold: 75,
      spent_usd: '75.01',
      period_start: '2026-12-01T00:00:00.000Z',
    });
    const byChannel = alert.deliveries.map((d) => [d.channel, d.target, d.status, d.attempts]);
    expect(byChannel).toEqual(
      expect.arrayContaining([
        ['webhook', `${receiver.url}/hook`, 'delivered', 1],
        ['slack', `${receiver.url}/…`, 'delivered', 1],
        ['email', 'finops@corp.example', 'delivered', 1],
        ['email', 'cfo@corp.example', 'delivered', 1],
        ['bus', Topics.budgetAlert, 'delivered', 1],
      ]),
    );
    expect(alert.deliveries).toHaveLength(5);
    // No secret in what the API shows.
    expect(JSON.stringify(res)).not.toMatch(/s3cret|XXXXSECRET|whsec/);
    for (const d of alert.deliveries) expect(d.delivered_at).toEqual(expect.any(String));

    await onBus.waitFor(1);
    expect(onBus.envelopes[0].id).toBe(eventId);
    expect(onBus.envelopes[0].payload).toEqual({
      budget_id: budget.id,
      name: 'Search team',
      threshold: 75,
      spent_usd: '75.01',
      amount_usd: '100.00',
      period_start: '2026-12-01T00:00:00.000Z',
      crossed_at: crossing(budget, 75).crossed_at,
    });

    // The projection runs again from zero (a lost checkpoint, or a second ledger starting fresh): nothing new.
    const runner = app.app.get(ProjectionRunner);
    await app.app
      .get(DataSource)
      .query('DELETE FROM projection_checkpoints WHERE name = $1', [BUDGET_ALERTS_PROJECTION]);
    await runner.catchUpOne(BUDGET_ALERTS_PROJECTION);
    expect(await app.app.get(AlertDeliveryWorker).drain()).toBe(0);
    expect((await alertsOf(app, budget.id)).alerts[0].deliveries).toHaveLength(5);
    expect(receiver.requests.map((r) => r.path).sort()).toEqual([
      '/hook?token=s3cret',
      '/services/T000/B000/XXXXSECRET',
    ]);
    expect(
      smtp.messages
        .map((m) => m.to)
        .flat()
        .sort(),
    ).toEqual(['cfo@corp.example', 'finops@corp.example']);
    expect(onBus.envelopes).toHaveLength(1);

    const metrics = await metricsRegistry.getSingleMetricAsString('spendops_budget_alert_deliveries_total');
    expect(metrics).toMatch(
      /spendops_budget_alert_deliveries_total\{channel="email",status="delivered"\} [2-9]/,
    );
    const gauge = await metricsRegistry.getSingleMetricAsString('spendops_budget_alert_deliveries');
    expect(gauge).toMatch(/spendops_budget_alert_deliveries\{channel="email",status="delivered"\} 2/);
  } finally {
    await smtp.close();
  }
});

it('signs the webhook: sha256 HMAC of the raw body under the budget secret, and of timestamp.body (V2)', async () => {
  const app = await open(await freshDatabase());
  const budget = await webhookBudget(app);
  const eventId = await appendCrossing(app.store, crossing(budget, 50));
  await receiver.waitFor(1);
  const [req] = receiver.requests;
  expect(req.headers['content-type']).toBe('application/json');
  expect(req.headers['x-spendops-event-id']).toBe(eventId);
  const signature = req.headers[BUDGET_SIGNATURE_HEADER.toLowerCase()] as string;
  expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
  expect(verifySignature('whsec_test', req.rawBody, signature)).toBe(true);
  expect(verifySignature('wrong_secret', req.rawBody, signature)).toBe(false);
  expect(verifySignature('whsec_test', req.rawBody.replace('50', '51'), signature)).toBe(false);
  const timestamp = req.headers['x-spendops-timestamp'] as string;
  expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
  expect(req.headers['x-spendops-signature-v2']).toBe(signTimestamped('whsec_test', timestamp, req.rawBody));
  expect(JSON.parse(req.rawBody)).toEqual({
    budget_id: budget.id,
    name: 'Search team',
    threshold: 50,
    spent_usd: '50.01',
    amount_usd: '100.00',
    period_start: '2026-12-01T00:00:00.000Z',
    crossed_at: crossing(budget, 50).crossed_at,
  });
});

it('a receiver that fails twice then succeeds gets 3 attempts and the delivery is delivered', async () => {
  const app = await open(await freshDatabase());
  receiver.respond = ({ n }) => (n <= 2 ? 503 : 204);
  const budget = await webhookBudget(app);
  await appendCrossing(app.store, crossing(budget, 90));
  const res = await settled(app, budget.id);
  const webhook = res.alerts[0].deliveries.find((d) => d.channel === 'webhook');
  expect(webhook).toMatchObject({ status: 'delivered', attempts: 3 });
  expect(webhook?.last_error).toBeUndefined();
  expect(receiver.requests.map((r) => r.status)).toEqual([503, 503, 204]);
  // Every retry carries the same body and event id, so the receiver can deduplicate.
  expect(new Set(receiver.requests.map((r) => r.rawBody)).size).toBe(1);
  expect(new Set(receiver.requests.map((r) => r.headers['x-spendops-event-id'])).size).toBe(1);
});

it('a receiver that always fails ends failed after maxAttempts, its error visible in the alert history', async () => {
  const app = await open(await freshDatabase(), { ...FAST, maxAttempts: 4 });
  receiver.respond = () => ({ status: 500, body: 'database on fire\n' });
  const budget = await webhookBudget(app, {
    slack_webhook_url: 'http://127.0.0.1:1/services/T/B/SECRETPATH', // nothing listens on port 1
  });
  await appendCrossing(app.store, crossing(budget, 50));
  await appendCrossing(app.store, crossing(budget, 75));
  const res = await settled(app, budget.id, 2);
  expect(res.alerts.map((a) => a.threshold)).toEqual([75, 50]); // newest first
  for (const alert of res.alerts) {
    const webhook = alert.deliveries.find((d) => d.channel === 'webhook');
    expect(webhook).toMatchObject({
      status: 'failed',
      attempts: 4,
      last_error: 'HTTP 500: database on fire',
    });
    expect(webhook?.delivered_at).toBeUndefined();
    const slack = alert.deliveries.find((d) => d.channel === 'slack');
    expect(slack).toMatchObject({ status: 'failed', attempts: 4, target: 'http://127.0.0.1:1/…' });
    expect(slack?.last_error).toMatch(/ECONNREFUSED/);
    expect(slack?.last_error).not.toMatch(/SECRETPATH/);
    expect(alert.deliveries.find((d) => d.channel === 'bus')).toMatchObject({ status: 'delivered' });
  }
  expect(receiver.requests).toHaveLength(8);
});

it('sends the alert email through SMTP, subject and body naming the budget and threshold', async () => {
  const smtp = await startSmtpSink();
  try {
    const app = await open(await freshDatabase(), {
      ...FAST,
      smtp: { host: '127.0.0.1', port: smtp.port, from: 'alerts@spendops.test', ignoreTLS: true },
    });
    const budget = budgetRecord(newBudgetId(), { name: 'Research GPUs', email: ['owner@corp.example'] });
    await defineBudget(app.store, budget);
    await appendCrossing(app.store, crossing(budget, 90));
    await settled(app, budget.id);
    expect(smtp.messages).toHaveLength(1);
    const [mail] = smtp.messages;
    expect(mail.from).toBe('alerts@spendops.test');
    expect(mail.to).toEqual(['owner@corp.example']);
    const subject = mailHeader(mail.raw, 'Subject');
    expect(subject).toBe('[SpendOps] Budget "Research GPUs" crossed 90% of its amount ($90.01 of $100.00)');
    const body = mail.raw.slice(mail.raw.indexOf('\r\n\r\n'));
    expect(body).toContain('Budget:     Research GPUs (' + budget.id + ')');
    expect(body).toContain('Threshold:  90%');
    expect(body).toContain('Spent:      $90.01');
  } finally {
    await smtp.close();
  }
});

it('email without SMTP configured fails at once with an error saying so', async () => {
  const app = await open(await freshDatabase());
  const budget = budgetRecord(newBudgetId(), { email: ['owner@corp.example'] });
  await defineBudget(app.store, budget);
  await appendCrossing(app.store, crossing(budget, 50));
  const res = await settled(app, budget.id);
  expect(res.alerts[0].deliveries.find((d) => d.channel === 'email')).toMatchObject({
    status: 'failed',
    attempts: 1,
    last_error: expect.stringMatching(/SMTP is not configured/),
  });
});

it('posts Slack incoming-webhook messages: text plus readable blocks, unsigned', async () => {
  const app = await open(await freshDatabase());
  const budget = budgetRecord(newBudgetId(), {
    name: 'R&D <ml>',
    slack_webhook_url: `${receiver.url}/services/T1/B1/abc`,
  });
  await defineBudget(app.store, budget);
  await appendCrossing(app.store, crossing(budget, 100));
  await receiver.waitFor(1);
  const [req] = receiver.requests;
  expect(req.path).toBe('/services/T1/B1/abc');
  expect(req.headers['content-type']).toBe('application/json');
  expect(req.headers[BUDGET_SIGNATURE_HEADER.toLowerCase()]).toBeUndefined();
  const msg = JSON.parse(req.rawBody) as { text: string; blocks: { type: string }[] };
  expect(msg.text).toBe(
    'SpendOps: Budget "R&amp;D &lt;ml&gt;" crossed 100% of its amount: spent $100.01 of $100.00',
  );
  expect(msg.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
  expect(msg.blocks[0]).toEqual({
    type: 'header',
    text: { type: 'plain_text', text: 'Budget 100% reached: R&D <ml>' },
  });
  expect(msg.blocks[1]).toEqual({
    type: 'section',
    fields: [
      { type: 'mrkdwn', text: '*Budget*\nR&amp;D &lt;ml&gt;' },
      { type: 'mrkdwn', text: '*Threshold*\n100%' },
      { type: 'mrkdwn', text: '*Spent*\n$100.01' },
      { type: 'mrkdwn', text: '*Amount*\n$100.00' },
    ],
  });
  expect(JSON.stringify(msg.blocks[2])).toContain(budget.id);
});

it('uses the budget as its latest BudgetChanged left it', async () => {
  const app = await open(await freshDatabase());
  const budget = await webhookBudget(app, { webhook_url: `${receiver.url}/old` });
  await changeBudget(app.store, { ...budget, webhook_url: `${receiver.url}/new` }, ['webhook_url']);
  await appendCrossing(app.store, crossing(budget, 50));
  await settled(app, budget.id);
  expect(receiver.requests.map((r) => r.path)).toEqual(['/new']);
});

it('a worker restarted mid-retry neither loses nor repeats the delivery', async () => {
  const url = await freshDatabase();
  // The retry is due 1.5–3 s after the first failure: long enough to stop the process in between.
  const slow = { ...FAST, backoffBaseMs: 3_000, backoffMaxMs: 3_000 };
  const first = await open(url, slow);
  receiver.respond = ({ n }) => (n === 1 ? 502 : 200);
  const budget = await webhookBudget(first);
  await appendCrossing(first.store, crossing(budget, 50));
  await receiver.waitFor(1);
  const pending = await eventually(async () => {
    const d = (await alertsOf(first, budget.id)).alerts[0]?.deliveries.find((x) => x.channel === 'webhook');
    return d?.attempts === 1 && d.last_error ? d : undefined;
  });
  expect(pending).toMatchObject({ status: 'pending', last_error: 'HTTP 502: receiver refused' });
  await first.close();
  opened.splice(opened.indexOf(first), 1);

  const second = await open(url, slow);
  const res = await settled(second, budget.id);
  expect(res.alerts[0].deliveries.find((d) => d.channel === 'webhook')).toMatchObject({
    status: 'delivered',
    attempts: 2,
  });
  expect(receiver.requests.map((r) => r.status)).toEqual([502, 200]);
  await new Promise((r) => setTimeout(r, 300));
  expect(receiver.requests).toHaveLength(2);
});

it('a worker stopped while sending finishes that send and records it; the next process does not resend', async () => {
  const url = await freshDatabase();
  const first = await open(url);
  let arrived!: () => void;
  const inFlight = new Promise<void>((resolve) => (arrived = resolve));
  receiver.respond = () => {
    arrived();
    return { status: 200, delayMs: 500 };
  };
  const budget = await webhookBudget(first);
  await appendCrossing(first.store, crossing(budget, 50));
  await inFlight;
  await first.close(); // waits for the send in flight
  opened.splice(opened.indexOf(first), 1);
  const second = await open(url);
  const res = await settled(second, budget.id);
  expect(res.alerts[0].deliveries.find((d) => d.channel === 'webhook')).toMatchObject({
    status: 'delivered',
    attempts: 1,
  });
  await new Promise((r) => setTimeout(r, 300));
  expect(receiver.requests).toHaveLength(1);
});

it('a delivery claimed by a process that died is sent by another once its lease ends', async () => {
  const url = await freshDatabase();
  const app = await open(url, { ...FAST, leaseMs: 400 });
  const worker = app.app.get(AlertDeliveryWorker);
  await worker.stop(); // claim by hand first, as the process that died did
  const budget = await webhookBudget(app);
  await appendCrossing(app.store, crossing(budget, 50));
  const store = app.app.get(AlertDeliveryStore);
  const claimed = await eventually(async () => {
    const rows = await store.claimDue('00000000-0000-4000-8000-000000000001', 10, 400);
    return rows.length > 0 ? rows : undefined;
  });
  expect(claimed.map((d) => d.channel).sort()).toEqual(['bus', 'webhook']);
  // That process never sends nor records. A live worker takes the rows once the lease has ended.
  await worker.start();
  const res = await settled(app, budget.id);
  for (const d of res.alerts[0].deliveries) expect(d).toMatchObject({ status: 'delivered', attempts: 2 });
  expect(receiver.requests).toHaveLength(1);
  // The dead process's late outcome is ignored (its claim is gone).
  expect(await store.record(claimed[0], { status: 'failed', error: 'late' })).toBe(false);
});

it('two ledger processes deliver each crossing once', async () => {
  const url = await freshDatabase();
  const a = await open(url, { ...FAST, batchSize: 3 });
  const b = await open(url, { ...FAST, batchSize: 3 });
  receiver.respond = () => ({ status: 200, delayMs: 20 });
  const budget = await webhookBudget(a);
  const thresholds = Array.from({ length: 12 }, (_, i) => (i + 1) * 10);
  const ids: string[] = [];
  for (const t of thresholds)
    ids.push(await appendCrossing(t % 20 === 0 ? a.store : b.store, crossing(budget, t)));
  const res = await settled(a, budget.id, thresholds.length);
  expect(res.alerts).toHaveLength(12);
  for (const alert of res.alerts)
    for (const d of alert.deliveries) expect(d).toMatchObject({ status: 'delivered', attempts: 1 });
  await new Promise((r) => setTimeout(r, 300));
  const received = receiver.requests.map((r) => r.headers['x-spendops-event-id']);
  expect(received.sort()).toEqual([...ids].sort());
});

it('a crossing is delivered on the wake-up, well before any poll would find it', async () => {
  const url = await freshDatabase();
  // Both loops poll only every 20 s: only LISTEN/NOTIFY (and the in-process append signal) can be this quick.
  const app = await open(url, { ...FAST, pollMs: 20_000 }, { pollMs: 20_000 });
  const budget = await webhookBudget(app);
  await new Promise((r) => setTimeout(r, 200)); // both loops are asleep now
  await appendCrossing(app.store, crossing(budget, 50));
  await receiver.waitFor(1, 5_000);
});

it('budget.alert.v1 is retried while the bus refuses the publish, then delivered once', async () => {
  const app = await open(await freshDatabase());
  const onBus = await captureMessages<BudgetAlertV1>(app.bus, 'test.alerts', [Topics.budgetAlert]);
  const publish = app.bus.publish.bind(app.bus);
  let refusals = 2;
  jest.spyOn(app.bus, 'publish').mockImplementation(async (topic, payload, options) => {
    if (topic === Topics.budgetAlert && refusals-- > 0)
      throw new Error('message bus unavailable: test outage');
    return publish(topic, payload, options);
  });
  const budget = budgetRecord(newBudgetId());
  await defineBudget(app.store, budget);
  const eventId = await appendCrossing(app.store, crossing(budget, 50));
  const res = await settled(app, budget.id);
  expect(res.alerts[0].deliveries).toEqual([
    expect.objectContaining({ channel: 'bus', target: Topics.budgetAlert, status: 'delivered', attempts: 3 }),
  ]);
  await onBus.waitFor(1);
  expect(onBus.envelopes.map((e) => e.id)).toEqual([eventId]);
});

it('the alerts command: an unknown budget has none; a request without budget_id is refused', async () => {
  const app = await open(await freshDatabase());
  await expect(alertsOf(app, newBudgetId())).resolves.toEqual({ alerts: [] });
  await expect(app.bus.request(Commands.budgetsAlerts, {} as { budget_id: string })).rejects.toThrow(
    /budget_id is required/,
  );
});

it('a slow receiver delays no other delivery: each send has its own slot', async () => {
  const app = await open(await freshDatabase());
  receiver.respond = ({ path }) => (path === '/slow' ? { status: 200, delayMs: 2_500 } : 200);
  const slow = await webhookBudget(app, { webhook_url: `${receiver.url}/slow` });
  const fast = await webhookBudget(app, { webhook_url: `${receiver.url}/fast` });
  await appendCrossing(app.store, crossing(slow, 50));
  await eventually(async () => ((await alertsOf(app, slow.id)).alerts.length > 0 ? true : undefined));
  await appendCrossing(app.store, crossing(fast, 50));
  await receiver.waitFor(2);
  // The receiver records a request when it answers: the fast one was answered while the slow one was held.
  expect(receiver.requests.map((r) => r.path)).toEqual(['/fast', '/slow']);
});

it('a receiver that does not answer within the timeout counts as a failed attempt and is retried', async () => {
  const app = await open(await freshDatabase(), { ...FAST, timeoutMs: 400 });
  receiver.respond = ({ n }) => (n === 1 ? { status: 200, delayMs: 1_500 } : 200);
  const budget = await webhookBudget(app);
  await appendCrossing(app.store, crossing(budget, 50));
  const res = await settled(app, budget.id);
  expect(res.alerts[0].deliveries.find((d) => d.channel === 'webhook')).toMatchObject({
    status: 'delivered',
    attempts: 2,
  });
  // Both requests reached the receiver (the first answered too late): the event id header lets it deduplicate.
  await receiver.waitFor(2);
  const ids = receiver.requests.map((r) => r.headers['x-spendops-event-id']);
  expect(new Set(ids).size).toBe(1);
});

it('with nothing pending, the worker waits its poll interval (no delivery due is not "due now")', async () => {
  const app = await open(await freshDatabase(), { ...FAST, pollMs: 1_000 });
  const store = app.app.get(AlertDeliveryStore);
  expect(await store.msUntilNextDue()).toBeNull();
  const claims = jest.spyOn(store, 'claimDue');
  await new Promise((resolve) => setTimeout(resolve, 600));
  // One pass per second at most: the bug looped on the database as fast as it answered (dozens in 600 ms).
  expect(claims.mock.calls.length).toBeLessThanOrEqual(2);
  const budget = await webhookBudget(app);
  await appendCrossing(app.store, crossing(budget, 50));
  await settled(app, budget.id);
  // Delivered: nothing pending again.
  expect(await store.msUntilNextDue()).toBeNull();
});
