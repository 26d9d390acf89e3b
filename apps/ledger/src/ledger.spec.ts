import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { Topics, type RequestDeniedV1, type UsageEventView, type UsagePricedV1 } from '@spendops/contracts';
import { EventStore, ProjectionRunner } from '@spendops/event-store';
import type { InProcessBus } from '@spendops/messaging';
import {
  pricedUsage,
  startPostgresModule,
  type PostgresTestModule,
  type PricedUsageOverrides,
} from '@spendops/testing';
import { LEDGER_PROJECTIONS } from './ledger-projections';
import { LEDGER_MIGRATIONS, LedgerModule } from './ledger.module';
import {
  LedgerFilterError,
  LedgerQueries,
  type AnalyticsDimension,
  type LedgerFilter,
} from './ledger.queries';
import { LedgerService } from './ledger.service';

jest.setTimeout(30_000);

const BASE = Date.UTC(2026, 10, 1, 12, 0, 0);

/** Event i: i prompt tokens at BASE + i seconds, a standard cost of 0.000001 (first-write-wins asserts it). */
function priced(i: number, over: PricedUsageOverrides = {}): UsagePricedV1 {
  return pricedUsage({
    request_id: `req-${String(i).padStart(5, '0')}`,
    tenant_id: 'default',
    started_at_ms: BASE + i * 1000,
    first_byte_at_ms: BASE + i * 1000 + 100,
    ended_at_ms: BASE + i * 1000 + 200,
    ...over,
    usage: { prompt_tokens: i, completion_tokens: 1, total_tokens: i + 1, ...over.usage },
    cost: {
      calculated_cost: '0.000001',
      total_cost_usd: '0.000001',
      pricing_version: '2026-11-01.1',
      ...over.cost,
    },
  });
}

/** Every field set (the reference's fullEvent), for the round trip and the golden file. */
function fullPriced(): UsagePricedV1 {
  return priced(1, {
    request_id: '0b7c2f6e-8d1a-4c3e-9f00-000000000001',
    tenant_id: 'default',
    api_key_id: 'key_abc',
    provider: 'anthropic',
    dialect: 'anthropic',
    endpoint: '/v1/messages',
    request_model: 'claude-sonnet-4-5',
    stream: true,
    dims: { team: 'search', app: 'web' },
    started_at_ms: 1793608215123,
    first_byte_at_ms: 1793608215456,
    ended_at_ms: 1793608217000,
    usage: {
      prompt_tokens: 1500,
      completion_tokens: 320,
      total_tokens: 1820,
      cache_read_tokens: 1000,
      cache_write_tokens: 200,
      cache_write_5m_tokens: 150,
      cache_write_1h_tokens: 50,
      reasoning_tokens: 64,
      prompt_audio_tokens: 3,
      prompt_image_tokens: 4,
      completion_audio_tokens: 5,
      completion_image_tokens: 6,
      endpoint_class: 'messages',
      model: 'claude-sonnet-4-5',
      response_model: 'claude-sonnet-4-5-20250929',
      generation_id: 'msg_01XYZ',
      service_tier: 'standard',
      web_search_requests: 2,
      image_count: 1,
      image_size: '1024x1024',
      image_quality: 'hd',
      audio_seconds: '12.50',
      input_characters: 42,
      raw_usage: {
        message_start: { input_tokens: 300, cache_read_input_tokens: 1000 },
        message_delta: { output_tokens: 320 },
      },
    },
    cost: {
      provider_cost: null,
      calculated_cost: '0.0123456789012',
      total_cost_usd: '0.01234500',
      cost_source: 'standard',
      pricing_matched: true,
      pricing_model: 'claude-sonnet-4-5',
      pricing_version: '2026-11-01.1',
    },
  });
}

let pgModule: PostgresTestModule<InProcessBus>;
let ledger: LedgerService;
let queries: LedgerQueries;
let runner: ProjectionRunner;
let bus: InProcessBus;
let ds: DataSource;
let store: EventStore;
const published: { id: string; body: UsageEventView }[] = [];

