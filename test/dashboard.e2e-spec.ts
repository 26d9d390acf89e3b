// The dashboard in headless Chromium against the built all-in-one server: requests seeded through the proxy
// (mock OpenAI upstream) show up with the API's numbers on each page, a filter changes them to the right ones,
// and a key created in the UI works through the proxy until it is revoked in the UI. Screenshots of each page go
// to test/screenshots/ for a reviewer.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Decimal from 'decimal.js';
import type { Browser, Page } from 'playwright-core';
import { request } from 'undici';
import { MockProvider, openAiChatJson, startMockProvider } from '@spendops/testing';
import { findChromium, launchChromium } from './support/browser';
import { SpendOpsProcess, startSpendOps } from './support/spendops-process';

jest.setTimeout(120_000);

const CHROMIUM = findChromium();
const SHOTS = join(__dirname, 'screenshots');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Polls of what the pipeline does in the background run to a 30 s deadline, not a count of 100 (about 5 s): the
// pipeline thread runs at nice 10 and takes longer on a busy machine.
const within = (ms = 30_000): (() => boolean) => {
  const end = Date.now() + ms;
  return () => Date.now() < end;
};

/** The dashboard's money formats, written out independently of its code. */
const usd2 = (d: Decimal) => '$' + d.toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

interface EventRow {
  request_id: string;
  model: string;
  tenant_id: string;
  total_cost_usd: string;
  prompt_tokens: number;
  completion_tokens: number;
}

const describeWithBrowser = CHROMIUM ? describe : describe.skip;
if (!CHROMIUM) {
  console.warn(
    'dashboard e2e skipped: no chromium binary (run scripts/ci/chromium.sh or set SPENDOPS_CHROMIUM)',
  );
}

