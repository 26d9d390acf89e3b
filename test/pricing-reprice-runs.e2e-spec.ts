// Re-pricing as a job over the admin API, through the real modules: the API, the pricing service (runs in
// PostgreSQL) and the ledger (events, read model, UsageRepriced) on one in-process bus and a real PostgreSQL.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Global, Module } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import Decimal from 'decimal.js';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { USAGE_READ_MODEL, type RepriceRunView, type UsagePricedV1 } from '@spendops/contracts';
import { EventStoreModule, ProjectionRunner } from '@spendops/event-store';
import { InProcessBus, MESSAGE_BUS } from '@spendops/messaging';
import { PersistenceModule } from '@spendops/persistence';
import { pricedUsage, startPostgres, type TestPostgres } from '@spendops/testing';
import { LEDGER_MIGRATIONS, LedgerModule, LedgerQueries, LedgerService } from '../apps/ledger/src';
import { PRICING_MIGRATIONS, PricingModule } from '../apps/pricing/src';
import { API_MIGRATIONS, ApiModule } from '../apps/api/src';

jest.setTimeout(120_000);

const TOKEN = 'aso_admin_test-token';
const BASE = Date.UTC(2026, 10, 1, 12, 0, 0);
/** More than two of the pricing service's pages (500), so a run records progress between pages. */
const EVENTS = 1200;
const STALE_COST = '0.000001';

function priced(i: number): UsagePricedV1 {
  return pricedUsage({
    request_id: `rr-${String(i).padStart(5, '0')}`,
    started_at_ms: BASE + i * 1000,
    first_byte_at_ms: BASE + i * 1000 + 100,
    ended_at_ms: BASE + i * 1000 + 200,
    usage: { prompt_tokens: 1000 + i, completion_tokens: 10, total_tokens: 1010 + i },
    // A cost from before a price correction: every event's cost changes when re-priced.
    cost: { calculated_cost: STALE_COST, total_cost_usd: STALE_COST, pricing_version: 'old' },
  });
}

@Global()
@Module({
  imports: [LedgerModule],
  providers: [{ provide: USAGE_READ_MODEL, useExisting: LedgerQueries }],
  exports: [USAGE_READ_MODEL],
})
class ReadModelModule {}

let pg: TestPostgres;
let app: NestFastifyApplication;
let bus: InProcessBus;
let db: DataSource;

const range = {
  from: new Date(BASE).toISOString(),
  to: new Date(BASE + EVENTS * 1000).toISOString(),
};

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
        dataDir: mkdtempSync(join(tmpdir(), 'reprice-runs-')),
        migrations: [...LEDGER_MIGRATIONS, ...PRICING_MIGRATIONS, ...API_MIGRATIONS],
      }),
      EventStoreModule.forRoot({ autoStart: false, listen: false }),
      ReadModelModule,
      PricingModule.forRoot({ store: 'postgres' }),
      ApiModule.forRoot({ adminToken: TOKEN, announceToken: () => undefined }),
    ],
  }).compile();
  app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  db = app.get(DataSource);
  const ledger = app.get(LedgerService);
  for (let i = 0; i < EVENTS; i += 100)
    await Promise.all(
      Array.from({ length: Math.min(100, EVENTS - i) }, (_, k) => ledger.recordUsage(priced(i + k))),
    );
  await app.get(ProjectionRunner).catchUp();
});

afterAll(async () => {
  await app?.close();
  await bus?.close();
  await pg?.stop();
});

const http = () => request(app.getHttpServer());
const get = (url: string) => http().get(url).set('Authorization', `Bearer ${TOKEN}`);
const post = (url: string, body: object) =>
  http().post(url).set('Authorization', `Bearer ${TOKEN}`).set('X-ASO-Actor', 'finops-bob').send(body);

