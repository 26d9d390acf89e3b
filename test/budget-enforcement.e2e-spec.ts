// Budget enforcement across two proxy processes over a real RabbitMQ (docs/budgets-enforcement.md): an enforcing
// budget, bursts of 200 concurrent requests spread over both proxies against an upstream that reports known usage.
// The recorded spend never passes the amount (the stated bound is the sum of reservation underestimates, zero for
// this traffic: every request names max_tokens and its prompt is smaller than its body), the proxies use up the
// headroom as the ledger settles, and every refusal is a 429 budget_exceeded recorded as a denial.
//
// Everything is the product's: the budget is created through the admin API, the ledger's budget projection
// publishes budget.spend.v1 and serves the snapshot; this spec only listens to budget.spend.v1 on the broker to
// know when the ledger has settled what was admitted.
import { randomUUID } from 'node:crypto';
import Decimal from 'decimal.js';
import { request } from 'undici';
import { Topics, type BudgetSpendV1, type UsageEventView } from '@spendops/contracts';
import { RabbitMqBus } from '@spendops/messaging';
import { MockProvider, openAiChatJson, startMockProvider } from '@spendops/testing';
import { Cluster, startCluster } from './support/cluster';

jest.setTimeout(240_000);

const RUN = `budget-${randomUUID().slice(0, 8)}`;
const AMOUNT = '0.30';
/** gpt-4o at catalog prices: 1000 input tokens × $2.50/M + 500 output × $10/M. */
const COST_PER_REQUEST = '0.0075';
const PROMPT = 'x'.repeat(1200); // the body (~1.3 KB) bounds the 1000 prompt tokens the upstream reports
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sent {
  proxy: number;
  status: number;
  requestId: string;
  body: string;
}

