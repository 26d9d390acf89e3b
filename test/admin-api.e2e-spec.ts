// The admin REST API against the real ledger read model, auth and pricing services (in-process bus, real
// PostgreSQL): it composes several apps, so it lives with the end-to-end tests.
// The admin API on the Fastify adapter against the real parts: PostgreSQL with the ledger's read models
// (LedgerQueries), the auth and pricing services on the in-process bus.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Global, Module } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import Decimal from 'decimal.js';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  USAGE_READ_MODEL,
  type RequestDeniedV1,
  type UsageEventView,
  type UsagePricedV1,
} from '@spendops/contracts';
import { EventStoreModule, ProjectionRunner } from '@spendops/event-store';
import { InProcessBus, MESSAGE_BUS } from '@spendops/messaging';
import { PersistenceModule } from '@spendops/persistence';
import { pricedUsage, startPostgres, type PricedUsageOverrides, type TestPostgres } from '@spendops/testing';
import { AUTH_MIGRATIONS, AuthModule } from '../apps/auth/src';
import { LEDGER_MIGRATIONS, LedgerModule, LedgerQueries, LedgerService } from '../apps/ledger/src';
import { PricingModule, UNPRICED_MODELS_SQL } from '../apps/pricing/src';
import { API_MIGRATIONS, ApiModule, OPENAPI_DOCUMENT } from '../apps/api/src';
import { DENIAL_FIELDS, EVENT_FIELDS } from '@spendops/contracts';

jest.setTimeout(30_000);

const TOKEN = 'aso_admin_test-token';
const BASE = Date.UTC(2026, 10, 1, 12, 0, 0);

/** Event i: i prompt tokens at BASE + i seconds, a standard cost of 0.000001. */
function priced(i: number, over: PricedUsageOverrides = {}): UsagePricedV1 {
  return pricedUsage({
    request_id: `req-${String(i).padStart(5, '0')}`,
    tenant_id: 'default',
    started_at_ms: BASE + i * 1000,
    first_byte_at_ms: BASE + i * 1000 + 100,
    ended_at_ms: BASE + i * 1000 + 200,
    ...over,
    usage: {
      prompt_tokens: i,
      completion_tokens: 1,
      total_tokens: i + 1,
      raw_usage: { prompt_tokens: i, completion_tokens: 1 },
      ...over.usage,
    },
    cost: {
      calculated_cost: '0.000001',
      total_cost_usd: '0.000001',
      pricing_version: '2026-11-01.1',
      ...over.cost,
    },
  });
}

/** RFC 4180 reader for the export checks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  expect(cell).toBe(''); // ends with a newline
  return rows;
}

let pg: TestPostgres;
let app: NestFastifyApplication;
let bus: InProcessBus;
let ledger: LedgerService;
let queries: LedgerQueries;
let runner: ProjectionRunner;
const routes: { method: string; url: string }[] = [];

@Global()
@Module({
  imports: [LedgerModule],
  providers: [{ provide: USAGE_READ_MODEL, useExisting: LedgerQueries }],
  exports: [USAGE_READ_MODEL],
})
class ReadModelModule {}

beforeAll(async () => {
  pg = await startPostgres();
  bus = new InProcessBus();
  @Global()
  @Module({ providers: [{ provide: MESSAGE_BUS, useValue: bus }], exports: [MESSAGE_BUS] })
  class BusModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [
      BusModule,
      PersistenceModule.forRoot({
        databaseUrl: pg.url,
        dataDir: mkdtempSync(join(tmpdir(), 'api-spec-')),
        migrations: [...LEDGER_MIGRATIONS, ...AUTH_MIGRATIONS, ...API_MIGRATIONS],
      }),
      EventStoreModule.forRoot({ autoStart: false, listen: false }),
      ReadModelModule,
      AuthModule.forRoot({ serverSecret: 'cd'.repeat(32) }),
      PricingModule.forRoot(),
      ApiModule.forRoot({ adminToken: TOKEN, announceToken: () => undefined }),
    ],
  }).compile();
  app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (r) => {
      for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push({ method: m, url: r.url });
    });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  ledger = app.get(LedgerService);
  queries = app.get(LedgerQueries);
  runner = app.get(ProjectionRunner);
});

afterAll(async () => {
  await app?.close();
  await bus?.close();
  await pg?.stop();
});

const http = () => request(app.getHttpServer());
const get = (url: string) => http().get(url).set('Authorization', `Bearer ${TOKEN}`);
const send = (method: 'post' | 'patch' | 'delete', url: string, body?: object) => {
  const r = http()[method](url).set('Authorization', `Bearer ${TOKEN}`).set('X-ASO-Actor', 'alice');
  return body === undefined ? r : r.send(body);
};

async function seed(events: UsagePricedV1[], denials: RequestDeniedV1[] = []): Promise<void> {
  for (let i = 0; i < events.length; i += 50)
    await Promise.all(events.slice(i, i + 50).map((e) => ledger.recordUsage(e)));
  for (const d of denials) await ledger.recordDenial(d);
  await runner.catchUp();
}

/** Every documented operation: method and a concrete path. */
function documentedOperations(): { method: string; path: string; template: string }[] {
  return Object.entries(OPENAPI_DOCUMENT.paths).flatMap(([template, item]) =>
    Object.keys(item)
      .filter((k) => ['get', 'post', 'patch', 'delete', 'put'].includes(k))
      .map((m) => ({
        method: m.toUpperCase(),
        template,
        path: template.replace(/\{[^}]+\}/g, 'x'),
      })),
  );
}