describeWithBrowser('dashboard in a browser', () => {
  let mock: MockProvider;
  let server: SpendOpsProcess;
  let browser: Browser;
  let page: Page;
  let token: string;
  const seeded: EventRow[] = [];

  const admin = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const res = await request(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return (await res.body.json()) as Record<string, unknown>;
  };

  const proxyCall = async (key: string, model: string, dims: string) => {
    const res = await request(`${server.url}/v1/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-aso-api-key': key, 'x-aso-dims': dims },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.body.text();
    return { status: res.statusCode, requestId: res.headers['x-aso-request-id'] as string };
  };

  const eventOf = async (requestId: string): Promise<EventRow> => {
    for (const open = within(); open();) {
      const body = await admin('GET', `/api/v1/events?request_id=${requestId}`);
      const events = body.events as EventRow[];
      if (events.length) return events[0];
      await sleep(50);
    }
    throw new Error(`no event for ${requestId}`);
  };

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    mock = await startMockProvider((req) => {
      const model = (JSON.parse(String(req.body)) as { model: string }).model;
      const big = model === 'gpt-4o';
      return {
        body: {
          ...openAiChatJson(model, 'Hello!'),
          usage: big
            ? { prompt_tokens: 120_000, completion_tokens: 40_000, total_tokens: 160_000 }
            : { prompt_tokens: 1200, completion_tokens: 300, total_tokens: 1500 },
        },
      };
    });
    server = await startSpendOps(['--addr', '127.0.0.1:0'], {
      SPENDOPS_DATA_DIR: mkdtempSync(join(tmpdir(), 'spendops-dash-')),
      SPENDOPS_UPSTREAM_OPENAI: mock.url,
    });
    token = server.adminToken!;
    const acme = (await admin('POST', '/api/v1/keys', { name: 'acme-app', tenant: 'acme' })) as {
      key: string;
    };
    const globex = (await admin('POST', '/api/v1/keys', { name: 'globex-app', tenant: 'globex' })) as {
      key: string;
    };
    const calls = [
      [acme.key, 'gpt-4o', 'team=backend'],
      [acme.key, 'gpt-4o', 'team=backend'],
      [acme.key, 'gpt-4o-mini', 'team=search'],
      [globex.key, 'gpt-4o-mini', 'team=ml'],
      [globex.key, 'gpt-4o-mini', 'team=ml'],
    ];
    for (const [key, model, dims] of calls) {
      const { status, requestId } = await proxyCall(key, model, dims);
      expect(status).toBe(200);
      seeded.push(await eventOf(requestId));
    }
    browser = await launchChromium(CHROMIUM!);
    page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    page.on('dialog', (d) => void d.accept());
  });

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
    await mock?.close();
  });

  it('asks for the admin token on a deep link, refuses a wrong one, signs in with Enter', async () => {
    await page.goto(`${server.url}/explorer`);
    const input = page.getByLabel('Admin token');
    await input.fill('aso_admin_wrong');
    await input.press('Enter');
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('refused');
    await shot('login');
    await input.fill(token);
    await input.press('Enter');
    await page.getByRole('heading', { name: 'Explorer', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/explorer');
  });

  it('overview: month-to-date and today spend are the sum of the seeded costs; top models ranked', async () => {
    const total = seeded.reduce((s, e) => s.plus(e.total_cost_usd), new Decimal(0));
    expect(total.gt(0)).toBe(true);
    await page.goto(`${server.url}/overview`);
    const mtd = page.getByTestId('mtd-spend');
    await mtd.waitFor();
    expect(await mtd.textContent()).toBe(usd2(total));
    expect(await page.getByTestId('today-spend').textContent()).toBe(usd2(total));
    const models = await page.getByTestId('top-models').locator('tbody tr td:first-child').allTextContents();
    expect(models).toEqual(['gpt-4o', 'gpt-4o-mini']);
    const teams = await page.getByTestId('top-teams').locator('tbody tr td:first-child').allTextContents();
    expect(teams[0]).toBe('backend');
    expect(teams.sort()).toEqual(['backend', 'ml', 'search']);
    await shot('overview');
  });

  it('explorer: grouped by model, then a tenant filter changes the totals to that tenant', async () => {
    await page.goto(`${server.url}/explorer?group=model`);
    await page.getByTestId('explorer-table').waitFor();
    const sumOf = (rows: EventRow[]) => rows.reduce((s, e) => s.plus(e.total_cost_usd), new Decimal(0));
    expect(await page.getByTestId('explorer-total').textContent()).toContain(
      `${usd2(sumOf(seeded))} over 5 requests`,
    );
    await shot('explorer');
    await page.getByRole('textbox', { name: 'Tenant' }).fill('globex');
    await page.getByRole('textbox', { name: 'Tenant' }).press('Enter');
    await page.waitForURL(/tenant=globex/);
    const globex = seeded.filter((e) => e.tenant_id === 'globex');
    await page.getByTestId('explorer-total').filter({ hasText: 'over 2 requests' }).waitFor();
    expect(await page.getByTestId('explorer-total').textContent()).toContain(
      `${usd2(sumOf(globex))} over 2 requests`,
    );
    const rows = await page
      .getByTestId('explorer-table')
      .locator('tbody tr td:first-child')
      .allTextContents();
    expect(rows).toEqual(['gpt-4o-mini']);
  });

  it('requests: the list links to a request whose page shows model, tokens and exact cost', async () => {
    await page.goto(`${server.url}/requests`);
    const table = page.getByTestId('requests-table');
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBe(5);
    await shot('requests');
    const first = seeded[0];
    await page.getByRole('link', { name: first.request_id.slice(0, 8) }).click();
    await page.getByTestId('request-cost').waitFor();
    expect(new URL(page.url()).pathname).toBe(`/requests/${first.request_id}`);
    expect(await page.getByTestId('request-model').textContent()).toBe('gpt-4o');
    const cost = new Decimal(first.total_cost_usd);
    const shown = (await page.getByTestId('request-cost').textContent())!;
    expect(shown).toMatch(/^\$[\d,]+\.\d{2,}$/);
    expect(new Decimal(shown.replace(/[$,]/g, '')).eq(cost)).toBe(true);
    const facts = (await page.getByLabel('Token buckets').textContent())!;
    expect(facts).toContain('120,000');
    expect(facts).toContain('40,000');
    await shot('request-detail');
    // A cheap request's cost shows at least 4 decimals.
    const small = seeded[3];
    await page.goto(`${server.url}/requests/${small.request_id}`);
    const smallCost = (await page.getByTestId('request-cost').textContent())!;
    expect(new Decimal(small.total_cost_usd).lt(1)).toBe(true);
    expect(smallCost).toMatch(/^\$0\.\d{4,}$/);
    expect(new Decimal(smallCost.slice(1)).eq(small.total_cost_usd)).toBe(true);
  });

  it('requests: filtering by model narrows the list', async () => {
    await page.goto(`${server.url}/requests?model=gpt-4o-mini`);
    await page.getByTestId('requests-table').waitFor();
    const models = await page
      .getByTestId('requests-table')
      .locator('tbody tr td:nth-child(4)')
      .allTextContents();
    expect(models).toEqual(['gpt-4o-mini', 'gpt-4o-mini', 'gpt-4o-mini']);
  });

  it('keys: a key created in the UI works through the proxy; revoked in the UI, it is refused', async () => {
    await page.goto(`${server.url}/keys`);
    await page.getByTestId('keys-table').waitFor();
    await page.getByLabel('Name').fill('from-the-ui');
    await page.getByLabel('Name').press('Enter');
    const secret = (await page.getByTestId('new-key-secret').textContent())!;
    expect(secret).toMatch(/^aso_k_/);
    await shot('keys');
    expect((await proxyCall(secret, 'gpt-4o-mini', 'team=ui')).status).toBe(200);
    await page.getByRole('button', { name: 'Revoke from-the-ui' }).click();
    await page
      .getByRole('row', { name: /from-the-ui/ })
      .getByText('revoked')
      .waitFor();
    let status = 0;
    for (const open = within(); open() && status !== 401 && status !== 403;) {
      status = (await proxyCall(secret, 'gpt-4o-mini', 'team=ui')).status;
      if (status === 200) await sleep(50);
    }
    expect([401, 403]).toContain(status);
  });

  it('denials: the refused request is listed', async () => {
    // The ledger records the denial asynchronously: wait for the API to have it first.
    for (const open = within(); open();) {
      if (((await admin('GET', '/api/v1/denials')).denials as unknown[]).length) break;
      await sleep(50);
    }
    await page.goto(`${server.url}/denials`);
    const table = page.getByTestId('denials-table');
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBeGreaterThanOrEqual(1);
    await shot('denials');
  });

  it('pricing: the catalog lists the seeded models with their tiers', async () => {
    await page.goto(`${server.url}/pricing`);
    await page.getByTestId('catalog-table').waitFor();
    await page.getByLabel('Find a model').fill('gpt-4o-mini');
    const models = await page
      .getByTestId('catalog-table')
      .locator('tbody tr td:nth-child(2)')
      .allTextContents();
    expect(models).toContain('gpt-4o-mini');
    await shot('pricing');
  });

  it('budgets: the empty state, then a seeded budget with its spend, amount, bar and badges', async () => {
    await page.goto(`${server.url}/budgets`);
    await page.getByRole('heading', { name: 'Budgets', level: 1 }).waitFor();
    await page.getByText('No budgets yet.').waitFor();
    const acme = seeded.filter((e) => e.tenant_id === 'acme');
    const spent = acme.reduce((s, e) => s.plus(e.total_cost_usd), new Decimal(0));
    const amount = spent.times(2);
    const created = (await admin('POST', '/api/v1/budgets', {
      name: 'acme monthly',
      scope: { tenant: 'acme' },
      period: 'month',
      amount_usd: amount.toFixed(),
      thresholds: [50, 100],
    })) as { id: string };
    // The budgets projection counts the period's usage so far within moments.
    for (const open = within(); open();) {
      const b = await admin('GET', `/api/v1/budgets/${created.id}`);
      if (new Decimal(b.spent_usd as string).eq(spent)) break;
      await sleep(50);
    }
    await page.goto(`${server.url}/budgets`);
    const card = page.getByTestId(`budget-${created.id}`);
    await card.waitFor();
    expect(await card.getByRole('heading', { level: 2 }).textContent()).toBe('acme monthly');
    expect(await card.getByTestId('budget-spent').textContent()).toBe(usd2(spent));
    expect(await card.getByTestId('budget-amount').textContent()).toBe(usd2(amount));
    expect(await card.textContent()).toContain('(50.00%)');
    expect(await card.getByRole('meter').getAttribute('aria-valuetext')).toBe(
      `${usd2(spent)} of ${usd2(amount)} (50.00%)`,
    );
    expect(await card.getByText('Alerts only').count()).toBe(1);
    expect(await card.getByTestId('budget-exhausted').count()).toBe(0);
    expect(await card.getByTestId('budget-period').textContent()).toMatch(
      /^Monthly: \d{4}-\d\d-01 00:00:00 UTC → /,
    );
    // The alert history opens from the keyboard.
    await card.getByText('Alert history').focus();
    await page.keyboard.press('Enter');
    expect(await card.getByTestId('budget-alerts').getAttribute('open')).not.toBeNull();
    await shot('budgets');
  });

  it('requests: a request page shows its re-pricing history (none yet)', async () => {
    await page.goto(`${server.url}/requests/${seeded[0].request_id}`);
    await page.getByRole('heading', { name: 'Re-pricing history' }).waitFor();
    await page.getByText('Never re-priced').waitFor();
  });

  it('pricing: an override added in the UI, then a re-pricing run started in the UI, reprices exactly the matching events', async () => {
    const globexMini = seeded.filter((e) => e.tenant_id === 'globex' && e.model === 'gpt-4o-mini');
    const acmeMini = seeded.filter((e) => e.tenant_id === 'acme' && e.model === 'gpt-4o-mini');
    expect([globexMini.length, acmeMini.length]).toEqual([2, 1]);
    await page.goto(`${server.url}/pricing`);
    const add = page.getByRole('form', { name: 'Add an override' });
    await add.getByLabel('Tenant', { exact: true }).fill('globex');
    await add.getByLabel('Model', { exact: true }).fill('gpt-4o-mini');
    await add.getByLabel('Markup %', { exact: true }).fill('10');
    await add.getByLabel('Note', { exact: true }).fill('negotiated uplift');
    await add.getByRole('button', { name: 'Add override' }).click();
    await page
      .getByRole('region', { name: 'Overrides' })
      .getByRole('cell', { name: 'negotiated uplift' })
      .waitFor();

    const reprice = page.getByRole('form', { name: 'Re-price stored events' });
    // A start date is required unless only unpriced events are selected.
    expect(await reprice.getByLabel('From', { exact: true }).getAttribute('required')).not.toBeNull();
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    await reprice.getByLabel('From', { exact: true }).fill(day(Date.now() - 86_400_000));
    await reprice.getByLabel('To', { exact: true }).fill(day(Date.now()));
    await reprice.getByLabel('Model', { exact: true }).fill('gpt-4o-mini');
    await reprice.getByRole('button', { name: 'Re-price' }).click();
    const status = page.getByTestId('reprice-status');
    await status.filter({ hasText: /succeeded|failed/ }).waitFor();
    // Every gpt-4o-mini event so far is selected (the keys test made one too); only globex's have a new price.
    const minis = (await admin('GET', '/api/v1/events?model=gpt-4o-mini&limit=100')).events as EventRow[];
    const changed = minis.filter((m) => m.tenant_id === 'globex').length;
    expect(changed).toBe(2);
    const text = (await status.textContent()) ?? '';
    expect(text).toMatch(new RegExp(`^Run \\S+: succeeded — ${changed} of ${minis.length} events changed$`));
    const runId = /^Run (\S+):/.exec(text)![1];
    const runRow = page
      .getByRole('region', { name: 'Re-pricing' })
      .getByRole('row')
      .filter({ has: page.getByRole('cell', { name: runId, exact: true }) });
    await runRow.waitFor();
    expect(await runRow.textContent()).toContain(`${changed} / ${minis.length}`);
    expect(await runRow.textContent()).toContain('gpt-4o-mini');

    // The ledger has the new costs: globex's events +10 % exactly, acme's unchanged.
    const costNow = async (id: string, want: Decimal) => {
      for (const open = within(); open();) {
        const cost = new Decimal((await eventOf(id)).total_cost_usd);
        if (cost.eq(want)) return cost;
        await sleep(50);
      }
      return new Decimal((await eventOf(id)).total_cost_usd);
    };
    for (const e of globexMini) {
      const want = new Decimal(e.total_cost_usd).times('1.1');
      expect((await costNow(e.request_id, want)).toFixed()).toBe(want.toFixed());
    }
    expect((await eventOf(acmeMini[0].request_id)).total_cost_usd).toBe(acmeMini[0].total_cost_usd);

    // The request page tells the story: one re-pricing, old → new total.
    const usdShown = (d: Decimal) => '$' + d.toFixed(Math.max(4, d.decimalPlaces()));
    const e = globexMini[0];
    await page.goto(`${server.url}/requests/${e.request_id}`);
    const history = page.getByTestId('repricing-history');
    await history.waitFor();
    const rows = history.locator('tbody tr');
    expect(await rows.count()).toBe(1);
    const before = new Decimal(e.total_cost_usd);
    expect(await rows.first().locator('td').nth(3).textContent()).toBe(
      `${usdShown(before)} → ${usdShown(before.times('1.1'))}`,
    );
    await shot('pricing-repriced');
  });
});