beforeAll(async () => {
  pgModule = await startPostgresModule({
    migrations: LEDGER_MIGRATIONS,
    eventStore: { autoStart: false, listen: false },
    imports: [LedgerModule],
  });
  const app = pgModule.module;
  ledger = app.get(LedgerService);
  queries = app.get(LedgerQueries);
  runner = app.get(ProjectionRunner);
  bus = pgModule.bus;
  ds = app.get(DataSource);
  store = app.get(EventStore);
  await bus.subscribe<UsageEventView>('test.recorded', [Topics.usageRecorded], async (body, env) => {
    published.push({ id: env.id, body });
  });
});
afterAll(async () => {
  await pgModule?.close();
});

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not met in time');
}

async function eventCount(stream: string): Promise<number> {
  return (await store.readStream(stream)).length;
}

describe('ledger write side', () => {
  it('appends a priced usage from the bus once, however often it is delivered', async () => {
    const p = priced(90001);
    await bus.publish(Topics.usagePriced, p);
    await bus.publish(Topics.usagePriced, { ...p, cost: { ...p.cost, total_cost_usd: '9' } });
    await until(async () => (await eventCount(p.request_id)) === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(await eventCount(p.request_id)).toBe(1);
    await runner.catchUp();
    const { events } = await queries.findEvents({ request_id: p.request_id });
    expect(events).toHaveLength(1);
    expect(events[0].total_cost_usd).toBe('0.000001000'); // the first write wins
  });

  it('appends denials from the bus to denials_view', async () => {
    const d: RequestDeniedV1 = {
      request_id: 'deny-1',
      ts: '2026-11-02T08:30:15.123Z',
      type: 'missing_key',
      reason: 'Missing X-ASO-API-Key',
      http_status: 401,
      tenant_id: '',
      api_key_id: '',
      provider: '',
      path: '/v1/openai/chat/completions',
      dims: {},
    };
    await bus.publish(Topics.requestDenied, d);
    await bus.publish(Topics.requestDenied, d);
    await until(async () => (await eventCount('deny-1')) === 1);
    await runner.catchUp();
    const { denials, next } = await queries.findDenials({ request_id: 'deny-1' });
    expect(denials).toEqual([d]);
    expect(next).toBeNull();
    await expect(queries.findDenials({ model: 'gpt-4o' })).rejects.toThrow(LedgerFilterError);
  });

  it('round-trips every EVENT field, costs as exact decimal strings (golden file)', async () => {
    const p = fullPriced();
    expect(await ledger.recordUsage(p)).toBe(true);
    expect(await ledger.recordUsage(p)).toBe(false);
    await runner.catchUp();
    const { events } = await queries.findEvents({ request_id: p.request_id });
    const golden = join(__dirname, 'fixtures', 'event.golden.json');
    const text = `${JSON.stringify(events[0], null, 2)}\n`;
    if (process.env.UPDATE_GOLDEN) writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, 'utf8'));
    // Checks that do not depend on the golden file being right.
    const e = events[0];
    expect(e.total_cost_usd).toBe('0.012345000');
    expect(e.calculated_cost).toBe('0.0123456789012');
    expect(e.provider_cost).toBeNull();
    expect(e.ts).toBe('2026-11-02T08:30:15.123Z');
    expect(e.dims).toEqual({ team: 'search', app: 'web' });
    expect(e.raw_usage).toEqual(p.usage.raw_usage);
    const [stored] = await ds.query(
      `SELECT total_cost_usd::text AS t, pg_typeof(total_cost_usd)::text AS ty
      FROM usage_events_view WHERE request_id = $1`,
      [p.request_id],
    );
    expect(stored).toEqual({ t: '0.012345000', ty: 'numeric' });
  });
});