describe('budget enforcement: two proxies over RabbitMQ', () => {
  let mock: MockProvider;
  let cluster: Cluster;
  let bus: RabbitMqBus;
  let budgetId = '';
  /** The ledger's latest state of the budget, and every request it settled. */
  let latest: BudgetSpendV1 | null = null;
  let spent = new Decimal(0);
  const settled = new Set<string>();

  const createBudget = async (name: string, run: string, amount: string): Promise<string> => {
    const res = await request(`${cluster.apiUrl()}/api/v1/budgets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name,
        scope: { dims: { run } },
        period: 'day',
        amount_usd: amount,
        enforce: true,
      }),
    });
    const body = (await res.body.json()) as { id: string };
    expect(res.statusCode).toBe(201);
    return body.id;
  };

  const chat = async (proxy: number, run: string): Promise<Sent> => {
    const res = await request(`${cluster.proxyUrls()[proxy]}/v1/openai/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-aso-api-key': cluster.key,
        'x-aso-dims': `run=${run}`,
      },
      body: JSON.stringify({
        model: 'gpt-4o',
        max_tokens: 500,
        messages: [{ role: 'user', content: PROMPT }],
      }),
    });
    return {
      proxy,
      status: res.statusCode,
      requestId: String(res.headers['x-aso-request-id']),
      body: await res.body.text(),
    };
  };
  /** While set, the upstream holds the requests the proxies admitted (so none settles before the burst is decided). */
  let gate: { held: number; opened: Promise<void> } | null = null;
  /**
   * A burst every request of which is admitted or refused before any admitted one ends: what "a burst hits all
   * proxies at once" means, however slowly a loaded machine sends 200 requests.
   */
  const simultaneousBurst = async (n: number): Promise<Sent[]> => {
    let open!: () => void;
    const held = { held: 0, opened: new Promise<void>((r) => (open = r)) };
    gate = held;
    let refused = 0;
    const sent = Array.from({ length: n }, (_, i) =>
      chat(i % 2, RUN).then((s) => {
        if (s.status !== 200) refused++;
        return s;
      }),
    );
    try {
      await until('every request of the burst decided', () => held.held + refused === n);
    } finally {
      gate = null;
      open();
    }
    return Promise.all(sent);
  };
  const proxiesLive = async (proxy: number): Promise<number> => {
    const res = await request(`${cluster.proxyUrls()[proxy]}/metrics`);
    const m = /^spendops_budget_proxies_live (\d+)$/m.exec(await res.body.text());
    return m ? Number(m[1]) : 0;
  };

  const api = async <T>(path: string): Promise<T> => {
    const res = await request(`${cluster.apiUrl()}${path}`, {
      headers: { authorization: `Bearer ${cluster.adminToken}` },
    });
    expect(res.statusCode).toBe(200);
    return (await res.body.json()) as T;
  };
  const until = async (what: string, check: () => boolean | Promise<boolean>, ms = 60_000) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  };

  beforeAll(async () => {
    mock = await startMockProvider(async () => {
      if (gate) {
        gate.held++;
        await gate.opened;
      }
      return {
        headersDelayMs: 150, // the requests of a burst are in flight together
        body: {
          ...openAiChatJson('gpt-4o'),
          usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 },
        },
      };
    });
    cluster = await startCluster({ SPENDOPS_UPSTREAM_OPENAI: mock.url }, { proxies: 2 });
    bus = new RabbitMqBus({ url: cluster.rabbit.url, connectionName: 'budget e2e (listener)' });
    await bus.start();
    await bus.waitUntilConnected(10_000);
    await bus.subscribe<BudgetSpendV1>(
      'e2e.budget-spend',
      [Topics.budgetSpend],
      async (m) => {
        if (m.budget_id !== budgetId) return;
        for (const id of m.settled_request_ids) settled.add(id);
        if (!latest || BigInt(m.position) >= BigInt(latest.position)) {
          latest = m;
          spent = new Decimal(m.spent_usd);
        }
      },
      { broadcast: true },
    );
    budgetId = await createBudget('budget e2e', RUN, AMOUNT);
    // Less than any reservation: a proxy that denies a probe has loaded the budgets and the price sheet.
    await createBudget('budget e2e probe', `${RUN}-probe`, '0.000001');
    for (const proxy of [0, 1]) {
      await until(`proxy${proxy} to enforce`, async () => (await chat(proxy, `${RUN}-probe`)).status === 429);
      // Each holds at most half the headroom only once it hears the other's heartbeats.
      await until(`proxy${proxy} to hear the other`, async () => (await proxiesLive(proxy)) === 2);
    }
  });

  afterAll(async () => {
    await bus?.close();
    await cluster?.destroy();
    await mock?.close();
  });

  const admittedIds = new Set<string>();
  const deniedIds = new Set<string>();
  const tally = (sent: Sent[]) => {
    for (const s of sent) {
      if (s.status === 200) admittedIds.add(s.requestId);
      else {
        expect(s.status).toBe(429);
        expect(JSON.parse(s.body)).toEqual({
          error: `AISpendOps: budget ${budgetId} exceeded: spend and requests in flight reached its $${AMOUNT}`,
        });
        deniedIds.add(s.requestId);
      }
    }
    return sent.filter((s) => s.status === 200).length;
  };
  const settledAll = () =>
    until('the ledger to settle', () => [...admittedIds].every((id) => settled.has(id)));

  it('admits a burst of 200 concurrent requests only up to each proxy’s share of the headroom', async () => {
    const admitted = tally(await simultaneousBurst(200));
    // Reservation ≈ 1.3 KB × $4.25/M + 500 × $17/M (gpt-4o's priority rates) ≈ $0.014; a $0.15 share each.
    expect(admitted).toBeGreaterThanOrEqual(10);
    expect(admitted).toBeLessThanOrEqual(21);
    await settledAll();
    expect(spent.lte(AMOUNT)).toBe(true);
    expect(spent.equals(new Decimal(COST_PER_REQUEST).times(admitted))).toBe(true);
  });

  it('uses the settled headroom in later bursts and stops within two reservations of the amount', async () => {
    // A wave that admits nothing ends the waves only once less than two reservations of headroom are left: the
    // proxies learn of each other's released reservations from heartbeats, which on a busy machine can come later
    // than the pause, and until then a proxy rightly refuses.
    for (let wave = 0; wave < 10; wave++) {
      const admitted = tally(await simultaneousBurst(200));
      await settledAll();
      expect(spent.lte(AMOUNT)).toBe(true);
      if (admitted === 0 && new Decimal(AMOUNT).minus(spent).lt('0.0282')) break;
      await sleep(1500); // the next heartbeats report the settled reservations gone
    }
    // Both shares are below one reservation: less than 2 × $0.0141 of headroom is left.
    expect(new Decimal(AMOUNT).minus(spent).lt('0.0282')).toBe(true);
    expect(spent.lte(AMOUNT)).toBe(true);
  });

  it('records exactly the admitted requests as events (the total ≤ the amount) and every 429 as a denial', async () => {
    type Page<K extends string, T> = Record<K, T[]> & { next?: string | null };
    const events = await api<Page<'events', UsageEventView>>(`/api/v1/events?dim.run=${RUN}&limit=1000`);
    expect(new Set(events.events.map((e) => e.request_id))).toEqual(admittedIds);
    const total = events.events.reduce((sum, e) => sum.plus(e.total_cost_usd ?? '0'), new Decimal(0));
    expect(total.equals(spent)).toBe(true);
    expect(total.lte(AMOUNT)).toBe(true);

    let denials: { request_id: string; type: string; http_status: number }[] = [];
    await until('the denials to be recorded', async () => {
      const ids = new Set<string>();
      let next: string | null | undefined = null;
      denials = [];
      do {
        const qs: string = `dim.run=${RUN}&limit=1000${next ? `&next=${encodeURIComponent(next)}` : ''}`;
        const page: Page<'denials', { request_id: string; type: string; http_status: number }> = await api(
          `/api/v1/denials?${qs}`,
        );
        for (const d of page.denials) {
          if (ids.has(d.request_id)) continue;
          ids.add(d.request_id);
          denials.push(d);
        }
        next = page.next;
      } while (next);
      return denials.length >= deniedIds.size;
    });
    expect(new Set(denials.map((d) => d.request_id))).toEqual(deniedIds);
    expect(denials.every((d) => d.type === 'budget_exceeded' && d.http_status === 429)).toBe(true);
  });
});