/** Follows a run's Location as a client would, until it is no longer running. */
async function poll(location: string): Promise<RepriceRunView> {
  for (let i = 0; i < 600; i++) {
    const res = await get(location);
    expect(res.status).toBe(200);
    if (res.body.status !== 'running') return res.body as RepriceRunView;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${location} still running`);
}

/** The ledger's UsageRepriced events of a run (they name it in their reason), once all have been appended. */
async function repricedEvents(runId: string, want: number): Promise<{ previous: string; total: string }[]> {
  let rows: { previous: string; total: string }[] = [];
  for (let i = 0; i < 400; i++) {
    rows = await db.query(
      `SELECT data->'previous'->>'total_cost_usd' AS previous, data->'cost'->>'total_cost_usd' AS total
         FROM events WHERE type = 'UsageRepriced' AND data->>'reason' LIKE $1`,
      [`% (run ${runId})`],
    );
    if (rows.length >= want) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return rows;
}

it('answers 202 with the running run and its Location at once; polling reaches succeeded with the ledger counts', async () => {
  const res = await post('/api/v1/pricing/reprice?wait=0', range);
  expect(res.status).toBe(202);
  const id: string = res.body.id;
  expect(res.headers.location).toBe(`/api/v1/pricing/reprice-runs/${id}`);
  expect(res.headers['retry-after']).toBe('1');
  expect(res.body).toMatchObject({
    id,
    run_id: id,
    status: 'running',
    actor: 'admin-api:finops-bob',
    trigger: 'manual',
    selection: { unpriced_only: false, ...range },
    finished_at: null,
    error: null,
  });
  expect(Date.parse(res.body.started_at)).not.toBeNaN();

  const done = await poll(res.headers.location);
  expect(done).toMatchObject({ id, status: 'succeeded', examined: EVENTS, changed: EVENTS, error: null });
  expect(Date.parse(done.finished_at!)).toBeGreaterThanOrEqual(Date.parse(done.started_at));
  const events = await repricedEvents(id, EVENTS);
  expect(events).toHaveLength(done.changed);
  const sum = (k: 'previous' | 'total') => events.reduce((s, e) => s.plus(e[k] ?? 0), new Decimal(0));
  expect(sum('previous').eq(done.before_usd)).toBe(true);
  expect(sum('total').eq(done.after_usd)).toBe(true);
  expect(new Decimal(done.before_usd).eq(new Decimal(STALE_COST).times(EVENTS))).toBe(true);

  // The list shows it, newest first.
  const list = await get('/api/v1/pricing/reprice-runs?limit=1');
  expect(list.status).toBe(200);
  expect(list.body.runs).toEqual([done]);
});

it('answers 200 with the finished run when it ends within the wait (the synchronous answer, for scripts)', async () => {
  // No event lacks a price: a quick run.
  const res = await post('/api/v1/pricing/reprice', { unpriced_only: true });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({
    status: 'succeeded',
    selection: { unpriced_only: true },
    examined: 0,
    changed: 0,
    run_id: res.body.id,
  });
  expect(res.headers['content-location']).toBe(`/api/v1/pricing/reprice-runs/${res.body.id}`);
  const runs = (await get('/api/v1/pricing/reprice-runs')).body.runs as RepriceRunView[];
  expect(runs.map((r) => Number(r.id))).toEqual([...runs.map((r) => Number(r.id))].sort((a, b) => b - a));
});

it('a run that fails is shown failed with its error (and a waiting POST is a 502 naming the run)', async () => {
  // A read model the pricing service cannot read (a column it selects is missing): the first page fails.
  await db.query('ALTER TABLE usage_events_view RENAME COLUMN image_quality TO image_quality_away');
  try {
    const started = await post('/api/v1/pricing/reprice?wait=0', range);
    expect(started.status).toBe(202);
    const failed = await poll(started.headers.location);
    expect(failed).toMatchObject({ status: 'failed', examined: 0, changed: 0 });
    expect(failed.error).toMatch(/image_quality/);
    expect(failed.finished_at).not.toBeNull();

    const waited = await post('/api/v1/pricing/reprice?wait=30', { unpriced_only: true });
    expect(waited.status).toBe(502);
    expect(waited.body.error).toMatch(/^AISpendOps: re-pricing run \d+ failed: .*image_quality/);
  } finally {
    await db.query('ALTER TABLE usage_events_view RENAME COLUMN image_quality_away TO image_quality');
  }
});

it('an unknown run is a 404 naming it; a malformed id, body or parameter is a 400 naming the field', async () => {
  const missing = await get('/api/v1/pricing/reprice-runs/987654');
  expect([missing.status, missing.body.error]).toEqual([404, 'AISpendOps: no re-pricing run 987654']);
  const cases: [string, object, string][] = [
    ['/api/v1/pricing/reprice', { from: 'yesterday', to: range.to }, 'from'],
    ['/api/v1/pricing/reprice', { unpriced_only: 'yes' }, 'unpriced_only'],
    ['/api/v1/pricing/reprice', { from: range.from }, 'to'],
    ['/api/v1/pricing/reprice', {}, 'from'],
    ['/api/v1/pricing/reprice', { from: range.to, to: range.from }, 'to'],
    ['/api/v1/pricing/reprice', { ...range, tenant: 'acme' }, 'tenant'],
    ['/api/v1/pricing/reprice?wait=61', range, 'wait'],
    ['/api/v1/pricing/reprice?wait=soon', range, 'wait'],
  ];
  const before = (await get('/api/v1/pricing/reprice-runs')).body.runs.length;
  for (const [url, body, param] of cases) {
    const res = await post(url, body);
    expect([url, JSON.stringify(body), res.status, res.body.param]).toEqual([
      url,
      JSON.stringify(body),
      400,
      param,
    ]);
  }
  expect((await get('/api/v1/pricing/reprice-runs')).body.runs.length).toBe(before); // none started
  const badId = await get('/api/v1/pricing/reprice-runs/abc');
  expect([badId.status, badId.body.param]).toEqual([400, 'id']);
  const badLimit = await get('/api/v1/pricing/reprice-runs?limit=0');
  expect([badLimit.status, badLimit.body.param]).toEqual([400, 'limit']);
});
