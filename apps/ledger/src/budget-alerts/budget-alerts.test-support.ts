// Test support for the budget-alerts specs: a ledger-like app (persistence, event store, bus, the module), a
// recording webhook receiver on 127.0.0.1, an SMTP sink, and the budgets-core events in their contract shape.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Test, type TestingModule } from '@nestjs/testing';
import { SMTPServer } from 'smtp-server';
import { BudgetEventTypes, type BudgetRecord, type BudgetThresholdCrossedData } from '@spendops/contracts';
import { EVENT_STORE_MIGRATIONS, EventStore, EventStoreModule } from '@spendops/event-store';
import { InProcessBus, type MessageBus } from '@spendops/messaging';
import { PersistenceModule } from '@spendops/persistence';
import { globalBusModule } from '@spendops/testing';
import { budgetStreamId } from './alert-deliveries.projection';
import { BUDGET_ALERTS_MIGRATIONS, BudgetAlertsModule } from './budget-alerts.module';
import type { BudgetAlertsOptions } from './budget-alerts.options';

export interface AlertsApp {
  app: TestingModule;
  bus: MessageBus;
  store: EventStore;
  close(): Promise<void>;
}

/** One "ledger process" on the database: its own bus (closed with it), projection runner and delivery worker. */
export async function startAlertsApp(
  databaseUrl: string,
  options: BudgetAlertsOptions,
  runner: { pollMs?: number; autoStart?: boolean } = {},
  bus: MessageBus = new InProcessBus({ maxAttempts: 3, retryBaseMs: 5, retryMaxMs: 20 }),
): Promise<AlertsApp> {
  const app = await Test.createTestingModule({
    imports: [
      PersistenceModule.forRoot({
        databaseUrl,
        dataDir: '/nonexistent',
        migrations: [...EVENT_STORE_MIGRATIONS, ...BUDGET_ALERTS_MIGRATIONS],
        poolSize: 5,
      }),
      EventStoreModule.forRoot({ pollMs: runner.pollMs ?? 50, autoStart: runner.autoStart }),
      globalBusModule(bus),
      BudgetAlertsModule.forRoot(options),
    ],
  }).compile();
  await app.init();
  return {
    app,
    bus,
    store: app.get(EventStore),
    async close() {
      await app.close();
      await bus.close();
    },
  };
}

export function newBudgetId(): string {
  return `bud_${randomBytes(8).toString('hex')}`;
}

export function budgetRecord(id: string, over: Partial<BudgetRecord> = {}): BudgetRecord {
  return {
    id,
    name: 'Search team',
    scope: { dims: { team: 'search' } },
    period: 'month',
    time_zone: 'UTC',
    amount_usd: '100.00',
    thresholds: [50, 75, 90, 100],
    enforce: false,
    owner: 'finops@corp.example',
    created_at: '2026-12-01T00:00:00.000Z',
    updated_at: '2026-12-01T00:00:00.000Z',
    ...over,
  };
}

/** What budgets-core appends when a budget is created (and, with a webhook, the secret it stores). */
export async function defineBudget(store: EventStore, budget: BudgetRecord): Promise<void> {
  await store.append([
    {
      event_id: randomUUID(),
      stream_id: budgetStreamId(budget.id),
      type: BudgetEventTypes.defined,
      data: { budget, actor: 'test' },
    },
  ]);
}

export async function changeBudget(
  store: EventStore,
  budget: BudgetRecord,
  changed: string[],
): Promise<void> {
  await store.append([
    {
      event_id: randomUUID(),
      stream_id: budgetStreamId(budget.id),
      type: BudgetEventTypes.changed,
      data: { budget, changed, actor: 'test' },
    },
  ]);
}

export function crossing(
  budget: BudgetRecord,
  threshold: number,
  over: Partial<BudgetThresholdCrossedData> = {},
): BudgetThresholdCrossedData {
  const spent = ((Number(budget.amount_usd) * threshold) / 100 + 0.01).toFixed(2);
  return {
    budget_id: budget.id,
    name: budget.name,
    threshold,
    period_start: '2026-12-01T00:00:00.000Z',
    period_end: '2027-01-01T00:00:00.000Z',
    spent_usd: spent,
    amount_usd: budget.amount_usd,
    crossed_at: new Date(Date.UTC(2026, 11, 2, 8, 0, threshold)).toISOString(),
    request_id: `req-${threshold}`,
    ...over,
  };
}

/** Appends a crossing (as budgets-core's projection would) and returns its event id. */
export async function appendCrossing(store: EventStore, data: BudgetThresholdCrossedData): Promise<string> {
  const eventId = randomUUID();
  await store.append([
    {
      event_id: eventId,
      stream_id: budgetStreamId(data.budget_id),
      type: BudgetEventTypes.thresholdCrossed,
      data,
    },
  ]);
  return eventId;
}

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  status: number;
}

/** A webhook receiver on 127.0.0.1; `respond` picks each response's status (and an optional delay). */
export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  respond: (req: { path: string; n: number }) => number | { status: number; delayMs?: number; body?: string };
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  let waiters: (() => void)[] = [];
  const receiver: Receiver = {
    url: '',
    requests: [],
    respond: () => 200,
    waitFor: (n, timeoutMs = 15_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`receiver got ${receiver.requests.length} of ${n} requests`)),
          timeoutMs,
        );
        const check = () => {
          if (receiver.requests.length >= n) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        check();
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const counts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      const answer = receiver.respond({ path, n });
      const { status, delayMs, body } = typeof answer === 'number' ? { status: answer } : answer;
      setTimeout(() => {
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(body ?? (status < 300 ? 'ok' : 'receiver refused'));
        receiver.requests.push({
          path,
          headers: req.headers,
          rawBody: Buffer.concat(chunks).toString('utf8'),
          status,
        });
        const wake = waiters;
        waiters = [];
        wake.forEach((w) => w());
      }, delayMs ?? 0);
    });
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

export interface SmtpMessage {
  from: string;
  to: string[];
  raw: string;
}

export async function startSmtpSink(): Promise<{
  port: number;
  messages: SmtpMessage[];
  close(): Promise<void>;
}> {
  const messages: SmtpMessage[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, messages, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A header of a raw message, unfolded, RFC 2047 encoded words decoded (enough for nodemailer's output). */
export function mailHeader(raw: string, name: string): string | undefined {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  if (line === undefined) return undefined;
  const value = line.slice(name.length + 1).trim();
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QB])\?([^?]*)\?=/gi, (_m, _charset: string, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(
            text
              .replace(/_/g, ' ')
              .replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          ).toString('utf8'),
    );
}
