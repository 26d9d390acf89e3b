// The guard's sync on the real in-process bus: snapshot and price sheet loaded by command (retried while their
// owners are away), spend messages and sheets applied from the topics, heartbeats sent and heard.
import { Test, type TestingModule } from '@nestjs/testing';
import {
  Commands,
  Topics,
  type AdmissionInput,
  type BudgetSpendV1,
  type BudgetsSpendSnapshotReply,
  type KeyRecord,
  type PriceSheetV1,
  type ProxyHeartbeatV1,
} from '@spendops/contracts';
import { InProcessBus } from '@spendops/messaging';
import { ReadinessRegistry } from '@spendops/observability';
import { captureMessages, globalBusModule } from '@spendops/testing';
import { BudgetGuard } from './budget.guard';
import { BudgetGuardModule } from './budget-guard.module';
import { BudgetReplica } from './budget-replica';
import { ProxyPeers } from './proxy-peers';

const SHEET: PriceSheetV1 = {
  version: 'v1+ov0',
  generated_at: '2026-12-01T00:00:00.000Z',
  provider_aliases: {},
  providers: {},
  overrides: [],
  fallback: ['0.000001', '0.00001', '0'],
};

const budget = (over: Partial<BudgetSpendV1> = {}): BudgetSpendV1 => ({
  budget_id: 'bud_00000000000000aa',
  scope: { tenant: 'acme' },
  enforce: true,
  amount_usd: '0.05',
  period_start: new Date(Date.now() - 60_000).toISOString(),
  period_end: new Date(Date.now() + 3_600_000).toISOString(),
  spent_usd: '0',
  position: '1',
  settled_request_ids: [],
  ...over,
});

const input = (id: string): AdmissionInput => ({
  request_id: id,
  key: { id: 'key_a', tenant_id: 'acme' } as unknown as KeyRecord,
  provider: 'openai',
  model: 'gpt-4o',
  endpoint: 'v1/chat/completions',
  dims: {},
  stream: false,
  body: Buffer.from('{"max_tokens":2000}'), // ≈ $0.02
});

