// A request's re-pricing history over HTTP, read from a real event store on a real PostgreSQL.
import { randomUUID } from 'node:crypto';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { CostFields } from '@spendops/contracts';
import { EVENT_STORE_MIGRATIONS, EventStore } from '@spendops/event-store';
import { openDataSource, type OpenedDataSource } from '@spendops/persistence';
import { startPostgres, type TestPostgres } from '@spendops/testing';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AdminAuthGuard } from '../admin-token/admin-auth.guard';
import { AdminTokenService } from '../admin-token/admin-token.service';
import { RepricingsController } from './repricings.controller';
import { RepricingsService } from './repricings.service';

jest.setTimeout(30_000);

const TOKEN = 'aso_admin_test_token_1234';
const cost = (total: string | null, version = 'v1'): CostFields => ({
  provider_cost: null,
  calculated_cost: total,
  total_cost_usd: total,
  cost_source: total === null ? 'none' : 'standard',
  pricing_matched: total !== null,
  pricing_model: 'gpt-4o',
  pricing_version: version,
});

let pg: TestPostgres;
let db: OpenedDataSource;
let app: NestFastifyApplication;

beforeAll(async () => {
  pg = await startPostgres();
  db = await openDataSource({
    databaseUrl: pg.url,
    dataDir: '/nonexistent',
    migrations: EVENT_STORE_MIGRATIONS,
  });
  const store = new EventStore(db.dataSource);
  const ev = (stream: string, type: string, data: object) => ({
    event_id: randomUUID(),
    stream_id: stream,
    type,
    data,
  });
  await store.append([
    ev('req-a', 'UsageRecorded', { request_id: 'req-a', cost: cost(null) }),
    ev('req-b', 'UsageRecorded', { request_id: 'req-b', cost: cost('0.5') }),
  ]);
  await store.append([
    ev('req-a', 'UsageRepriced', {
      request_id: 'req-a',
      previous: cost(null),
      cost: cost('0.001230000', 'v2'),
      reason: 'unpriced model now priced',
      actor: 'pricing',
    }),
  ]);
  await store.append([
    ev('req-a', 'UsageRepriced', {
      request_id: 'req-a',
      previous: cost('0.001230000', 'v2'),
      cost: cost('0.002460000', 'v3'),
      reason: 'catalog v3',
      actor: 'admin-api:alice',
    }),
    ev('req-c', 'RequestDenied', { request_id: 'req-c' }),
  ]);
  const moduleRef = await Test.createTestingModule({
    controllers: [RepricingsController],
    providers: [
      RepricingsService,
      AdminAuthGuard,
      { provide: DataSource, useValue: db.dataSource },
      { provide: AdminTokenService, useValue: { verify: (t?: string) => t === TOKEN } },
    ],
  }).compile();
  app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
});
afterAll(async () => {
  await app?.close();
  await db?.close();
  await pg?.stop();
});

const get = (path: string) => request(app.getHttpServer()).get(path).set('authorization', `Bearer ${TOKEN}`);

describe('GET /api/v1/events/{request_id}/repricings', () => {
  it('lists every UsageRepriced of the request, oldest first, with actor, reason and both totals', async () => {
    const res = await get('/api/v1/events/req-a/repricings');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const rows = res.body.repricings as Record<string, unknown>[];
    expect(rows.map((r) => [r.actor, r.reason, r.previous_total_cost_usd, r.total_cost_usd])).toEqual([
      ['pricing', 'unpriced model now priced', null, '0.001230000'],
      ['admin-api:alice', 'catalog v3', '0.001230000', '0.002460000'],
    ]);
    expect(rows[1].cost).toEqual(cost('0.002460000', 'v3'));
    expect(Date.parse(rows[0].at as string)).toBeLessThanOrEqual(Date.parse(rows[1].at as string));
    expect(rows[0].at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('is empty for a request never re-priced, 404 for an unknown or denied one', async () => {
    expect((await get('/api/v1/events/req-b/repricings')).body).toEqual({ repricings: [] });
    const unknown = await get('/api/v1/events/nope/repricings');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('AISpendOps: no usage event with request id nope');
    expect((await get('/api/v1/events/req-c/repricings')).status).toBe(404);
  });

  it('needs the admin token', async () => {
    expect((await request(app.getHttpServer()).get('/api/v1/events/req-a/repricings')).status).toBe(401);
  });
});
