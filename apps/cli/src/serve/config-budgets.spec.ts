// The config file's budgets applied through the ledger's real budget commands on a real PostgreSQL: created
// under the id derived from the name by the actor `config`, unchanged on a second start, updated (optional
// fields cleared) when the file changes.
import { Test } from '@nestjs/testing';
import { BudgetEventTypes, type BudgetSpec } from '@spendops/contracts';
import { EventStore } from '@spendops/event-store';
import { InProcessBus, MESSAGE_BUS } from '@spendops/messaging';
import { openDataSource, type OpenedDataSource } from '@spendops/persistence';
import { startPostgres, type TestPostgres } from '@spendops/testing';
import { BUDGET_ALERTS_MIGRATIONS } from '../../../ledger/src/budget-alerts';
import { LEDGER_MIGRATIONS } from '../../../ledger/src';
import { budgetIdFromName, validateBudgetSpec } from '@spendops/budgets';
import { serveBudgetCommands } from '../commands/budgets-backend';
import { applyConfigBudget, ConfigBudgetsApplier, ConfigBudgetsModule, patchFor } from './config-budgets';

jest.setTimeout(30_000);

let pg: TestPostgres;
let db: OpenedDataSource;
let bus: InProcessBus;

function spec(input: object): BudgetSpec {
  const checked = validateBudgetSpec(input);
  if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
  return checked.spec;
}

beforeAll(async () => {
  pg = await startPostgres();
  db = await openDataSource({
    databaseUrl: pg.url,
    dataDir: '/nonexistent',
    migrations: [...new Set([...LEDGER_MIGRATIONS, ...BUDGET_ALERTS_MIGRATIONS])],
  });
  bus = new InProcessBus();
  await serveBudgetCommands(bus, db.dataSource);
});
afterAll(async () => {
  await bus?.close();
  await db?.close();
  await pg?.stop();
});

const streamOf = async (name: string) =>
  (await new EventStore(db.dataSource).readStream(`budget:${budgetIdFromName(name)}`)).map((e) => ({
    type: e.type,
    actor: (e.data as { actor: string }).actor,
  }));

describe('config budgets at start', () => {
  const first = spec({
    name: 'search monthly',
    scope: { dims: { team: 'search' } },
    period: 'month',
    amount_usd: '250.00',
    owner: 'finops@corp.example',
    webhook_url: 'https://hooks.corp.example/spend',
  });

  it('creates under the id derived from the name, then leaves it alone on the next start', async () => {
    expect(await applyConfigBudget(bus, first)).toBe('created');
    expect(await applyConfigBudget(bus, first)).toBe('unchanged');
    expect(await streamOf('search monthly')).toEqual([{ type: BudgetEventTypes.defined, actor: 'config' }]);
  });

  it('updates when the file changes, clearing optional fields the file no longer has', async () => {
    const changed = spec({ ...first, amount_usd: '300', owner: undefined, enforce: true });
    expect(await applyConfigBudget(bus, changed)).toBe('updated');
    expect(await applyConfigBudget(bus, changed)).toBe('unchanged');
    const { budget } = await bus.request<object, { budget: Record<string, unknown> }>('ledger.budgets.get', {
      id: budgetIdFromName('search monthly'),
    });
    expect(budget).toMatchObject({
      amount_usd: '300',
      enforce: true,
      webhook_url: 'https://hooks.corp.example/spend',
    });
    expect(budget.owner).toBeUndefined();
    expect(await streamOf('search monthly')).toEqual([
      { type: BudgetEventTypes.defined, actor: 'config' },
      { type: BudgetEventTypes.changed, actor: 'config' },
    ]);
  });

  it('runs at application bootstrap for every budget of the file', async () => {
    const budgets = [spec({ name: 'daily', period: 'day', amount_usd: '10' }), first];
    const moduleRef = await Test.createTestingModule({ imports: [ConfigBudgetsModule.forRoot(budgets)] })
      .useMocker((token) => (token === MESSAGE_BUS ? bus : undefined))
      .compile();
    await moduleRef.init();
    await moduleRef.get(ConfigBudgetsApplier).done;
    await moduleRef.close();
    expect(await streamOf('daily')).toEqual([{ type: BudgetEventTypes.defined, actor: 'config' }]);
    // `first` differs from what the previous test left: the start put the file's version back.
    const { budget } = await bus.request<object, { budget: Record<string, unknown> }>('ledger.budgets.get', {
      id: budgetIdFromName('search monthly'),
    });
    expect(budget).toMatchObject({ amount_usd: '250.00', owner: 'finops@corp.example', enforce: false });
  });

  it('waits for a ledger that does not serve the commands yet', async () => {
    const late = new InProcessBus();
    const applier = new ConfigBudgetsApplier(late, [spec({ name: 'late', period: 'week', amount_usd: '7' })]);
    applier.onApplicationBootstrap();
    await new Promise((resolve) => setTimeout(resolve, 600));
    await serveBudgetCommands(late, db.dataSource);
    await applier.done;
    await late.close();
    expect(await streamOf('late')).toEqual([{ type: BudgetEventTypes.defined, actor: 'config' }]);
  });

  it('patchFor: only what differs; null clears', () => {
    const stored = { ...first, id: 'bud_x', owner: 'a', email: ['x@y.example'] } as never;
    expect(patchFor(stored, { ...first, owner: 'a', email: ['x@y.example'] })).toBeNull();
    expect(patchFor(stored, { ...first, owner: 'b' })).toEqual({ owner: 'b', email: null });
  });
});
