// `spendops budgets ...` on a real PostgreSQL with the ledger's real BudgetService behind the budget commands:
// create (the secret once), list, show, update, delete, and one-line errors naming the flag.
import { Command } from 'commander';
import { InProcessBus, type MessageBus } from '@spendops/messaging';
import { openDataSource, type OpenedDataSource } from '@spendops/persistence';
import { startPostgres, type TestPostgres } from '@spendops/testing';
import { BUDGET_ALERTS_MIGRATIONS } from '../../../ledger/src/budget-alerts';
import { LEDGER_MIGRATIONS } from '../../../ledger/src';
import { registerBudgetsCommands, definitionFromFlags } from './budgets';
import { ledgerRunning, serveBudgetCommands } from './budgets-backend';
import { Client } from 'pg';

jest.setTimeout(30_000);

let pg: TestPostgres;
let db: OpenedDataSource;

beforeAll(async () => {
  pg = await startPostgres();
  db = await openDataSource({
    databaseUrl: pg.url,
    dataDir: '/nonexistent',
    migrations: [...new Set([...LEDGER_MIGRATIONS, ...BUDGET_ALERTS_MIGRATIONS])],
  });
});
afterAll(async () => {
  await db?.close();
  await pg?.stop();
});

/** Runs one CLI invocation against the database; returns what it printed. */
async function cli(...args: string[]): Promise<string> {
  let out = '';
  const program = new Command('spendops').exitOverride().configureOutput({ writeErr: () => undefined });
  registerBudgetsCommands(
    program,
    { out: (t) => (out += t) },
    async <T>(_flags: unknown, fn: (bus: MessageBus) => Promise<T>): Promise<T> => {
      const bus = new InProcessBus();
      try {
        await serveBudgetCommands(bus, db.dataSource);
        return await fn(bus);
      } finally {
        await bus.close();
      }
    },
  );
  await program.parseAsync(['node', 'spendops', ...args]);
  return out;
}

const json = async (...args: string[]) =>
  JSON.parse(await cli(...args, '--json')) as Record<string, unknown> & {
    id: string;
    webhook_secret: string;
    budgets: { id: string }[];
    alerts: unknown[];
  };

