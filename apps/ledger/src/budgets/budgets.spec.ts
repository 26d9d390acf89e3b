// Budgets in the ledger on real PostgreSQL and the real in-process bus: commands, the spend projection
// (exact sums, re-pricing, definitions mid-period), BudgetThresholdCrossed exactly once across a restart, a
// rebuild and two ledger processes, and budget.spend.v1.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BudgetErrors,
  BudgetEventTypes,
  Commands,
  Topics,
  type BudgetSpendV1,
  type BudgetThresholdCrossedData,
  type BudgetsCreateReply,
  type CostFields,
  type UsagePricedV1,
} from '@spendops/contracts';
import { EventStore, ProjectionRunner } from '@spendops/event-store';
import { InProcessBus, RemoteCommandError } from '@spendops/messaging';
import { openDataSource, type OpenedDataSource } from '@spendops/persistence';
import {
  captureMessages,
  pricedUsage,
  startPostgres,
  type PricedUsageOverrides,
  type TestPostgres,
} from '@spendops/testing';
import { LEDGER_MIGRATIONS } from '../ledger.module';
import { LedgerService } from '../ledger.service';
import { afterCommit } from './after-commit';
import { BudgetCommandsHandler } from './budget-commands.handler';
import { BudgetService } from './budget.service';
import { BUDGETS_PROJECTION, BudgetsProjection } from './budgets.projection';

jest.setTimeout(30_000);

function cost(total: string | null): CostFields {
  return {
    provider_cost: null,
    calculated_cost: total,
    total_cost_usd: total,
    cost_source: total === null ? 'none' : 'standard',
    pricing_matched: total !== null,
    pricing_model: 'gpt-4o',
    pricing_version: 'builtin-test',
  };
}

let seq = 0;
function usage(total: string | null, over: PricedUsageOverrides = {}): UsagePricedV1 {
  const at = over.started_at_ms ?? Date.now();
  return pricedUsage({
    request_id: `req-${++seq}-${Math.random().toString(36).slice(2, 8)}`,
    dims: { team: 'search' },
    started_at_ms: at,
    first_byte_at_ms: at,
    ended_at_ms: at,
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    cost: cost(total),
    ...over,
  });
}

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** One ledger process's budget parts on its own connections. */
interface Ledger {
  opened: OpenedDataSource;
  store: EventStore;
  runner: ProjectionRunner;
  budgets: BudgetService;
  ledger: LedgerService;
}