describe('filters and cursors', () => {
  const ids = (events: { request_id: string }[]) => events.map((e) => e.request_id);

  beforeAll(async () => {
    const evs: UsagePricedV1[] = [
      priced(0, {
        request_id: 'f-a',
        request_model: 'gpt-4o',
        api_key_id: 'k1',
        tenant_id: 't1',
        dims: { team: 'search', app: 'web' },
      }),
      priced(0, {
        request_id: 'f-b',
        request_model: 'gpt-4o-mini',
        api_key_id: 'k2',
        tenant_id: 't1',
        dims: { team: 'search', app: 'cli' },
      }),
      priced(0, {
        request_id: 'f-c',
        provider: 'anthropic',
        request_model: 'claude-sonnet-4-5',
        api_key_id: 'k1',
        tenant_id: 't2',
        dims: { team: 'ads' },
      }),
      priced(0, {
        request_id: 'f-d',
        provider: 'google',
        request_model: 'gemini-2.5-pro',
        api_key_id: 'k3',
        tenant_id: 't2',
      }),
      priced(0, {
        request_id: 'f-e',
        request_model: 'gpt-4o',
        api_key_id: 'k1',
        tenant_id: 't1',
        dims: { team: 'search', env: '' },
      }),
    ];
    const base = Date.UTC(2030, 0, 1, 0, 0, 0);
    evs.forEach((e, i) => {
      e.started_at_ms = base + i * 3600_000;
      e.tenant_id = `filt-${e.tenant_id}`;
    });
    for (const e of evs) await ledger.recordUsage(e);
    await runner.catchUp();
  });

  const at = (h: number) => new Date(Date.UTC(2030, 0, 1, h)).toISOString();
  const scope = { from: at(-1), to: at(10) };
  const cases: [string, LedgerFilter, string[]][] = [
    ['none', {}, ['f-a', 'f-b', 'f-c', 'f-d', 'f-e']],
    ['request_id', { request_id: 'f-c' }, ['f-c']],
    ['unknown request_id', { request_id: 'zz' }, []],
    ['provider', { provider: 'openai' }, ['f-a', 'f-b', 'f-e']],
    ['model', { model: 'gpt-4o' }, ['f-a', 'f-e']],
    ['provider and model', { provider: 'anthropic', model: 'claude-sonnet-4-5' }, ['f-c']],
    ['key', { key_id: 'k1' }, ['f-a', 'f-c', 'f-e']],
    ['tenant', { tenant_id: 'filt-t2' }, ['f-c', 'f-d']],
    ['from inclusive', { from: at(2) }, ['f-c', 'f-d', 'f-e']],
    ['to exclusive', { to: at(2) }, ['f-a', 'f-b']],
    ['from and to', { from: at(1), to: at(3) }, ['f-b', 'f-c']],
    ['dim', { dims: { team: 'search' } }, ['f-a', 'f-b', 'f-e']],
    ['two dims', { dims: { team: 'search', app: 'cli' } }, ['f-b']],
    ['empty dim value', { dims: { env: '' } }, ['f-e']],
    ['dim and key', { dims: { team: 'search' }, key_id: 'k1' }, ['f-a', 'f-e']],
    ['dim and time', { dims: { team: 'search' }, from: at(1) }, ['f-b', 'f-e']],
    ['dim no match', { dims: { team: 'nope' } }, []],
  ];
  it.each(cases)('%s', async (_name, f, want) => {
    for (const order of ['asc', 'desc'] as const) {
      const { events, next } = await queries.findEvents({ from: scope.from, to: scope.to, ...f, order });
      expect(ids(events)).toEqual(order === 'asc' ? want : [...want].reverse());
      expect(next).toBeNull();
    }
  });

  it('reads an offset in from/to (and an unescaped "+" that arrived as a space)', async () => {
    const { events } = await queries.findEvents({
      from: '2030-01-01T02:00:00-01:00',
      to: '2030-01-01T06:00:00+01:00',
      order: 'asc',
    });
    expect(ids(events)).toEqual(['f-d', 'f-e']);
    const spaced = await queries.findEvents({ from: '2030-01-01T04:00:00 01:00', to: at(10), order: 'asc' });
    expect(ids(spaced.events)).toEqual(['f-d', 'f-e']);
  });

  it('names the bad parameter', async () => {
    const bad: [LedgerFilter, string][] = [
      [{ from: at(1), to: at(1) }, 'to'],
      [{ from: 'yesterday' }, 'from'],
      [{ to: '2026-13-01T00:00:00Z' }, 'to'],
      [{ next: '!!' }, 'next'],
      [{ limit: 0 }, 'limit'],
      [{ order: 'up' as 'asc' }, 'order'],
      [{ dims: { '': 'x' } }, 'dim.'],
    ];
    for (const [f, param] of bad) {
      await expect(queries.findEvents(f)).rejects.toMatchObject({ name: 'LedgerFilterError', param });
    }
    const first = await queries.findEvents({ limit: 1 });
    await expect(queries.findEvents({ next: first.next!, order: 'asc' })).rejects.toMatchObject({
      param: 'next',
    });
  });

  it('walks a few hundred events in pages, both orders, with writers adding events between pages', async () => {
    const n = 350;
    const base = Date.UTC(2031, 0, 1);
    for (let i = 0; i < n; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => {
          const k = i + j;
          const p = priced(k, {
            request_id: `page-${String(k).padStart(5, '0')}`,
            tenant_id: 'paging',
            dims: k % 2 === 0 ? { team: 'search' } : {},
          });
          p.started_at_ms = base + Math.floor(k / 7); // 7 events per instant: the request_id tie-break matters
          return ledger.recordUsage(p);
        }),
      );
    }
    await runner.catchUp();
    let extra = 0;
    for (const tc of [
      { limit: undefined, order: 'asc' as const, dims: undefined, want: n },
      { limit: 1000, order: 'desc' as const, dims: undefined, want: n },
      { limit: 33, order: 'desc' as const, dims: undefined, want: n },
      { limit: 7, order: 'asc' as const, dims: { team: 'search' }, want: n / 2 },
      { limit: 100, order: 'desc' as const, dims: { team: 'search' }, want: n / 2 },
    ]) {
      const seen = new Map<string, number>();
      let last: string | null = null;
      let next: string | null = null;
      do {
        const page = await queries.findEvents({
          tenant_id: 'paging',
          limit: tc.limit,
          order: tc.order,
          dims: tc.dims,
          to: new Date(base + 3600_000).toISOString(),
          next: next ?? undefined,
        });
        expect(page.events.length).toBeLessThanOrEqual(tc.limit ?? 100);
        for (const e of page.events) {
          const key = `${String(Date.parse(e.ts)).padStart(15, '0')}|${e.request_id}`;
          if (last !== null) expect(tc.order === 'asc' ? key > last : key < last).toBe(true);
          last = key;
          seen.set(e.request_id, (seen.get(e.request_id) ?? 0) + 1);
        }
        // Concurrent writers: new events before, inside and after the walked range do not disturb it.
        for (const off of [-3600_000, 10, 2 * 3600_000]) {
          const p = priced(0, {
            request_id: `page-extra-${extra++}`,
            tenant_id: 'paging',
            dims: { team: 'search' },
          });
          p.started_at_ms = base + off;
          await ledger.recordUsage(p);
        }
        await runner.catchUp();
        next = page.next;
      } while (next);
      const originals = [...seen].filter(([id]) => !id.startsWith('page-extra-'));
      expect(originals.every(([, c]) => c === 1)).toBe(true);
      expect(originals).toHaveLength(tc.want);
    }
  });
});

