// Budgets on the built all-in-one server: a budget defined through the admin API, traffic through the proxy to a
// mock OpenAI upstream, the budget's spent_usd equal to the sum of its events' total cost (exactly), thresholds
// crossed listed as alerts; the CLI creating, listing, showing and deleting a budget on the running server's data
// dir; a budget of the config file applied at start and left as it was across a restart.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Decimal from 'decimal.js';
import { request } from 'undici';
import { MockProvider, openAiChatJson, startMockProvider } from '@spendops/testing';
import { budgetIdFromName } from '@spendops/budgets';
import { runCli, SpendOpsProcess, startSpendOps } from './support/spendops-process';

jest.setTimeout(180_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Polls of what the pipeline does in the background run to a 30 s deadline, not a count of 100 (about 5 s): the
// pipeline thread runs at nice 10 and takes longer on a busy machine.
const within = (ms = 30_000): (() => boolean) => {
  const end = Date.now() + ms;
  return () => Date.now() < end;
};

interface Budget {
  id: string;
  name: string;
  amount_usd: string;
  spent_usd: string;
  percent_used: string;
  created_at: string;
  updated_at: string;
  enforce: boolean;
  webhook_secret?: string;
}

describe('budgets, all-in-one', () => {
  let mock: MockProvider;
  let server: SpendOpsProcess;
  let env: NodeJS.ProcessEnv;
  let args: string[];
  let key: string;
  let token: string;
  const costs: string[] = [];

  const admin = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown) => {
    const res = await request(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
  };

  /** The budget list, waiting out a ledger still starting (502) after a (re)start. */
  const budgetsNow = async (): Promise<Budget[]> => {
    for (let i = 0; ; i++) {
      const res = await admin('GET', '/api/v1/budgets');
      if (res.status === 200 || i >= 100) {
        expect(res.status).toBe(200);
        return res.body.budgets as Budget[];
      }
      await sleep(100);
    }
  };

  /** One request through the proxy; its event's total cost once the ledger has it. */
  const spend = async (dims: string) => {
    const res = await request(`${server.url}/v1/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-aso-api-key': key, 'x-aso-dims': dims },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.body.text();
    expect(res.statusCode).toBe(200);
    const id = res.headers['x-aso-request-id'] as string;
    for (const open = within(); open();) {
      const events = (await admin('GET', `/api/v1/events?request_id=${id}`)).body.events as {
        total_cost_usd: string;
      }[];
      if (events.length) return events[0].total_cost_usd;
      await sleep(50);
    }
    throw new Error(`no event for ${id}`);
  };

  /** Polls until `check` passes on the budget (the budgets projection follows the events within seconds). */
  const budgetWhen = async (id: string, check: (b: Budget) => boolean): Promise<Budget> => {
    let last: Budget | undefined;
    for (const open = within(); open();) {
      last = (await admin('GET', `/api/v1/budgets/${id}`)).body as unknown as Budget;
      if (check(last)) return last;
      await sleep(50);
    }
    throw new Error(`budget ${id} never matched: ${JSON.stringify(last)}`);
  };

  beforeAll(async () => {
    mock = await startMockProvider(() => ({
      body: {
        ...openAiChatJson('gpt-4o-mini', 'Hello!'),
        usage: { prompt_tokens: 12_000, completion_tokens: 3_000, total_tokens: 15_000 },
      },
    }));
    const dir = mkdtempSync(join(tmpdir(), 'spendops-budgets-'));
    chmodSync(dir, 0o755); // embedded PostgreSQL runs as its own user and must reach data/ inside
    const config = join(dir, 'spendops.yaml');
    writeFileSync(
      config,
      [
        'budgets:',
        '  - name: acme monthly',
        '    scope: { tenant: acme }',
        '    period: month',
        '    amount_usd: "1000.00"',
        '    thresholds: [50, 100]',
        '    owner: finops@acme.example',
        '',
      ].join('\n'),
    );
    env = {
      SPENDOPS_DATA_DIR: join(dir, 'data'),
      SPENDOPS_UPSTREAM_OPENAI: mock.url,
      SPENDOPS_CONFIG: config,
    };
    args = ['--addr', '127.0.0.1:0'];
    server = await startSpendOps(args, env);
    token = server.adminToken!;
    const created = await admin('POST', '/api/v1/keys', { name: 'acme-app', tenant: 'acme' });
    key = created.body.key as string;
  });

  afterAll(async () => {
    await server?.dispose();
    await mock?.close();
  });

  it('applies the config file budget at start under the id derived from its name, actor config', async () => {
    const id = budgetIdFromName('acme monthly');
    let found: Budget | undefined;
    for (const open = within(); open() && !found;) {
      found = (await budgetsNow()).find((b) => b.id === id);
      if (!found) await sleep(100);
    }
    expect(found).toMatchObject({ name: 'acme monthly', amount_usd: '1000.00', enforce: false });
  });

  let searchBudget = '';
  let searchTotal = new Decimal(0);

  it('counts exactly the cost of the events in scope (the whole current period, re-counted per request)', async () => {
    costs.push(await spend('team=search'));
    const first = new Decimal(costs[0]);
    expect(first.gt(0)).toBe(true);
    // 3 requests' worth: the request already made counts (the whole current period does), two more cross 100 %.
    const amount = first.times(3).toFixed();
    const created = await admin('POST', '/api/v1/budgets', {
      name: 'search team',
      scope: { tenant: 'acme', dims: { team: 'search' } },
      period: 'month',
      amount_usd: amount,
      thresholds: [50, 100],
    });
    expect(created.status).toBe(201);
    const budget = created.body as unknown as Budget;
    expect(budget.id).toMatch(/^bud_[0-9a-f]{16}$/);
    expect(budget.webhook_secret).toMatch(/^[0-9a-f]{64}$/);
    expect((await admin('GET', `/api/v1/budgets/${budget.id}`)).body.webhook_secret).toBeUndefined();
    await budgetWhen(budget.id, (b) => new Decimal(b.spent_usd).eq(first));

    costs.push(await spend('team=search'));
    await spend('team=ml'); // out of this budget's scope
    costs.push(await spend('team=search'));
    const total = costs.reduce((s, c) => s.plus(c), new Decimal(0));
    const settled = await budgetWhen(budget.id, (b) => new Decimal(b.spent_usd).eq(total));
    expect(new Decimal(settled.spent_usd).eq(total)).toBe(true);
    expect(settled.percent_used).toBe('100.00');
    searchBudget = budget.id;
    searchTotal = total;
  });

  it('lists the thresholds crossed as alerts, newest first', async () => {
    expect(searchBudget).not.toBe('');
    let alerts: { threshold: number; spent_usd: string }[] = [];
    for (const open = within(); open() && alerts.length < 2;) {
      const res = await admin('GET', `/api/v1/budgets/${searchBudget}/alerts`);
      expect(res.status).toBe(200);
      alerts = res.body.alerts as typeof alerts;
      if (alerts.length < 2) await sleep(50);
    }
    expect(alerts.map((a) => a.threshold)).toEqual([100, 50]);
    expect(new Decimal(alerts[0].spent_usd).eq(searchTotal)).toBe(true);
  });

  it('follows re-pricing: a tenant markup re-prices the events, the spend moves to their new total', async () => {
    expect(searchBudget).not.toBe('');
    const before = (await admin('GET', '/api/v1/events?tenant_id=acme&limit=100')).body.events as {
      request_id: string;
      dims: Record<string, string>;
    }[];
    const override = await admin('POST', '/api/v1/pricing/overrides', {
      tenant_id: 'acme',
      provider: 'openai',
      model: 'gpt-4o-mini',
      markup_pct: '10',
    });
    expect(override.status).toBe(201);
    const from = new Date(Date.now() - 3600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const repriced = await admin('POST', '/api/v1/pricing/reprice', { from, to, provider: 'openai' });
    expect(repriced.status).toBeLessThan(300);
    // Every acme request now has a re-pricing whose previous total is its old cost.
    const history = async (id: string) =>
      (await admin('GET', `/api/v1/events/${id}/repricings`)).body.repricings as {
        actor: string;
        previous_total_cost_usd: string;
        total_cost_usd: string;
      }[];
    let total = new Decimal(0);
    for (const e of before) {
      let rows = await history(e.request_id);
      for (const open = within(); open() && rows.length === 0;) {
        await sleep(50);
        rows = await history(e.request_id);
      }
      expect(rows).toHaveLength(1);
      const [r] = rows;
      expect(new Decimal(r.total_cost_usd).eq(new Decimal(r.previous_total_cost_usd).times('1.1'))).toBe(
        true,
      );
      if (e.dims.team === 'search') total = total.plus(r.total_cost_usd);
    }
    expect(total.eq(searchTotal.times('1.1'))).toBe(true);
    const b = await budgetWhen(searchBudget, (x) => new Decimal(x.spent_usd).eq(total));
    expect(new Decimal(b.spent_usd).eq(total)).toBe(true);
    expect((await admin('GET', '/api/v1/events/no-such-request/repricings')).status).toBe(404);
  });

  it('refuses bad budgets naming the field, and 404s unknown ids', async () => {
    const bad = await admin('POST', '/api/v1/budgets', { name: 'x', period: 'month', amount_usd: '-1' });
    expect([bad.status, bad.body.param]).toEqual([400, 'amount_usd']);
    const scope = await admin('POST', '/api/v1/budgets', {
      name: 'x',
      period: 'month',
      amount_usd: '1',
      scope: { team: 'a' },
    });
    expect([scope.status, scope.body.param]).toEqual([400, 'scope.team']);
    expect((await admin('GET', '/api/v1/budgets/bud_0000000000000000')).status).toBe(404);
  });

  it('the CLI creates, lists, shows and deletes budgets on the running server', async () => {
    const created = await runCli(
      ['budgets', 'create', '--name', 'from cli', '--amount-usd', '12.50', '--period', 'week', '--json'],
      env,
    );
    expect(created).toMatchObject({ code: 0 });
    const budget = JSON.parse(created.stdout) as Budget;
    expect(budget).toMatchObject({ name: 'from cli', amount_usd: '12.50' });
    expect((await budgetsNow()).map((b) => b.id)).toContain(budget.id);

    const listed = await runCli(['budgets', 'list', '--json'], env);
    expect((JSON.parse(listed.stdout) as { budgets: Budget[] }).budgets.map((b) => b.id)).toContain(
      budget.id,
    );
    const shown = await runCli(['budgets', 'show', budget.id], env);
    expect(shown.stdout).toContain('$12.50');

    const bad = await runCli(['budgets', 'create', '--name', 'bad', '--amount-usd', 'ten'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toMatch(/^spendops: --amount-usd \(amount_usd\): /);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);

    expect(await runCli(['budgets', 'delete', budget.id], env)).toMatchObject({ code: 0 });
    expect((await budgetsNow()).map((b) => b.id)).not.toContain(budget.id);
    const gone = await runCli(['budgets', 'show', budget.id], env);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('not found');
  });

  it('a restart with the same config file leaves its budget as it was (no second definition)', async () => {
    const id = budgetIdFromName('acme monthly');
    const before = (await budgetsNow()).find((b) => b.id === id)!;
    expect(await server.stop('SIGTERM')).toBe(0);
    // At info level the start logs what it did with each config budget.
    server = await startSpendOps(args, { ...env, SPENDOPS_LOG_LEVEL: 'info' });
    await budgetsNow();
    // The log line is JSON: its quotes are escaped.
    const applied = new RegExp(`config budget \\\\?"acme monthly\\\\?" \\(${id}\\): (\\w+)`);
    for (const open = within(); open() && !applied.test(server.output());) await sleep(100);
    const after = (await budgetsNow()).filter((b) => b.name === 'acme monthly');
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id, created_at: before.created_at, updated_at: before.updated_at });
    expect(applied.exec(server.output())?.[1]).toBe('unchanged');
  });
});