describe('budgets in the ledger', () => {
  let pg: TestPostgres;
  let dataDir: string;
  let bus: InProcessBus;
  let a: Ledger;
  const opened: Ledger[] = [];

  async function open(options: { start?: boolean } = {}): Promise<Ledger> {
    const o = await openDataSource({ databaseUrl: pg.url, dataDir, migrations: LEDGER_MIGRATIONS });
    const store = new EventStore(o.dataSource);
    const runner = new ProjectionRunner(o.dataSource, store, { pollMs: 50, listenUrl: pg.url });
    runner.register(new BudgetsProjection(store, bus));
    if (options.start) await runner.start();
    const l = {
      opened: o,
      store,
      runner,
      budgets: new BudgetService(store, o.dataSource, runner),
      ledger: new LedgerService(store, o.dataSource),
    };
    opened.push(l);
    return l;
  }

  async function close(l: Ledger): Promise<void> {
    await l.runner.stop();
    await l.opened.close();
    opened.splice(opened.indexOf(l), 1);
  }

  async function crossings(budgetId: string): Promise<BudgetThresholdCrossedData[]> {
    const events = await a.store.readStream(`budget:${budgetId}`);
    return events
      .filter((e) => e.type === BudgetEventTypes.thresholdCrossed)
      .map((e) => e.data as BudgetThresholdCrossedData)
      .sort((x, y) => x.threshold - y.threshold);
  }

  const spentOf = async (id: string) => (await a.budgets.get(id)).spent_usd;

  beforeAll(async () => {
    [pg, dataDir] = await Promise.all([startPostgres(), mkdtemp(join(tmpdir(), 'spendops-budgets-'))]);
    bus = new InProcessBus({ maxAttempts: 3, retryBaseMs: 5, retryMaxMs: 20 });
    a = await open();
    await new BudgetCommandsHandler(bus, a.budgets).onModuleInit();
  }, 60_000);

  afterAll(async () => {
    for (const l of [...opened]) await close(l);
    await bus?.close();
    await pg?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  describe('commands', () => {
    it('create fills defaults, stores the secret once, appends BudgetDefined with the actor', async () => {
      const reply = await bus.request<object, BudgetsCreateReply>(Commands.budgetsCreate, {
        spec: { name: 'cmd', period: 'month', amount_usd: '100.00', scope: { tenant: 'cmd-tenant' } },
        actor: 'api:alice',
      });
      const { budget, webhook_secret: secret } = reply;
      expect(budget.id).toMatch(/^bud_[0-9a-f]{16}$/);
      expect(budget).toMatchObject({
        name: 'cmd',
        time_zone: 'UTC',
        thresholds: [50, 75, 90, 100],
        enforce: false,
        spent_usd: '0.00',
        percent_used: '0.00',
        forecast_usd: '0.00',
        exhausted: false,
      });
      expect(secret).toMatch(/^[0-9a-f]{64}$/);
      const [row] = await a.opened.dataSource.query(
        'SELECT webhook_secret FROM budget_secrets WHERE budget_id = $1',
        [budget.id],
      );
      expect(row.webhook_secret).toBe(secret);
      const stream = await a.store.readStream(`budget:${budget.id}`);
      expect(stream.map((e) => [e.type, (e.data as { actor: string }).actor])).toEqual([
        [BudgetEventTypes.defined, 'api:alice'],
      ]);
      // read your writes: the list shows it at once, the secret is in no event and no view
      const list = await bus.request<object, { budgets: { id: string }[] }>(Commands.budgetsList, {});
      expect(list.budgets.map((b) => b.id)).toContain(budget.id);
      expect(JSON.stringify(stream)).not.toContain(secret);
      expect(JSON.stringify(list)).not.toContain(secret);
    });

    it('validation errors travel as BudgetValidationError naming the field', async () => {
      const bad = bus.request(Commands.budgetsCreate, {
        spec: { name: 'x', period: 'month', amount_usd: '-1', scope: { team: 'a' } },
        actor: 'api',
      });
      await expect(bad).rejects.toBeInstanceOf(RemoteCommandError);
      await expect(bad).rejects.toMatchObject({
        remoteName: BudgetErrors.invalid,
        message: expect.stringMatching(/^amount_usd: .*; scope\.team: unknown scope field/),
      });
    });

    it('get, update and delete; unknown ids are BudgetNotFoundError', async () => {
      const { budget } = await a.budgets.create({ name: 'upd', period: 'day', amount_usd: '10' }, 'api');
      const got = await bus.request<object, { budget: { name: string } }>(Commands.budgetsGet, {
        id: budget.id,
      });
      expect(got.budget.name).toBe('upd');
      const updated = await bus.request<object, { budget: { amount_usd: string; name: string } }>(
        Commands.budgetsUpdate,
        { id: budget.id, patch: { amount_usd: '20.50' }, actor: 'api:bob' },
      );
      expect(updated.budget).toMatchObject({ amount_usd: '20.50', name: 'upd' });
      const stream = await a.store.readStream(`budget:${budget.id}`);
      expect(stream[1].type).toBe(BudgetEventTypes.changed);
      expect(stream[1].data).toMatchObject({ changed: ['amount_usd'], actor: 'api:bob' });
      await expect(
        bus.request(Commands.budgetsUpdate, { id: budget.id, patch: { period: 'fiscal_month' }, actor: 'x' }),
      ).rejects.toMatchObject({
        remoteName: BudgetErrors.invalid,
        message: expect.stringMatching(/^start_day: /),
      });
      const deleted = await bus.request<object, { budget: { id: string } }>(Commands.budgetsDelete, {
        id: budget.id,
        actor: 'api',
      });
      expect(deleted.budget.id).toBe(budget.id);
      expect((await a.budgets.list()).map((b) => b.id)).not.toContain(budget.id);
      for (const command of [Commands.budgetsGet, Commands.budgetsDelete])
        await expect(bus.request(command, { id: budget.id, actor: 'x' })).rejects.toMatchObject({
          remoteName: BudgetErrors.notFound,
        });
      await expect(bus.request(Commands.budgetsGet, { id: 'bud_0000000000000000' })).rejects.toMatchObject({
        remoteName: BudgetErrors.notFound,
      });
    });

    it('create with a given id: once; again only after a delete', async () => {
      const id = 'bud_00000000000000aa';
      await a.budgets.create({ name: 'fixed', period: 'week', amount_usd: '1' }, 'config', id);
      await expect(
        a.budgets.create({ name: 'fixed', period: 'week', amount_usd: '1' }, 'config', id),
      ).rejects.toMatchObject({ name: BudgetErrors.invalid, message: expect.stringMatching(/^id: /) });
      await a.budgets.remove(id, 'config');
      const again = await a.budgets.create({ name: 'fixed', period: 'week', amount_usd: '2' }, 'config', id);
      expect(again.budget).toMatchObject({ id, amount_usd: '2' });
      await expect(
        a.budgets.create({ name: 'x', period: 'day', amount_usd: '1' }, 'c', 'bud_X'),
      ).rejects.toMatchObject({
        message: expect.stringMatching(/^id: /),
      });
    });
  });

  describe('spend', () => {
    it('sums the costs in scope and in the current period exactly', async () => {
      const { budget } = await a.budgets.create(
        {
          name: 'exact',
          period: 'month',
          amount_usd: '1000',
          scope: { tenant: 'exact', dims: { team: 'search' } },
        },
        'api',
      );
      const inScope = ['0.000000000001', '0.1', '0.2', '1.23456789', '3', null];
      for (const c of inScope) await a.ledger.recordUsage(usage(c, { tenant_id: 'exact' }));
      await a.ledger.recordUsage(usage('5', { tenant_id: 'other' }));
      await a.ledger.recordUsage(usage('7', { tenant_id: 'exact', dims: { team: 'ads' } }));
      await a.ledger.recordUsage(
        usage('9', { tenant_id: 'exact', started_at_ms: Date.now() - 62 * 86400_000 }),
      );
      await a.runner.catchUp();
      const view = await a.budgets.get(budget.id);
      expect(view.spent_usd).toBe('4.534567890001');
      expect(view.percent_used).toBe('0.45');
      // the same usage again (a redelivery) counts nothing more
      await a.runner.catchUp();
      expect(await spentOf(budget.id)).toBe('4.534567890001');
    });

    it('a budget defined after usage counts the whole current period and fires what it reached', async () => {
      for (const c of ['2.50', '2.50']) await a.ledger.recordUsage(usage(c, { tenant_id: 'late' }));
      await a.runner.catchUp();
      const { budget } = await a.budgets.create(
        { name: 'late', period: 'day', amount_usd: '8', scope: { tenant: 'late' } },
        'api',
      );
      expect(budget.spent_usd).toBe('5.00');
      const fired = await crossings(budget.id);
      expect(fired.map((c) => [c.threshold, c.spent_usd, c.request_id])).toEqual([[50, '5.00', '']]);
    });

    it('re-pricing moves spend by the difference in the period of the original request', async () => {
      const { budget } = await a.budgets.create(
        { name: 'reprice', period: 'day', amount_usd: '100', scope: { tenant: 'reprice' } },
        'api',
      );
      const today = usage('1.00', { tenant_id: 'reprice' });
      const yesterday = usage('4.00', { tenant_id: 'reprice', started_at_ms: Date.now() - 86400_000 });
      await a.ledger.recordUsage(today);
      await a.ledger.recordUsage(yesterday);
      await a.runner.catchUp();
      expect(await spentOf(budget.id)).toBe('1.00');
      await a.ledger.appendRepricing(today.request_id, cost('1.25'), 'override', 'api');
      await a.ledger.appendRepricing(yesterday.request_id, cost('0.5'), 'override', 'api');
      await a.runner.catchUp();
      expect(await spentOf(budget.id)).toBe('1.25');
      const rows: { spent_usd: string }[] = await a.opened.dataSource.query(
        'SELECT spent_usd::text AS spent_usd FROM budget_spend WHERE budget_id = $1 ORDER BY period_start',
        [budget.id],
      );
      expect(rows.map((r) => r.spent_usd)).toEqual(['0.5', '1.25']);
      // priced away entirely, then again
      await a.ledger.appendRepricing(today.request_id, cost(null), 'unpriced', 'api');
      await a.runner.catchUp();
      expect(await spentOf(budget.id)).toBe('0.00');
    });

    it('a custom range counts only the usage inside [from, to)', async () => {
      const now = Date.now();
      const { budget } = await a.budgets.create(
        {
          name: 'custom',
          period: 'custom',
          from: new Date(now - 3600_000).toISOString(),
          to: new Date(now + 3600_000).toISOString(),
          amount_usd: '100',
          scope: { tenant: 'custom' },
        },
        'api',
      );
      await a.ledger.recordUsage(usage('1', { tenant_id: 'custom', started_at_ms: now - 3600_000 }));
      await a.ledger.recordUsage(usage('2', { tenant_id: 'custom', started_at_ms: now }));
      await a.ledger.recordUsage(usage('4', { tenant_id: 'custom', started_at_ms: now - 3600_001 }));
      await a.ledger.recordUsage(usage('8', { tenant_id: 'custom', started_at_ms: now + 3600_000 }));
      await a.runner.catchUp();
      const view = await a.budgets.get(budget.id);
      expect(view).toMatchObject({ spent_usd: '3.00', period_start: new Date(now - 3600_000).toISOString() });
    });

    it("periods follow the budget's time zone (a New York day on the DST change is 23 h)", async () => {
      const { budget } = await a.budgets.create(
        {
          name: 'ny',
          period: 'day',
          time_zone: 'America/New_York',
          amount_usd: '100',
          scope: { tenant: 'ny' },
        },
        'api',
      );
      const at = (iso: string) => ({ tenant_id: 'ny', started_at_ms: Date.parse(iso) });
      await a.ledger.recordUsage(usage('1', at('2026-03-08T04:30:00Z'))); // Mar 7, 23:30 EST
      await a.ledger.recordUsage(usage('2', at('2026-03-08T05:30:00Z'))); // Mar 8, 00:30 EST
      await a.ledger.recordUsage(usage('4', at('2026-03-09T03:59:59Z'))); // Mar 8, 23:59:59 EDT
      await a.ledger.recordUsage(usage('8', at('2026-03-09T04:00:00Z'))); // Mar 9, 00:00 EDT
      await a.runner.catchUp();
      const rows: { period_start: Date; period_end: Date; spent_usd: string }[] =
        await a.opened.dataSource.query(
          `SELECT period_start, period_end, spent_usd::text AS spent_usd FROM budget_spend
         WHERE budget_id = $1 AND period_start BETWEEN '2026-03-07' AND '2026-03-10' ORDER BY period_start`,
          [budget.id],
        );
      expect(
        rows.map((r) => [r.period_start.toISOString(), r.period_end.toISOString(), r.spent_usd]),
      ).toEqual([
        ['2026-03-07T05:00:00.000Z', '2026-03-08T05:00:00.000Z', '1'],
        ['2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z', '6'],
        ['2026-03-09T04:00:00.000Z', '2026-03-10T04:00:00.000Z', '8'],
      ]);
    });

    it("lists one tenant's budgets", async () => {
      await a.budgets.create(
        { name: 't1', period: 'day', amount_usd: '1', scope: { tenant: 'list-t1' } },
        'api',
      );
      const reply = await bus.request<object, { budgets: { name: string }[] }>(Commands.budgetsList, {
        tenant: 'list-t1',
      });
      expect(reply.budgets.map((b) => b.name)).toEqual(['t1']);
    });

    it('a scope change sums the period again under the new scope', async () => {
      await a.ledger.recordUsage(usage('3', { tenant_id: 'scope-a' }));
      await a.ledger.recordUsage(usage('4', { tenant_id: 'scope-b' }));
      await a.runner.catchUp();
      const { budget } = await a.budgets.create(
        { name: 'scoped', period: 'week', amount_usd: '100', scope: { tenant: 'scope-a' } },
        'api',
      );
      expect(budget.spent_usd).toBe('3.00');
      const changed = await a.budgets.update(budget.id, { scope: { tenant: 'scope-b' } }, 'api');
      expect(changed.spent_usd).toBe('4.00');
    });
  });

  describe('thresholds', () => {
    it('each threshold fires once per period with the request that crossed it, across a restart and a rebuild', async () => {
      const { budget } = await a.budgets.create(
        {
          name: 'once',
          period: 'month',
          amount_usd: '1.00',
          thresholds: [50, 100],
          scope: { tenant: 'once' },
        },
        'api',
      );
      const u = ['0.30', '0.30', '0.50', '0.10'].map((c) => usage(c, { tenant_id: 'once' }));
      for (const x of u) await a.ledger.recordUsage(x);
      await a.runner.catchUp();
      const fired = await crossings(budget.id);
      expect(fired.map((c) => [c.threshold, c.spent_usd, c.request_id, c.amount_usd, c.name])).toEqual([
        [50, '0.60', u[1].request_id, '1.00', 'once'],
        [100, '1.10', u[2].request_id, '1.00', 'once'],
      ]);
      expect(fired[0].period_start).toBe((await a.budgets.get(budget.id)).period_start);

      // spend dips under 50 % and rises again: nothing fires twice
      await a.ledger.appendRepricing(u[2].request_id, cost('0'), 'refund', 'api');
      await a.runner.catchUp();
      await a.ledger.recordUsage(usage('0.60', { tenant_id: 'once' }));
      await a.runner.catchUp();
      expect(await crossings(budget.id)).toHaveLength(2);

      // a restart: a new process on the same database
      const b = await open();
      await b.runner.catchUp();
      // a rebuild from position zero replays everything
      await b.runner.rebuild(BUDGETS_PROJECTION);
      expect(await crossings(budget.id)).toHaveLength(2);
      expect(await spentOf(budget.id)).toBe('1.30');
      await close(b);
    });

    it('lowering the amount fires the thresholds now reached; raising it fires nothing', async () => {
      const { budget } = await a.budgets.create(
        { name: 'lower', period: 'month', amount_usd: '10', scope: { tenant: 'lower' } },
        'api',
      );
      await a.ledger.recordUsage(usage('4', { tenant_id: 'lower' }));
      await a.runner.catchUp();
      expect(await crossings(budget.id)).toEqual([]);
      await a.budgets.update(budget.id, { amount_usd: '5' }, 'api');
      expect((await crossings(budget.id)).map((c) => [c.threshold, c.amount_usd])).toEqual([
        [50, '5'],
        [75, '5'],
      ]);
      await a.budgets.update(budget.id, { amount_usd: '50' }, 'api');
      await a.budgets.update(budget.id, { amount_usd: '4', thresholds: [75, 100] }, 'api');
      expect((await crossings(budget.id)).map((c) => c.threshold)).toEqual([50, 75, 100]);
    });

    it('two ledger processes running at once append each crossing once and sum exactly', async () => {
      const { budget } = await a.budgets.create(
        {
          name: 'two',
          period: 'month',
          amount_usd: '1',
          thresholds: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
          scope: { tenant: 'two' },
        },
        'api',
      );
      const [p1, p2] = await Promise.all([open({ start: true }), open({ start: true })]);
      const writes: Promise<boolean>[] = [];
      for (let i = 0; i < 120; i++)
        writes.push((i % 2 ? p1 : p2).ledger.recordUsage(usage('0.01', { tenant_id: 'two' })));
      await Promise.all(writes);
      const view = await until(
        () => a.budgets.get(budget.id),
        (v) => v.spent_usd === '1.20',
      );
      expect(view.spent_usd).toBe('1.20');
      const fired = await crossings(budget.id);
      expect(fired.map((c) => c.threshold)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
      expect(fired.map((c) => c.spent_usd)).toEqual([
        '0.10',
        '0.20',
        '0.30',
        '0.40',
        '0.50',
        '0.60',
        '0.70',
        '0.80',
        '0.90',
        '1.00',
      ]);
      await Promise.all([close(p1), close(p2)]);
    });

    it('a running ledger appends the crossing soon after the usage event, without a catch-up call', async () => {
      const { budget } = await a.budgets.create(
        { name: 'live', period: 'day', amount_usd: '1', thresholds: [100], scope: { tenant: 'live' } },
        'api',
      );
      const live = await open({ start: true });
      await live.ledger.recordUsage(usage('1', { tenant_id: 'live' }));
      const fired = await until(
        () => crossings(budget.id),
        (c) => c.length === 1,
        10_000,
      );
      expect(fired.map((c) => c.threshold)).toEqual([100]);
      await close(live);
    });
  });

  describe('afterCommit', () => {
    it('runs a callback once after the commit, never after a rollback', async () => {
      const calls: string[] = [];
      const ds = a.opened.dataSource;
      await ds.transaction(async (m) => {
        afterCommit(m, () => calls.push('committed'));
        await m.query('SELECT 1');
        expect(calls).toEqual([]);
      });
      expect(calls).toEqual(['committed']);
      await expect(
        ds.transaction(async (m) => {
          afterCommit(m, () => calls.push('rolled back'));
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      await ds.transaction(async (m) => m.query('SELECT 1'));
      afterCommit(ds.manager, () => calls.push('no transaction'));
      expect(calls).toEqual(['committed', 'no transaction']);
    });
  });

  describe('enforcing budgets', () => {
    it('publishes budget.spend.v1 after each batch with the settled request ids, and serves the snapshot', async () => {
      const captured = await captureMessages<BudgetSpendV1>(bus, 'test.budget-spend', [Topics.budgetSpend]);
      const { budget } = await a.budgets.create(
        { name: 'enf', period: 'day', amount_usd: '2', enforce: true, scope: { tenant: 'enf' } },
        'api',
      );
      await captured.waitFor(1);
      expect(captured.envelopes[0].payload).toMatchObject({
        budget_id: budget.id,
        enforce: true,
        amount_usd: '2',
        spent_usd: '0.00',
        settled_request_ids: [],
        scope: { tenant: 'enf' },
      });
      const u1 = usage('1.5', { tenant_id: 'enf' });
      const u2 = usage('0.5', { tenant_id: 'enf' });
      await a.ledger.recordUsage(u1);
      await a.ledger.recordUsage(u2);
      await a.ledger.recordUsage(usage('9', { tenant_id: 'not-enf' }));
      await a.runner.catchUp();
      await captured.waitFor(2);
      const last = captured.envelopes[captured.envelopes.length - 1].payload;
      expect(last.spent_usd).toBe('2.00');
      expect(captured.envelopes.flatMap((e) => e.payload.settled_request_ids).sort()).toEqual(
        [u1.request_id, u2.request_id].sort(),
      );
      const positions = captured.envelopes.map((e) => BigInt(e.payload.position));
      expect([...positions].sort((x, y) => (x < y ? -1 : 1))).toEqual(positions);
      expect((await a.budgets.get(budget.id)).exhausted).toBe(true);

      const snapshot = await bus.request<object, { budgets: BudgetSpendV1[] }>(
        Commands.budgetsSpendSnapshot,
        {},
      );
      const mine = snapshot.budgets.find((b) => b.budget_id === budget.id);
      expect(mine).toMatchObject({ spent_usd: '2.00', enforce: true, position: last.position });
      expect(snapshot.budgets.every((b) => b.enforce)).toBe(true);

      await a.budgets.remove(budget.id, 'api');
      const gone = await until(
        async () => captured.envelopes.map((e) => e.payload),
        (p) => p.some((m) => m.removed === true),
      );
      expect(gone.find((m) => m.removed)).toMatchObject({
        budget_id: budget.id,
        removed: true,
        enforce: false,
      });
      const after = await bus.request<object, { budgets: BudgetSpendV1[] }>(
        Commands.budgetsSpendSnapshot,
        {},
      );
      expect(after.budgets.map((b) => b.budget_id)).not.toContain(budget.id);
    });
  });
});
