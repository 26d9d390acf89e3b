// Issue 15: events, denials and analytics agree after 10,000 mixed requests through a real all-in-one
// `spendops serve` (OpenAI JSON and streams, Anthropic streams, Gemini, cancelled clients, upstream 429/500s,
// cut streams, and denials of four types), again after an online `spendops projections rebuild`, and again after
// a re-pricing with a tenant override (the new costs everywhere). "Agree": the events' count, token and exact
// decimal cost sums equal the analytics totals (hourly and daily), equal the sums of its groups (every grouping,
// also capped with `other`), equal each group computed from the events; the denials listed equal the denials sent.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Decimal from 'decimal.js';
import { Agent, request } from 'undici';
import type { MockProvider } from '@spendops/testing';
import {
  forwardedSeqs,
  newRun,
  runLoad,
  startLoadMock,
  upstreamEnv,
  type SentRequest,
} from './support/mixed-load';
import { runCli, startSpendOps, type SpendOpsProcess } from './support/spendops-process';

// ~2.5 min on this 2-core machine under moderate load; the slack is for a machine shared with other work.
jest.setTimeout(420_000);

const USAGE_REQUESTS = 9_500;
const DENIED_REQUESTS = 500;
const CONCURRENCY = 96;
const TENANT = 'agree';
const TOKEN = 'agreement-admin-token-0123456789abcdef';

interface Event {
  request_id: string;
  tenant_id: string;
  api_key_id: string;
  provider: string;
  model: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  total_cost_usd: string | null;
  dims: Record<string, string>;
}

interface Sums {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  unpriced_requests: number;
  cost_usd: string;
}

interface Analytics {
  interval: string;
  groups_total: number;
  totals: Sums;
  groups: (Sums & { group: Record<string, string>; other?: true })[];
  series: (Sums & { bucket_start: string; group: Record<string, string>; other?: true })[];
}