describe('admin authentication', () => {
  it.each([
    ['no header', undefined],
    ['a wrong token', 'Bearer nope'],
    ['another scheme', `Basic ${TOKEN}`],
    ['an empty bearer', 'Bearer '],
  ])('refuses every route with %s: 401 JSON with a Bearer challenge', async (_n, header) => {
    for (const op of documentedOperations()) {
      const r = http()[op.method.toLowerCase() as 'get'](op.path);
      const res = await (header ? r.set('Authorization', header) : r);
      expect([op.method, op.path, res.status]).toEqual([op.method, op.path, 401]);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.text.startsWith('{"error":"AISpendOps: ')).toBe(true);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="spendops-admin"');
    }
  });

  it('accepts the token (case-insensitive scheme, surrounding spaces)', async () => {
    expect((await http().get('/api/v1/keys').set('Authorization', `bearer   ${TOKEN} `)).status).toBe(200);
  });
});

describe('OpenAPI document', () => {
  it('describes exactly the routes the app serves', async () => {
    const res = await get('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const served = routes
      .filter((r) => r.url.startsWith('/api/v1/'))
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}').replace(/\/\*$/, '/{model}')}`)
      .sort();
    const documented = documentedOperations()
      .map((o) => `${o.method} ${o.template}`)
      .sort();
    expect(served).toEqual(documented);
    expect(Object.keys(res.body.components.schemas.Event.properties)).toEqual([...EVENT_FIELDS]);
  });
});