describe('re-pricing, aggregates, rebuild, outbox', () => {
  const T = 'agg';
  beforeAll(async () => {
    const base = Date.UTC(2032, 5, 1, 10, 30);
    for (let i = 0; i < 120; i++) {
      const p = priced(i, {
        request_id: `agg-${i}`,
        tenant_id: T,
        provider: i % 3 === 0 ? 'anthropic' : 'openai',
        request_model: i % 3 === 0 ? 'claude-x' : 'gpt-4o',
        api_key_id: `k${i % 2}`,
        dims: i % 4 === 0 ? { team: 'search', app: 'web' } : { team: 'ads' },
      });
      p.started_at_ms = base + i * 17 * 60_000; // spread over ~34 hours
      p.cost.total_cost_usd = i % 10 === 0 ? null : `0.00000${i % 10}1`;
      if (p.cost.total_cost_usd === null) p.cost.cost_source = 'none';
      await ledger.recordUsage(p);
    }
    await runner.catchUp();
  });

  it('shows the new cost after a re-pricing and keeps the history', async () => {
    const before = (await queries.findEvents({ request_id: 'agg-10' })).events[0];
    expect(before.total_cost_usd).toBeNull();
    const newCost = {
      ...before,
      total_cost_usd: '0.25',
      calculated_cost: '0.25',
      cost_source: 'standard' as const,
      pricing_matched: true,
      pricing_version: 'v2',
    };
    const r1 = await ledger.appendRepricing('agg-10', newCost, 'price added', 'pricing');
    expect(r1.changed).toBe(true);
    expect((await ledger.appendRepricing('agg-10', newCost, 'price added', 'pricing')).changed).toBe(false);
    await runner.catchUp();
    const after = (await queries.findEvents({ request_id: 'agg-10' })).events[0];
    expect(after.total_cost_usd).toBe('0.250000000');
    expect(after.pricing_version).toBe('v2');
    expect(after.prompt_tokens).toBe(before.prompt_tokens);
    const history = await ledger.costHistory('agg-10');
    expect(history.map((h) => h.cost.total_cost_usd)).toEqual([null, '0.25']);
    expect(history[1]).toMatchObject({ reason: 'price added', actor: 'pricing' });
    await expect(ledger.appendRepricing('nope', newCost, 'x', 'y')).rejects.toThrow(/no usage event/);
  });

  async function expectAggregatesAgree(): Promise<void> {
    const from = '2032-06-01T00:00:00Z';
    const to = '2032-06-04T00:00:00Z';
    for (const interval of ['hour', 'day'] as const) {
      const rows = await queries.analytics({
        from,
        to,
        interval,
        groupBy: ['provider', 'model'],
        tenant_id: T,
      });
      const truth: {
        bucket: Date;
        provider: string;
        model: string;
        requests: string;
        tokens: string;
        cost: string | null;
        unpriced: string;
      }[] = await ds.query(
        `SELECT date_trunc($1, ts, 'UTC') AS bucket, provider, model, count(*)::text AS requests,
             sum(total_tokens)::text AS tokens, sum(total_cost_usd)::text AS cost,
             count(*) FILTER (WHERE total_cost_usd IS NULL)::text AS unpriced
           FROM usage_events_view WHERE tenant_id = $2 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
        [interval, T],
      );
      expect(
        rows.map((r) => [
          r.bucket_start,
          r.group.provider,
          r.group.model,
          r.requests,
          r.total_tokens,
          Number(r.cost_usd),
          r.unpriced_requests,
        ]),
      ).toEqual(
        truth.map((t) => [
          t.bucket.toISOString(),
          t.provider,
          t.model,
          Number(t.requests),
          Number(t.tokens),
          Number(t.cost ?? 0),
          Number(t.unpriced),
        ]),
      );
    }
    // Every grouping, with and without the tenant filter, is answered by its own (smallest) aggregate table:
    // each must agree with the rows.
    const groupings: AnalyticsDimension[][] = [
      [],
      ['tenant_id'],
      ['api_key_id'],
      ['provider'],
      ['model'],
      ['provider', 'model'],
      ['api_key_id', 'model'],
      ['tenant_id', 'api_key_id', 'provider', 'model'],
    ];
    for (const groupBy of groupings)
      for (const interval of ['hour', 'day'] as const)
        for (const tenant of [T, undefined]) {
          const got = await queries.analytics({ from, to, interval, groupBy, tenant_id: tenant });
          const want: Record<string, unknown>[] = await ds.query(
            `SELECT date_trunc($1, ts, 'UTC') AS bucket, ${groupBy.map((c) => `${c}, `).join('')}
               count(*)::int AS requests, sum(total_tokens)::int AS tokens,
               coalesce(sum(total_cost_usd), 0)::text AS cost,
               (count(*) FILTER (WHERE total_cost_usd IS NULL))::int AS unpriced
             FROM usage_events_view
             WHERE ts >= $2 AND ts < $3 AND ($4::text IS NULL OR tenant_id = $4)
             GROUP BY ${['1', ...groupBy].join(', ')} ORDER BY ${['1', ...groupBy].join(', ')}`,
            [interval, from, to, tenant ?? null],
          );
          expect(
            got.map((r) => [
              r.bucket_start,
              ...groupBy.map((c) => r.group[c]),
              r.requests,
              r.total_tokens,
              Number(r.cost_usd),
              r.unpriced_requests,
            ]),
          ).toEqual(
            want.map((w) => [
              (w.bucket as Date).toISOString(),
              ...groupBy.map((c) => w[c]),
              w.requests,
              w.tokens,
              Number(w.cost),
              w.unpriced,
            ]),
          );
        }
    const dims = await queries.analytics({ from, to, interval: 'day', groupBy: ['dim:team'], tenant_id: T });
    const byTeam: Record<string, number> = {};
    for (const r of dims) byTeam[r.group['dim:team']] = (byTeam[r.group['dim:team']] ?? 0) + r.requests;
    expect(byTeam).toEqual({ search: 30, ads: 90 });
  }

  it('aggregates agree with the events view, re-pricings included', async () => {
    await ledger.appendRepricing(
      'agg-21',
      { ...(await queries.findEvents({ request_id: 'agg-21' })).events[0], total_cost_usd: '1.5' },
      'fix',
      'admin',
    );
    await runner.catchUp();
    await expectAggregatesAgree();
  });

  it('rebuild from position zero equals the incremental read models', async () => {
    const snapshot = async () =>
      ds.query(`SELECT (SELECT json_agg(v ORDER BY request_id) FROM usage_events_view v) AS events,
        (SELECT json_agg(a ORDER BY bucket, bucket_start, tenant_id, api_key_id, provider, model) FROM usage_aggregates a) AS aggs,
        (SELECT json_agg(d ORDER BY bucket, bucket_start, dim_key, dim_value, tenant_id) FROM usage_dim_aggregates d) AS dims,
        (SELECT json_agg(r ORDER BY bucket, bucket_start, tenant_id) FROM usage_totals r) AS totals,
        (SELECT json_agg(r ORDER BY bucket, bucket_start, api_key_id, tenant_id) FROM usage_aggregates_by_key r) AS by_key,
        (SELECT json_agg(r ORDER BY bucket, bucket_start, provider, model, tenant_id) FROM usage_aggregates_by_model r) AS by_model,
        (SELECT json_agg(x ORDER BY request_id) FROM denials_view x) AS denials`);
    const incremental = await snapshot();
    await runner.rebuild(LEDGER_PROJECTIONS.usageEvents);
    await runner.rebuild(LEDGER_PROJECTIONS.denials);
    expect(await snapshot()).toEqual(incremental);
    await expectAggregatesAgree();
  });

  it('publishes usage.recorded.v1 for every stored and re-priced event, message id = event id', async () => {
    await runner.catchUp();
    await until(async () =>
      published.some((m) => m.body.request_id === 'agg-10' && m.body.total_cost_usd === '0.250000000'),
    );
    const forAgg10 = published.filter((m) => m.body.request_id === 'agg-10');
    expect(forAgg10.map((m) => m.body.total_cost_usd)).toEqual([null, '0.250000000']);
    const stream = await store.readStream('agg-10');
    expect(forAgg10.map((m) => m.id)).toEqual(stream.map((e) => e.event_id));
    const view = (await queries.findEvents({ request_id: 'agg-10' })).events[0];
    expect(forAgg10[1].body).toEqual(view);
  });

  it('the outbox does not advance when the bus refuses a publish, and catches up after', async () => {
    const before = await runner.checkpointOf(LEDGER_PROJECTIONS.outbox);
    const publish = jest.spyOn(bus, 'publish').mockRejectedValue(new Error('bus away'));
    await ledger.recordUsage(priced(99999, { request_id: 'outbox-1', tenant_id: 'outbox' }));
    await expect(runner.catchUpOne(LEDGER_PROJECTIONS.outbox)).rejects.toThrow('bus away');
    expect(await runner.checkpointOf(LEDGER_PROJECTIONS.outbox)).toEqual(before);
    publish.mockRestore();
    await runner.catchUpOne(LEDGER_PROJECTIONS.outbox);
    await until(async () => published.some((m) => m.body.request_id === 'outbox-1'));
  });
});