describe('spendops budgets', () => {
  it('create → list → show → update → delete', async () => {
    const created = await json(
      'budgets',
      'create',
      '--name',
      'search team',
      '--amount-usd',
      '100.00',
      '--dim',
      'team=search',
      '--tenant',
      'acme',
      '--thresholds',
      '50,90,100',
      '--enforce',
      '--webhook-url',
      'http://127.0.0.1:9/hook',
      '--email',
      'finops@corp.example',
    );
    expect(created.id).toMatch(/^bud_[0-9a-f]{16}$/);
    expect(created.webhook_secret).toMatch(/^[0-9a-f]{64}$/);
    expect(created).toMatchObject({
      name: 'search team',
      amount_usd: '100.00',
      period: 'month',
      time_zone: 'UTC',
      thresholds: [50, 90, 100],
      enforce: true,
      scope: { tenant: 'acme', dims: { team: 'search' } },
      email: ['finops@corp.example'],
      spent_usd: expect.any(String),
    });

    expect((await json('budgets', 'list', '--tenant', 'acme')).budgets.map((b) => b.id)).toEqual([
      created.id,
    ]);
    expect((await json('budgets', 'list', '--tenant', 'globex')).budgets).toEqual([]);
    const listed = await json('budgets', 'list');
    expect(listed.budgets.map((b: { id: string }) => b.id)).toContain(created.id);
    expect(JSON.stringify(listed)).not.toContain(created.webhook_secret);
    const table = await cli('budgets', 'list');
    expect(table).toMatch(/^ID\s+NAME\s+PERIOD\s+AMOUNT\s+SPENT\s+USED\s+ENFORCE/);
    expect(table).toContain(created.id);

    const shown = await cli('budgets', 'show', created.id);
    expect(shown).toContain('search team');
    expect(shown).toContain('tenant=acme, team=search');
    expect(shown).toContain('$100.00');
    expect(shown).toContain('Alerts: none yet');
    expect((await json('budgets', 'show', created.id)).alerts).toEqual([]);

    const updated = await json('budgets', 'update', created.id, '--amount-usd', '250', '--no-enforce');
    expect(updated).toMatchObject({ id: created.id, amount_usd: '250', enforce: false, name: 'search team' });

    expect(await cli('budgets', 'delete', created.id)).toBe(`Budget ${created.id} deleted.\n`);
    const after = await json('budgets', 'list');
    expect(after.budgets.map((b: { id: string }) => b.id)).not.toContain(created.id);
    await expect(cli('budgets', 'show', created.id)).rejects.toThrow(created.id);
  });

  it('prints the secret once in text mode too, and a custom period with its range', async () => {
    const text = await cli(
      'budgets',
      'create',
      '--name',
      'q1',
      '--amount-usd',
      '5',
      '--period',
      'custom',
      '--from',
      '2027-01-01T00:00:00Z',
      '--to',
      '2027-04-01T00:00:00Z',
    );
    expect(text).toMatch(
      /^Created budget bud_[0-9a-f]{16} \("q1", \$5 per custom\)\.\nWebhook signing secret \(shown once\): [0-9a-f]{64}\n$/,
    );
  });

  it.each([
    [['--amount-usd', '-5'], '--amount-usd (amount_usd)'],
    [['--amount-usd', '0'], '--amount-usd (amount_usd)'],
    [['--amount-usd', '10', '--period', 'year'], '--period (period)'],
    [['--amount-usd', '10', '--time-zone', 'Mars/Base'], '--time-zone (time_zone)'],
    [['--amount-usd', '10', '--period', 'fiscal_month', '--start-day', '31'], '--start-day (start_day)'],
    [['--amount-usd', '10', '--period', 'custom'], '(from)'],
    [['--amount-usd', '10', '--thresholds', '90,50'], '--thresholds (thresholds[1])'],
    [['--amount-usd', '10', '--thresholds', 'lots'], '--thresholds: give percentages'],
    [['--amount-usd', '10', '--dim', 'team'], '--dim: "team" is not KEY=VALUE'],
    [['--amount-usd', '10', '--webhook-url', 'http://hooks.example.com/'], '--webhook-url (webhook_url)'],
    [['--amount-usd', '10', '--email', 'nobody'], '--email (email'],
  ])('refuses %j naming %s, storing nothing', async (flags, named) => {
    const before = (await json('budgets', 'list')).budgets.length;
    await expect(cli('budgets', 'create', '--name', 'bad', ...flags)).rejects.toThrow(named);
    expect((await json('budgets', 'list')).budgets.length).toBe(before);
  });

  it('refuses unknown ids and empty updates with one line', async () => {
    await expect(cli('budgets', 'show', 'bud_00000000000000aa')).rejects.toThrow(/not found/);
    await expect(cli('budgets', 'delete', 'bud_00000000000000aa')).rejects.toThrow(/not found/);
    await expect(cli('budgets', 'update', 'bud_00000000000000aa')).rejects.toThrow(
      'give at least one field flag',
    );
  });

  it('maps flags to API fields, only those given', () => {
    expect(
      definitionFromFlags({ name: 'x', keyId: 'k', model: 'gpt-4o', dim: ['a=1', 'b = 2'], startDay: '3' }),
    ).toEqual({
      name: 'x',
      start_day: 3,
      scope: { key_id: 'k', model: 'gpt-4o', dims: { a: '1', b: '2' } },
    });
  });

  it('sees a running ledger by its projection runner listening for new events (then it projects, not the CLI)', async () => {
    expect(await ledgerRunning(db.dataSource)).toBe(false);
    const listener = new Client({ connectionString: pg.url });
    await listener.connect();
    try {
      await listener.query('LISTEN spendops_events');
      expect(await ledgerRunning(db.dataSource)).toBe(true);
    } finally {
      await listener.end();
    }
  });
});