describe('events and denials', () => {
  const ids = (body: { events: { request_id: string }[] }) => body.events.map((e) => e.request_id);
  const T = 'tenant-filters';
  const at = (s: number) => new Date(BASE + s * 1000).toISOString();

  beforeAll(async () => {
    const evs = Array.from({ length: 30 }, (_, i) => {
      const e = priced(i, { tenant_id: T });
      if (i % 3 === 0) e.dims = { team: 'search', app: 'web' };
      if (i % 5 === 0) e.provider = 'anthropic';
      if (i % 4 === 0) {
        e.request_model = 'gpt-4o-mini';
        e.usage.model = 'gpt-4o-mini';
      }
      if (i % 7 === 0) e.api_key_id = 'key_b';
      return e;
    });
    const denial = (i: number, over: Partial<RequestDeniedV1> = {}): RequestDeniedV1 => ({
      request_id: `deny-${i}`,
      ts: at(i),
      type: 'model_blocked',
      reason: 'Model not allowed by API key policy',
      http_status: 403,
      tenant_id: T,
      api_key_id: 'key_a',
      provider: 'openai',
      path: '/v1/openai/chat/completions',
      dims: {},
      ...over,
    });
    await seed(evs, [
      denial(1),
      denial(2, { dims: { team: 'search' } }),
      denial(3, { type: 'missing_key', reason: 'Missing X-ASO-API-Key', http_status: 401, api_key_id: '' }),
    ]);
  });

  it('answers a page of EVENT objects exactly as the read model has them', async () => {
    const res = await get(`/api/v1/events?tenant_id=${T}&order=asc&limit=5`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    const direct = await queries.findEvents({ tenant_id: T, order: 'asc', limit: 5 });
    expect(res.body).toEqual({ events: direct.events, next: direct.next });
    const e: UsageEventView = res.body.events[0];
    expect(Object.keys(e)).toEqual([...EVENT_FIELDS]);
    expect(e.total_cost_usd).toBe('0.000001000'); // exact decimal string
    expect(e.raw_usage).toEqual({ prompt_tokens: 0, completion_tokens: 1 });
    expect(e.dims).toEqual({ team: 'search', app: 'web' });
  });

  const cases: [string, string, (i: number) => boolean][] = [
    ['request_id', 'request_id=req-00007', (i) => i === 7],
    ['provider', 'provider=anthropic', (i) => i % 5 === 0],
    ['model', 'model=gpt-4o-mini', (i) => i % 4 === 0],
    ['key_id', 'key_id=key_b', (i) => i % 7 === 0],
    ['from (inclusive)', `from=${at(25)}`, (i) => i >= 25],
    ['to (exclusive)', `to=${at(3)}`, (i) => i < 3],
    ['from and to', `from=${at(10)}&to=${at(12)}`, (i) => i >= 10 && i < 12],
    // 12:00:10Z = 13:00:10+01:00; the "+" unescaped arrives as a space and still means "+".
    [
      'offset, escaped and not',
      'from=2026-11-01T13:00:10+01:00&to=2026-11-01T13:00:12%2B01:00',
      (i) => i === 10 || i === 11,
    ],
    ['one dim', 'dim.team=search', (i) => i % 3 === 0],
    ['two dims and a provider', 'dim.team=search&dim.app=web&provider=anthropic', (i) => i % 15 === 0],
    ['dim without a match', 'dim.team=nope', () => false],
    ['model and key', 'model=gpt-4o-mini&key_id=key_b', (i) => i % 28 === 0],
  ];
  it.each(cases)('filters by %s', async (_n, q, want) => {
    const expected = Array.from({ length: 30 }, (_, i) => i)
      .filter(want)
      .map((i) => `req-${String(i).padStart(5, '0')}`);
    const asc = await get(`/api/v1/events?tenant_id=${T}&order=asc&${q}`);
    expect(asc.status).toBe(200);
    expect(ids(asc.body)).toEqual(expected);
    const desc = await get(`/api/v1/events?tenant_id=${T}&${q}`);
    expect(ids(desc.body)).toEqual([...expected].reverse());
  });

  it('pages with a stable cursor, newest first by default', async () => {
    const all: string[] = [];
    let q = `tenant_id=${T}&limit=7`;
    for (;;) {
      const res = await get(`/api/v1/events?${q}`);
      expect(res.body.events.length).toBeLessThanOrEqual(7);
      all.push(...ids(res.body));
      if (res.body.next === null) break;
      q = `tenant_id=${T}&limit=7&next=${encodeURIComponent(res.body.next)}`;
    }
    expect(all).toHaveLength(30);
    expect(all[0]).toBe('req-00029');
    expect(all[29]).toBe('req-00000');
  });

  it('keeps a cursor walk exact while events are inserted between pages', async () => {
    const P = 'tenant-paging';
    const base = BASE + 86_400_000;
    await seed(
      Array.from({ length: 120 }, (_, k) => {
        const e = priced(k, { request_id: `walk-${String(k).padStart(4, '0')}`, tenant_id: P });
        e.started_at_ms = base + Math.floor(k / 6) * 1000; // six per instant: the request_id tie-break counts
        return e;
      }),
    );
    for (const order of ['asc', 'desc']) {
      const seen: string[] = [];
      let next: string | null = null;
      let extra = 0;
      do {
        const url: string = `/api/v1/events?tenant_id=${P}&order=${order}&limit=13&to=${encodeURIComponent(
          new Date(base + 3600_000).toISOString(),
        )}${next ? `&next=${encodeURIComponent(next)}` : ''}`;
        const res = await get(url);
        expect(res.status).toBe(200);
        seen.push(...ids(res.body).filter((id) => id.startsWith('walk-')));
        // Writers add events before, inside and after the walked range between pages.
        await seed(
          [-5000, 500, 7200_000].map((off) => {
            const e = priced(0, { request_id: `extra-${order}-${extra++}`, tenant_id: P });
            e.started_at_ms = base + off;
            return e;
          }),
        );
        next = res.body.next;
      } while (next);
      const want = Array.from({ length: 120 }, (_, k) => `walk-${String(k).padStart(4, '0')}`);
      expect(seen).toEqual(order === 'asc' ? want : [...want].reverse());
    }
  });

  it('answers denials with the same filters', async () => {
    const res = await get(`/api/v1/denials?tenant_id=${T}&order=asc`);
    expect(res.status).toBe(200);
    expect(res.body.next).toBeNull();
    expect(res.body.denials.map((d: RequestDeniedV1) => d.request_id)).toEqual([
      'deny-1',
      'deny-2',
      'deny-3',
    ]);
    expect(Object.keys(res.body.denials[0])).toEqual([...DENIAL_FIELDS]);
    const byDim = await get(`/api/v1/denials?tenant_id=${T}&dim.team=search`);
    expect(byDim.body.denials.map((d: RequestDeniedV1) => d.request_id)).toEqual(['deny-2']);
    const byKey = await get(`/api/v1/denials?tenant_id=${T}&key_id=key_a&from=${at(2)}`);
    expect(byKey.body.denials.map((d: RequestDeniedV1) => d.request_id)).toEqual(['deny-2']);
    const paged = await get(`/api/v1/denials?tenant_id=${T}&limit=2`);
    expect(paged.body.denials).toHaveLength(2);
    const rest = await get(
      `/api/v1/denials?tenant_id=${T}&limit=2&next=${encodeURIComponent(paged.body.next)}`,
    );
    expect(rest.body.denials.map((d: RequestDeniedV1) => d.request_id)).toEqual(['deny-1']);
  });

  it.each([
    ['from=yesterday', 'from'],
    ['to=2026-13-01T00:00:00Z', 'to'],
    ['limit=0', 'limit'],
    ['limit=ten', 'limit'],
    ['next=%21%21', 'next'],
    ['order=up', 'order'],
    ['format=xml', 'format'],
    ['providr=openai', 'providr'],
    ['provider=a&provider=b', 'provider'],
    ['dim.=x', 'dim.'],
    ['from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z', 'to'],
  ])('refuses ?%s with a 400 naming %s', async (q, param) => {
    for (const path of ['events', 'denials']) {
      const res = await get(`/api/v1/${path}?${q}`);
      expect([path, res.status]).toEqual([path, 400]);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body.param).toBe(param);
      expect(res.body.error).toMatch(/^AISpendOps: /);
      expect(res.body.error).toContain(param);
    }
  });

  it('refuses a model filter on denials, and a cursor of the other order', async () => {
    const res = await get('/api/v1/denials?model=gpt-4o');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'AISpendOps: invalid model: denials have no model', param: 'model' });
    const page = await get(`/api/v1/events?tenant_id=${T}&limit=1`);
    const other = await get(`/api/v1/events?order=asc&next=${encodeURIComponent(page.body.next)}`);
    expect(other.status).toBe(400);
    expect(other.body.param).toBe('next');
  });
});