const waitUntil = async (check: () => boolean, ms = 5000) => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('BudgetGuardModule', () => {
  let bus: InProcessBus;
  let app: TestingModule;

  beforeEach(() => {
    bus = new InProcessBus({ maxAttempts: 3, retryBaseMs: 5, retryMaxMs: 20 });
  });

  afterEach(async () => {
    await app?.close();
    await bus.close();
  });

  const start = async (heartbeatMs = 50) => {
    app = await Test.createTestingModule({
      imports: [
        globalBusModule(bus),
        BudgetGuardModule.forRoot({
          proxyId: 'p-test',
          heartbeatMs,
          gossipMs: 20,
          retryMs: 20,
          requestTimeoutMs: 500,
        }),
      ],
    }).compile();
    app.enableShutdownHooks();
    await app.init();
    return app.get(BudgetGuard);
  };

  it('loads the snapshot and the sheet, then follows spend messages and settlements', async () => {
    await bus.handle(Commands.budgetsSpendSnapshot, async (): Promise<BudgetsSpendSnapshotReply> => ({
      budgets: [budget()],
    }));
    await bus.handle(Commands.pricingPriceSheet, async () => SHEET);
    const guard = await start();
    await waitUntil(() => guard.synced);
    expect(guard.admit(input('a')).ok).toBe(true);
    expect(guard.admit(input('b')).ok).toBe(true);
    expect(guard.admit(input('c')).ok).toBe(false);

    await bus.publish(
      Topics.budgetSpend,
      budget({ spent_usd: '0.001', position: '2', settled_request_ids: ['a'] }),
    );
    const replica = app.get(BudgetReplica);
    await waitUntil(() => replica.reservationCount === 1);
    expect(guard.admit(input('c')).ok).toBe(true);

    // A new sheet with higher prices applies to the next request.
    await bus.publish(Topics.priceSheet, { ...SHEET, version: 'v2+ov0', fallback: ['0.000001', '1', '0'] });
    await waitUntil(() => guard.maxCost(input('x')) > 1);
  });

  it('retries while the ledger and pricing are away (fail-open meanwhile), and accepts a plain array', async () => {
    const guard = await start();
    expect(guard.synced).toBe(false);
    expect(guard.admit(input('a')).ok).toBe(true);
    await bus.handle(Commands.budgetsSpendSnapshot, async () => [budget({ spent_usd: '0.05' })]);
    await bus.publish(Topics.priceSheet, SHEET);
    await waitUntil(() => guard.synced);
    expect(guard.admit(input('b')).ok).toBe(false);
  });

  it('sends heartbeats with its reservations, counts the peers it hears, and says goodbye on shutdown', async () => {
    const beats = await captureMessages<ProxyHeartbeatV1>(bus, 'hb-test', [Topics.proxyHeartbeat]);
    await bus.handle(Commands.budgetsSpendSnapshot, async () => ({ budgets: [budget()] }));
    await bus.handle(Commands.pricingPriceSheet, async () => SHEET);
    const guard = await start();
    await waitUntil(() => guard.synced);
    guard.admit(input('a'));
    await waitUntil(() =>
      beats.envelopes.some((e) => (e.payload.reserved['bud_00000000000000aa'] ?? 0) > 0.02),
    );
    expect(beats.envelopes[0].payload).toMatchObject({ proxy_id: 'p-test', interval_ms: 50 });

    await bus.publish<ProxyHeartbeatV1>(Topics.proxyHeartbeat, {
      proxy_id: 'p-other',
      sent_at: new Date().toISOString(),
      interval_ms: 60_000,
      reserved: {},
    });
    const peers = app.get(ProxyPeers);
    await waitUntil(() => peers.liveCount() === 2);
    // Headroom $0.05 over two proxies: $0.025 each, and $0.02 is held already.
    expect(guard.admit(input('b')).ok).toBe(false);

    await app.close();
    app = undefined as unknown as TestingModule;
    await waitUntil(() => beats.envelopes.some((e) => e.payload.leaving === true));
  });

  it('announces a change in its reservations within the gossip delay, not the next heartbeat', async () => {
    const beats = await captureMessages<ProxyHeartbeatV1>(bus, 'hb-gossip', [Topics.proxyHeartbeat]);
    await bus.handle(Commands.budgetsSpendSnapshot, async () => ({ budgets: [budget()] }));
    await bus.handle(Commands.pricingPriceSheet, async () => SHEET);
    const guard = await start(60_000);
    await waitUntil(() => guard.synced && beats.envelopes.length === 1);
    expect(beats.envelopes[0].payload.reserved).toEqual({});
    guard.admit(input('a'));
    guard.admit(input('b'));
    await beats.waitFor(2);
    expect(beats.envelopes[1].payload.reserved['bud_00000000000000aa']).toBeCloseTo(2 * 0.020019, 9);
    await bus.publish(Topics.budgetSpend, budget({ position: '2', settled_request_ids: ['a', 'b'] }));
    await beats.waitFor(3);
    expect(beats.envelopes[2].payload.reserved).toEqual({});
    await new Promise((r) => setTimeout(r, 100));
    expect(beats.envelopes).toHaveLength(3); // one announcement per change window, then quiet
  });

  it('fail-closed: reports the proxy not ready until the budgets and the sheet are loaded', async () => {
    const readiness = new ReadinessRegistry();
    app = await Test.createTestingModule({
      imports: [
        globalBusModule(bus),
        {
          module: class ReadinessModule {},
          global: true,
          providers: [{ provide: ReadinessRegistry, useValue: readiness }],
          exports: [ReadinessRegistry],
        },
        BudgetGuardModule.forRoot({ failClosed: true, retryMs: 20, requestTimeoutMs: 500 }),
      ],
    }).compile();
    await app.init();
    const guard = app.get(BudgetGuard);
    expect(await readiness.evaluate()).toEqual({
      ready: false,
      checks: { budgets: 'budgets or price sheet not loaded yet' },
    });
    expect(guard.admit(input('a'))).toMatchObject({ ok: false, type: 'budget_exceeded' });
    await bus.handle(Commands.budgetsSpendSnapshot, async () => ({ budgets: [] }));
    await bus.handle(Commands.pricingPriceSheet, async () => SHEET);
    await waitUntil(() => guard.synced);
    expect(await readiness.evaluate()).toEqual({ ready: true, checks: { budgets: 'ok' } });
    expect(guard.admit(input('b')).ok).toBe(true);
  });
});