const agent = new Agent({ connections: 16 });
const t0 = Date.now();
const log = (what: string) => console.log(`agreement: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function api<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await request(`${base}${path}`, {
    method: method as 'GET',
    dispatcher: agent,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
  return JSON.parse(text) as T;
}

async function pages<T>(base: string, path: string, field: string): Promise<T[]> {
  const out: T[] = [];
  let next: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page: Record<string, unknown> = await api<Record<string, unknown>>(
      base,
      'GET',
      `${path}${sep}limit=1000${next ? `&next=${encodeURIComponent(next)}` : ''}`,
    );
    out.push(...(page[field] as T[]));
    next = (page.next as string | null) ?? null;
  } while (next);
  return out;
}

function sumOf(events: Event[]): Sums {
  let cost = new Decimal(0);
  const s = { requests: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, unpriced_requests: 0 };
  for (const e of events) {
    s.requests++;
    s.prompt_tokens += e.prompt_tokens ?? 0;
    s.completion_tokens += e.completion_tokens ?? 0;
    s.total_tokens += e.total_tokens ?? 0;
    if (e.total_cost_usd === null) s.unpriced_requests++;
    else cost = cost.plus(e.total_cost_usd);
  }
  return { ...s, cost_usd: cost.toFixed() };
}

/** The measures compared, the cost as a normalised exact decimal. */
function measures(s: Sums): Sums {
  return {
    requests: s.requests,
    prompt_tokens: s.prompt_tokens,
    completion_tokens: s.completion_tokens,
    total_tokens: s.total_tokens,
    unpriced_requests: s.unpriced_requests,
    cost_usd: new Decimal(s.cost_usd).toFixed(),
  };
}

function addAll(rows: Sums[]): Sums {
  return rows.reduce<Sums>(
    (a, r) => ({
      requests: a.requests + r.requests,
      prompt_tokens: a.prompt_tokens + r.prompt_tokens,
      completion_tokens: a.completion_tokens + r.completion_tokens,
      total_tokens: a.total_tokens + r.total_tokens,
      unpriced_requests: a.unpriced_requests + r.unpriced_requests,
      cost_usd: new Decimal(a.cost_usd).plus(r.cost_usd).toFixed(),
    }),
    sumOf([]),
  );
}

const GROUPINGS: [name: string, pick: (e: Event) => string][] = [
  ['provider', (e) => e.provider],
  ['model', (e) => e.model],
  ['api_key_id', (e) => e.api_key_id],
  ['tenant_id', (e) => e.tenant_id],
  ['dim:run', (e) => e.dims.run ?? ''],
];

describe('agreement: events, denials and analytics after 10,000 mixed requests (all-in-one)', () => {
  let mock: MockProvider;
  let server: SpendOpsProcess;
  let dataDir: string;
  let base: string;
  const run = newRun();
  const deniedSent = new Map<string, number>();
  let range: string;

  /** Every check of the file header, against the events as the API lists them now. */
  async function expectAgreement(label: string): Promise<Event[]> {
    const events = await pages<Event>(base, '/api/v1/events?order=asc', 'events');
    const truth = measures(sumOf(events));
    for (const interval of ['hour', 'day']) {
      const all = await api<Analytics>(base, 'GET', `/api/v1/analytics?${range}&interval=${interval}`);
      expect([label, interval, measures(all.totals)]).toEqual([label, interval, truth]);
      expect([label, interval, measures(addAll(all.series))]).toEqual([label, interval, truth]);
    }
    for (const [group, pick] of GROUPINGS) {
      const want = new Map<string, Event[]>();
      for (const e of events) want.set(pick(e), [...(want.get(pick(e)) ?? []), e]);
      const full = await api<Analytics>(
        base,
        'GET',
        `/api/v1/analytics?${range}&interval=hour&group_by=${group}&limit=1000`,
      );
      expect([label, group, measures(full.totals)]).toEqual([label, group, truth]);
      expect([label, group, measures(addAll(full.groups))]).toEqual([label, group, truth]);
      expect([label, group, measures(addAll(full.series))]).toEqual([label, group, truth]);
      expect(full.groups_total).toBe(want.size);
      for (const g of full.groups)
        expect([label, group, g.group[group], measures(g)]).toEqual([
          label,
          group,
          g.group[group],
          measures(sumOf(want.get(g.group[group]) ?? [])),
        ]);
      // Capped to one group: the costliest, then `other` holding exactly the rest.
      const capped = await api<Analytics>(
        base,
        'GET',
        `/api/v1/analytics?${range}&interval=hour&group_by=${group}&limit=1`,
      );
      expect(capped.groups.length).toBe(want.size > 1 ? 2 : want.size);
      expect([label, group, measures(addAll(capped.groups))]).toEqual([label, group, truth]);
      expect([label, group, measures(addAll(capped.series))]).toEqual([label, group, truth]);
      if (want.size > 1) expect(capped.groups[1].other).toBe(true);
    }
    const denials = await pages<{ type: string }>(base, '/api/v1/denials?order=asc', 'denials');
    const byType = new Map<string, number>();
    for (const d of denials) byType.set(d.type, (byType.get(d.type) ?? 0) + 1);
    expect([label, Object.fromEntries(byType)]).toEqual([label, Object.fromEntries(deniedSent)]);
    return events;
  }

  /** Polls until the analytics totals equal the events' sums (projections are asynchronous), then checks all. */
  async function settleThenCheck(label: string, expectCount: number): Promise<Event[]> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const events = await pages<Event>(base, '/api/v1/events?order=asc', 'events');
      const all = await api<Analytics>(base, 'GET', `/api/v1/analytics?${range}&interval=day`);
      const agree = JSON.stringify(measures(all.totals)) === JSON.stringify(measures(sumOf(events)));
      if ((events.length === expectCount && agree) || Date.now() > deadline) break;
      await sleep(500);
    }
    return expectAgreement(label);
  }

  beforeAll(async () => {
    mock = await startLoadMock();
    dataDir = mkdtempSync(join(tmpdir(), 'spendops-agree-'));
    server = await startSpendOps(['--addr', '127.0.0.1:0'], {
      SPENDOPS_DATA_DIR: dataDir,
      SPENDOPS_ADMIN_TOKEN: TOKEN,
      ...upstreamEnv(mock),
    });
    base = server.url;
  });

  afterAll(async () => {
    await server?.dispose();
    await mock?.close();
  });

  it('agree after the traffic, after an online projection rebuild, and after a re-pricing', async () => {
    const keyA = await api<{ key: string }>(base, 'POST', '/api/v1/keys', {
      name: 'agree-a',
      tenant: TENANT,
      policy: { dims_allowed: ['run'] },
    });
    const keyB = await api<{ key: string }>(base, 'POST', '/api/v1/keys', {
      name: 'agree-b',
      tenant: `${TENANT}-b`,
      policy: {
        dims_allowed: ['run'],
        providers: ['openai', 'google'],
        models: ['openai:gpt-4o-mini', 'google:*'],
      },
    });

    // The usage mix over two keys (two tenants), concurrently with the denials.
    const trafficStart = Date.now() - 1000;
    const half = USAGE_REQUESTS / 2;
    const denials = sendDenials(base, keyB.key, run, DENIED_REQUESTS, deniedSent);
    const [a, b] = await Promise.all([
      runLoad({ proxyUrls: [base], key: keyA.key, run, total: half, concurrency: CONCURRENCY / 2 }),
      runLoad({
        proxyUrls: [base],
        key: keyB.key,
        run: `${run}b`,
        total: half,
        concurrency: CONCURRENCY / 2,
      }),
    ]);
    await denials;
    const trafficEnd = Date.now() + 1000;
    const sent: SentRequest[] = [...a, ...b];
    const forwarded = forwardedSeqs(mock);
    // Key B's policy blocks Anthropic: those are denials too (provider_blocked), never forwarded.
    const usage = sent.filter((s) => forwarded.has(s.seq));
    const blocked = sent.filter((s) => !forwarded.has(s.seq));
    expect(blocked.every((s) => s.kind === 'anthropic-stream' && s.status === 403)).toBe(true);
    deniedSent.set('provider_blocked', (deniedSent.get('provider_blocked') ?? 0) + blocked.length);
    expect(usage.every((s) => s.requestId !== null)).toBe(true);
    // Whole UTC days around the run, so daily and hourly buckets cover the same requests.
    const day = 86_400_000;
    const today = Math.floor(Date.now() / day) * day;
    const [from, to] = [new Date(today - day).toISOString(), new Date(today + 2 * day).toISOString()];
    range = `from=${from}&to=${to}`;
    log('traffic sent');

    const before = await settleThenCheck('after traffic', usage.length);
    log('agree after traffic');
    expect(before).toHaveLength(usage.length);
    expect(new Set(before.map((e) => e.request_id))).toEqual(new Set(usage.map((s) => s.requestId)));

    // Online rebuild of every rebuildable projection while the server runs.
    const rebuilt = await runCli(['projections', 'rebuild'], { SPENDOPS_DATA_DIR: dataDir });
    expect(rebuilt.stderr).toBe('');
    expect(rebuilt.code).toBe(0);
    const afterRebuild = await settleThenCheck('after rebuild', usage.length);
    log('agree after rebuild');
    expect(afterRebuild.map((e) => [e.request_id, e.total_cost_usd]).sort()).toEqual(
      before.map((e) => [e.request_id, e.total_cost_usd]).sort(),
    );

    // A 50% markup for tenant A's OpenAI usage, then a re-pricing: its costs change, the rest stay.
    await api(base, 'POST', '/api/v1/pricing/overrides', {
      tenant_id: TENANT,
      provider: 'openai',
      model: '*',
      markup_pct: '50',
    });
    // One run for the whole traffic, as a FinOps user starts it: 202 at once with the run's Location, which is
    // polled until the run ends (on a loaded machine it outlasts a bus command's timeout; nothing waits on it).
    const repriceAt = Date.now();
    const started = await request(`${base}/api/v1/pricing/reprice?wait=0`, {
      method: 'POST',
      dispatcher: agent,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        from: new Date(trafficStart).toISOString(),
        to: new Date(trafficEnd).toISOString(),
      }),
    });
    const startedBody = await started.body.text();
    expect([started.statusCode, started.headers.location]).toEqual([
      202,
      `/api/v1/pricing/reprice-runs/${JSON.parse(startedBody).id}`,
    ]);
    let reprice = JSON.parse(startedBody) as {
      status: string;
      examined: number;
      changed: number;
      error: string | null;
    };
    let polls = 0;
    for (; reprice.status === 'running'; polls++) {
      await sleep(250);
      reprice = await api<typeof reprice>(base, 'GET', started.headers.location as string);
    }
    expect(reprice).toMatchObject({ status: 'succeeded', examined: usage.length, error: null });
    expect(reprice.changed).toBeGreaterThan(0);
    log(
      `re-priced ${reprice.changed} of ${reprice.examined} events in one run (${Date.now() - repriceAt} ms, ${polls} polls)`,
    );
    const wantCost = (e: Event): string | null =>
      e.total_cost_usd === null
        ? null
        : e.tenant_id === TENANT && e.provider === 'openai'
          ? new Decimal(e.total_cost_usd).times('1.5').toFixed()
          : new Decimal(e.total_cost_usd).toFixed();
    // The ledger appends the run's UsageRepriced events after the run has published them: wait while it makes
    // progress (a minute without any fails).
    let deadline = Date.now() + 60_000;
    let after: Event[] = [];
    let pending = Infinity;
    for (;;) {
      after = await pages<Event>(base, '/api/v1/events?order=asc', 'events');
      const byId = new Map(before.map((e) => [e.request_id, e]));
      const left = after.filter(
        (e) =>
          (e.total_cost_usd === null ? null : new Decimal(e.total_cost_usd).toFixed()) !==
          wantCost(byId.get(e.request_id)!),
      ).length;
      if (left < pending) deadline = Date.now() + 60_000;
      pending = left;
      if (left === 0 || Date.now() > deadline) break;
      await sleep(2000); // reading all events is work the busy server shares with the ledger's appends
    }
    log(`re-pricing applied by the ledger (${pending} left)`);
    const byId = new Map(before.map((e) => [e.request_id, e]));
    expect(
      after
        .filter(
          (e) =>
            (e.total_cost_usd === null ? null : new Decimal(e.total_cost_usd).toFixed()) !==
            wantCost(byId.get(e.request_id)!),
        )
        .slice(0, 5),
    ).toEqual([]);
    const final = await settleThenCheck('after re-pricing', usage.length);
    log('agree after re-pricing');
    expect(measures(sumOf(final)).cost_usd).not.toBe(measures(sumOf(before)).cost_usd);
  });
});

/** Denied requests of three more types, `concurrency` 8: a key that does not exist, a blocked model, a dimension
 * the key does not allow. Counts what was sent by the denial type it must be recorded as. */
async function sendDenials(
  base: string,
  key: string,
  run: string,
  total: number,
  sent: Map<string, number>,
): Promise<void> {
  const kinds: [type: string, key: string, model: string, dims: string][] = [
    ['invalid_key', 'aso_k_doesnotexist.0123456789abcdef0123456789abcdef', 'gpt-4o-mini', `run=${run}`],
    ['model_blocked', key, 'gpt-4o', `run=${run}`],
    ['dimension_validation', key, 'gpt-4o-mini', 'colour=red'],
  ];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const [type, k, model, dims] = kinds[i % kinds.length];
      const res = await request(`${base}/v1/openai/v1/chat/completions`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', 'x-aso-api-key': k, 'x-aso-dims': dims },
        body: JSON.stringify({ model, messages: [] }),
      });
      await res.body.text();
      if (res.statusCode < 400) throw new Error(`${type}: not denied (${res.statusCode})`);
      sent.set(type, (sent.get(type) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}