describe('exports', () => {
  const X = 'tenant-export';
  const N = 320;
  const note = 'has "quotes", commas\nand a newline';

  async function jsonPages(query: string): Promise<UsageEventView[]> {
    const out: UsageEventView[] = [];
    let next: string | null = null;
    do {
      const res = await get(
        `/api/v1/events?${query}&limit=100${next ? `&next=${encodeURIComponent(next)}` : ''}`,
      );
      out.push(...res.body.events);
      next = res.body.next;
    } while (next);
    return out;
  }

  beforeAll(async () => {
    await seed(
      Array.from({ length: N }, (_, i) => {
        const e = priced(i, { request_id: `exp-${String(i).padStart(5, '0')}`, tenant_id: X });
        e.started_at_ms = BASE + 2 * 86_400_000 + i * 1000;
        if (i % 2 === 1) e.dims = { team: 'search', note };
        if (i === 0) {
          e.usage.usage_source = 'none';
          e.usage.raw_usage = null;
          e.cost = { ...e.cost, total_cost_usd: null, calculated_cost: null, cost_source: 'none' };
        }
        if (i === 5)
          e.cost = { ...e.cost, total_cost_usd: '0.0123456789012', calculated_cost: '0.0123456789012' };
        return e;
      }),
    );
  });

  it('streams NDJSON equal to the JSON pages, over every page', async () => {
    const res = await get(`/api/v1/events?tenant_id=${X}&order=asc&format=ndjson`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson');
    const lines = res.text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(N);
    const pages = await jsonPages(`tenant_id=${X}&order=asc`);
    expect(lines).toEqual(pages.map((e) => JSON.stringify(e)));
    expect(JSON.parse(lines[5]).total_cost_usd).toBe('0.0123456789012');
  });

  it('streams CSV with a header of the EVENT fields, JSON dims and raw_usage, exact costs, empty nulls', async () => {
    const res = await get(`/api/v1/events?tenant_id=${X}&format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toContain('events.csv');
    const [header, ...rows] = parseCsv(res.text);
    expect(header).toEqual([...EVENT_FIELDS]);
    expect(rows).toHaveLength(N);
    const pages = await jsonPages(`tenant_id=${X}`);
    const cell = (v: unknown) => (v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
    expect(rows).toEqual(pages.map((e) => EVENT_FIELDS.map((f) => cell(e[f]))));
    const col = (name: string) => header.indexOf(name);
    const newest = rows[0];
    expect(newest[col('request_id')]).toBe(`exp-${String(N - 1).padStart(5, '0')}`);
    expect(JSON.parse(newest[col('dims')])).toEqual({ team: 'search', note });
    expect(newest[col('stream')]).toBe('false');
    expect(newest[col('total_cost_usd')]).toBe('0.000001000');
    const oldest = rows[N - 1];
    expect([oldest[col('total_cost_usd')], oldest[col('raw_usage')]]).toEqual(['', '']);
    expect(rows[N - 6][col('total_cost_usd')]).toBe('0.0123456789012');
  });

  it('honours filters and limit as a total cap', async () => {
    const csv = parseCsv((await get(`/api/v1/events?tenant_id=${X}&format=csv&dim.team=search`)).text);
    expect(csv).toHaveLength(1 + N / 2);
    const two = parseCsv((await get(`/api/v1/events?tenant_id=${X}&format=csv&order=asc&limit=2`)).text);
    expect(two.map((r) => r[0])).toEqual(['request_id', 'exp-00000', 'exp-00001']);
    const capped = await get(`/api/v1/events?tenant_id=${X}&format=ndjson&limit=150`);
    expect(capped.text.split('\n').filter(Boolean)).toHaveLength(150);
  });

  it('exports denials (an empty export is the header alone), and refuses a bad filter before streaming', async () => {
    const empty = await get('/api/v1/denials?tenant_id=nobody&format=csv');
    expect(empty.status).toBe(200);
    expect(empty.text).toBe(DENIAL_FIELDS.join(',') + '\n');
    const bad = await get('/api/v1/events?format=csv&next=garbage');
    expect(bad.status).toBe(400);
    expect(bad.body.param).toBe('next');
  });
});

describe('analytics', () => {
  const A = 'tenant-analytics';
  const day = Date.UTC(2027, 2, 1);

  beforeAll(async () => {
    await seed(
      Array.from({ length: 48 }, (_, i) => {
        const e = priced(i, {
          request_id: `an-${i}`,
          tenant_id: A,
          provider: i % 3 === 0 ? 'anthropic' : 'openai',
          request_model: i % 3 === 0 ? 'claude-x' : 'gpt-4o',
          dims: i % 2 === 0 ? { team: 'search' } : { team: 'ads' },
        });
        e.started_at_ms = day + i * 45 * 60_000; // 36 hours
        e.cost.total_cost_usd = i % 8 === 0 ? null : `0.00${i}1`;
        if (e.cost.total_cost_usd === null) e.cost.cost_source = 'none';
        return e;
      }),
    );
  });

  const range = `from=2027-03-01T00:00:00Z&to=2027-03-03T00:00:00Z&tenant_id=${A}`;

  it('totals equal the events, per day and per hour', async () => {
    const events = (await get(`/api/v1/events?tenant_id=${A}&limit=1000`)).body.events as UsageEventView[];
    expect(events).toHaveLength(48);
    const cost = events.reduce((s, e) => s.plus(e.total_cost_usd ?? 0), new Decimal(0));
    for (const interval of ['day', 'hour']) {
      const res = await get(`/api/v1/analytics?${range}&interval=${interval}`);
      expect(res.status).toBe(200);
      expect(res.body.totals.requests).toBe(48);
      expect(res.body.totals.unpriced_requests).toBe(6);
      expect(res.body.totals.total_tokens).toBe(events.reduce((s, e) => s + (e.total_tokens ?? 0), 0));
      expect(new Decimal(res.body.totals.cost_usd).toFixed()).toBe(cost.toFixed());
      expect(res.body.totals.cost_usd).toMatch(/^\d+\.\d{9,}$/);
      expect(res.body.series).toHaveLength(interval === 'day' ? 2 : 36);
      expect(res.body.series[0].bucket_start).toBe('2027-03-01T00:00:00.000Z');
    }
  });

  it('groups by provider and model, and by a dimension', async () => {
    const res = await get(`/api/v1/analytics?${range}&group_by=provider,model`);
    expect(res.status).toBe(200);
    expect(res.body.group_by).toEqual(['provider', 'model']);
    const byGroup = Object.fromEntries(
      res.body.groups.map((g: { group: Record<string, string>; requests: number }) => [
        `${g.group.provider}/${g.group.model}`,
        g.requests,
      ]),
    );
    expect(byGroup).toEqual({ 'anthropic/claude-x': 16, 'openai/gpt-4o': 32 });
    const dims = await get(`/api/v1/analytics?${range}&group_by=dim:team&interval=day`);
    expect(dims.status).toBe(200);
    expect(
      dims.body.groups
        .map((g: { group: Record<string, string>; requests: number }) => [g.group['dim:team'], g.requests])
        .sort(),
    ).toEqual([
      ['ads', 24],
      ['search', 24],
    ]);
  });

  it.each([
    ['to=2027-03-02T00:00:00Z', 'from'],
    ['from=2027-03-01T00:00:00Z', 'to'],
    ['from=2027-03-02T00:00:00Z&to=2027-03-01T00:00:00Z', 'to'],
    ['from=2027-03-01T00:00:00Z&to=2027-03-02T00:00:00Z&interval=week', 'interval'],
    ['from=2027-03-01T00:00:00Z&to=2027-03-02T00:00:00Z&group_by=colour', 'group_by'],
    ['from=2027-03-01T00:00:00Z&to=2027-03-02T00:00:00Z&group_by=dim:a,dim:b', 'group_by'],
    ['from=2027-03-01T00:00:00Z&to=2027-03-02T00:00:00Z&bogus=1', 'bogus'],
  ])('refuses ?%s naming %s', async (q, param) => {
    const res = await get(`/api/v1/analytics?${q}`);
    expect(res.status).toBe(400);
    expect(res.body.param).toBe(param);
    expect(res.body.error).toContain(param);
  });
});

describe('keys', () => {
  it('lifecycle: create (full key once), list, get, patch, rotate, revoke, activate, audit', async () => {
    const created = await send('post', '/api/v1/keys', {
      name: 'ci',
      tenant: 'acme-keys',
      policy: { providers: ['openai'] },
    });
    expect(created.status).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const id: string = created.body.id;
    expect(created.body).toMatchObject({ name: 'ci', tenant: 'acme-keys', status: 'active' });
    expect(created.body.policy.providers).toEqual(['openai']);
    expect(created.body.key).toEqual(expect.stringContaining(id));

    const listed = await get('/api/v1/keys?tenant=acme-keys');
    expect(listed.status).toBe(200);
    expect(listed.body.keys.map((k: { id: string }) => k.id)).toEqual([id]);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key); // never shown again
    const one = await get(`/api/v1/keys/${id}`);
    expect(one.status).toBe(200);
    expect(one.body.id).toBe(id);
    expect(one.body).not.toHaveProperty('key');

    const patched = await send('patch', `/api/v1/keys/${id}`, { policy: { models: ['openai:gpt-4*'] } });
    expect(patched.status).toBe(200);
    expect(patched.body.policy.models).toEqual(['openai:gpt-4*']);
    const badPattern = await send('patch', `/api/v1/keys/${id}`, {
      policy: { models: ['openai:gpt-4*', 'bad pattern'] },
    });
    expect(badPattern.status).toBe(400);
    expect(badPattern.body.error).toMatch(/^AISpendOps: policy: .*models\[1\]/);

    const rotated = await send('post', `/api/v1/keys/${id}/rotate`, { grace_seconds: 60 });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ id, previous_secret_valid_seconds: 60 });
    expect(rotated.body.key).not.toBe(created.body.key);
    expect(Date.parse(rotated.body.previous_valid_until)).toBeGreaterThan(Date.now());
    const noBody = await send('post', `/api/v1/keys/${id}/rotate`);
    expect(noBody.status).toBe(200);
    expect(noBody.body.previous_secret_valid_seconds).toBe(0);

    const revoked = await send('delete', `/api/v1/keys/${id}`);
    expect(revoked.status).toBe(204);
    expect((await get(`/api/v1/keys/${id}`)).body.status).toBe('revoked');
    const activated = await send('post', `/api/v1/keys/${id}/activate`);
    expect(activated.status).toBe(200);
    expect(activated.body.status).toBe('active');
    const off = await send('patch', `/api/v1/keys/${id}`, { active: false });
    expect(off.body.status).toBe('revoked');

    const audit = await get(`/api/v1/audit?key_id=${id}`);
    expect(audit.status).toBe(200);
    expect(audit.body.audit.map((a: { action: string }) => a.action)).toEqual([
      'create',
      'policy_change',
      'rotate',
      'rotate',
      'revoke',
      'activate',
      'revoke',
    ]);
    expect(new Set(audit.body.audit.map((a: { actor: string }) => a.actor))).toEqual(
      new Set(['admin-api:alice']),
    );
    const everything = await get('/api/v1/audit');
    expect(everything.body.audit.length).toBeGreaterThanOrEqual(7);
  });

  it.each([
    ['a missing name', {}, 'name'],
    ['an empty name', { name: '' }, 'name'],
    ['an unknown field', { name: 'x', colour: 'red' }, 'colour'],
    ['a wrong policy type', { name: 'x', policy: { max_dims: 'eight' } }, 'policy.max_dims'],
    ['an unknown policy field', { name: 'x', policy: { providerz: ['openai'] } }, 'policy.providerz'],
  ])('refuses a create with %s, naming %s', async (_n, body, field) => {
    const res = await send('post', '/api/v1/keys', body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^AISpendOps: /);
    expect(res.body.error).toContain(field);
    expect(res.body.param).toBe(field);
  });

  it('refuses bad rotate and patch bodies, unknown ids and unknown query parameters', async () => {
    const { body } = await send('post', '/api/v1/keys', { name: 'v' });
    for (const [grace, status] of [
      [-1, 400],
      [7776001, 400],
      ['60', 400],
    ] as const) {
      const res = await send('post', `/api/v1/keys/${body.id}/rotate`, { grace_seconds: grace });
      expect([grace, res.status, res.body.param]).toEqual([grace, status, 'grace_seconds']);
    }
    const patch = await send('patch', `/api/v1/keys/${body.id}`, { active: 'yes' });
    expect([patch.status, patch.body.param]).toEqual([400, 'active']);
    for (const [method, url] of [
      ['get', '/api/v1/keys/NOSUCHKEY'],
      ['delete', '/api/v1/keys/NOSUCHKEY'],
      ['post', '/api/v1/keys/NOSUCHKEY/activate'],
      ['post', '/api/v1/keys/NOSUCHKEY/rotate'],
    ] as const) {
      const res = method === 'get' ? await get(url) : await send(method, url);
      expect([url, res.status, res.body]).toEqual([url, 404, { error: 'AISpendOps: key not found' }]);
    }
    const unknown = await get('/api/v1/keys?tenantt=x');
    expect([unknown.status, unknown.body.param]).toEqual([400, 'tenantt']);
  });

  it('sets, shows and removes rate limits; a bad limit is refused naming its field', async () => {
    const { body } = await send('post', '/api/v1/keys', {
      name: 'limited',
      policy: { rate_limits: { requests_per_minute: 60, per_dimension: { team: { usd_per_hour: '2.50' } } } },
    });
    expect(body.policy.rate_limits).toEqual({
      requests_per_minute: 60,
      per_dimension: { team: { usd_per_hour: '2.50' } },
    });
    const bad = await send('patch', `/api/v1/keys/${body.id}`, {
      policy: { rate_limits: { tokens_per_minute: -5 } },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('rate_limits.tokens_per_minute');
    const cleared = await send('patch', `/api/v1/keys/${body.id}`, { policy: { rate_limits: null } });
    expect(cleared.status).toBe(200);
    expect(cleared.body.policy.rate_limits ?? null).toBeNull();
  });
});

describe('pricing', () => {
  it('lists models, narrows by provider, and shows one model (also one whose name has a slash)', async () => {
    const all = await get('/api/v1/pricing/models');
    expect(all.status).toBe(200);
    expect(all.body.models.length).toBeGreaterThan(50);
    const anthropic = await get('/api/v1/pricing/models?provider=anthropic');
    expect(anthropic.body.models.length).toBeGreaterThan(5);
    expect(new Set(anthropic.body.models.map((m: { provider: string }) => m.provider))).toEqual(
      new Set(['anthropic']),
    );
    const one = await get('/api/v1/pricing/models/openai/gpt-4o-2024-08-06');
    expect(one.status).toBe(200);
    expect(one.body.models).toHaveLength(1);
    expect(one.body.models[0]).toMatchObject({ provider: 'openai', model: 'gpt-4o' });
    expect(one.body.models[0].current.rates.input).toBe('2.5');
    const slashed = await get('/api/v1/pricing/models/deepinfra/meta-llama/Llama-3.3-70B-Instruct');
    expect(slashed.status).toBe(200);
    expect(slashed.body.models[0].provider).toBe('deepinfra');
    const none = await get('/api/v1/pricing/models/openai/no-such-model');
    expect(none.status).toBe(404);
    expect(none.body.error).toBe('AISpendOps: no price for model no-such-model');
  });

  it('adds, lists and deletes overrides; refuses bad ones naming the field', async () => {
    const added = await send('post', '/api/v1/pricing/overrides', {
      tenant_id: 'acme',
      provider: 'openai',
      model: 'house-*',
      rates: { input: '0.5' },
    });
    expect(added.status).toBe(201);
    const mine = added.body.overrides.find((o: { model: string }) => o.model === 'house-*');
    expect(mine).toMatchObject({ tenant_id: 'acme', rates: { input: '0.5' } });
    const listed = await get('/api/v1/pricing/overrides');
    expect(listed.status).toBe(200);
    expect(listed.body.version).toBe(added.body.version);
    expect(listed.body.overrides.map((o: { id: number }) => o.id)).toContain(mine.id);

    const noRates = await send('post', '/api/v1/pricing/overrides', { tenant_id: 'acme', model: 'x' });
    expect(noRates.status).toBe(400);
    expect(noRates.body.error).toMatch(/^AISpendOps: .*rates/);
    const badRate = await send('post', '/api/v1/pricing/overrides', {
      tenant_id: 'acme',
      model: 'x',
      rates: { input: 'cheap' },
    });
    expect(badRate.status).toBe(400);
    expect(badRate.body.error).toContain('rates.input');
    const bogus = await send('post', '/api/v1/pricing/overrides', { tenant_id: 'a', model: 'x', bogus: 1 });
    expect([bogus.status, bogus.body.param]).toEqual([400, 'bogus']);
    const noTenant = await send('post', '/api/v1/pricing/overrides', { model: 'x', markup_pct: '10' });
    expect([noTenant.status, noTenant.body.param]).toEqual([400, 'tenant_id']);

    expect((await send('delete', `/api/v1/pricing/overrides/${mine.id}`)).status).toBe(204);
    const after = await get('/api/v1/pricing/overrides');
    expect(after.body.overrides.map((o: { id: number }) => o.id)).not.toContain(mine.id);
    const again = await send('delete', `/api/v1/pricing/overrides/${mine.id}`);
    expect(again.status).toBe(404);
    const badId = await send('delete', '/api/v1/pricing/overrides/abc');
    expect([badId.status, badId.body.param]).toEqual([400, 'id']);
  });

  it('lists unpriced models', async () => {
    const res = await get('/api/v1/pricing/unpriced');
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body.models)).toBe(true);
  });

  it('answers the unpriced list from its partial index, not a scan of every event', async () => {
    const ds = app.get(DataSource);
    const plan = await ds.transaction(async (m) => {
      // The test's table is small enough that a scan is cheaper; forbid it to see whether the index serves.
      await m.query('SET LOCAL enable_seqscan = off');
      const rows: { 'QUERY PLAN': string }[] = await m.query(`EXPLAIN ${UNPRICED_MODELS_SQL}`);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('usage_events_view_unpriced_models');
    expect(plan).not.toMatch(/Seq Scan on usage_events_view/);
  });

  it('runs a re-pricing and refuses a bad range naming the field', async () => {
    const run = await send('post', '/api/v1/pricing/reprice', {
      from: '2026-01-01T00:00:00Z',
      to: '2026-01-02T00:00:00Z',
      unpriced_only: true,
    });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ examined: expect.any(Number), changed: expect.any(Number) });
    expect(run.body.run_id).toEqual(expect.any(String));
    const badFrom = await send('post', '/api/v1/pricing/reprice', { from: 'yesterday' });
    expect([badFrom.status, badFrom.body.param]).toEqual([400, 'from']);
    const badFlag = await send('post', '/api/v1/pricing/reprice', { unpriced_only: 'yes' });
    expect([badFlag.status, badFlag.body.param]).toEqual([400, 'unpriced_only']);
  });
});
