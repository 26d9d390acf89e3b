// The dashboard's files over a real Fastify server: index.html at / and at each page path (deep links), hashed
// assets with their types, nothing outside the folder, JSON 404s elsewhere, a clear 503 when it is not built.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { DASHBOARD_DIR, isAssetName, locateDashboardDir } from './dashboard-assets';
import { DashboardModule } from './dashboard.module';

async function serve(dir: string | null): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [DashboardModule] })
    .overrideProvider(DASHBOARD_DIR)
    .useValue(dir)
    .compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

describe('DashboardController', () => {
  let dir: string;
  let app: NestFastifyApplication;
  const INDEX = '<!doctype html><title>SpendOps</title><script src="/assets/app-ABC123.js"></script>';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dashboard-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'assets', 'app-ABC123.js'), 'console.log(1)');
    writeFileSync(join(dir, 'assets', 'app-ABC123.css'), 'body{}');
    writeFileSync(join(dir, 'secret.txt'), 'not for the web');
    app = await serve(dir);
  });
  afterAll(() => app?.close());

  it.each(['/', '/overview', '/explorer', '/requests', '/requests/0b6f3c1e-aaaa', '/denials', '/keys'])(
    'answers %s with index.html',
    async (path) => {
      const res = await request(app.getHttpServer()).get(path);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.text).toBe(INDEX);
    },
  );

  it('also at /pricing and /budgets, with a query string', async () => {
    for (const path of ['/pricing', '/budgets?x=1', '/overview?from=2026-01-01']) {
      const res = await request(app.getHttpServer()).get(path);
      expect([path, res.status]).toEqual([path, 200]);
    }
  });

  it('serves assets with their content type and a long cache life', async () => {
    const js = await request(app.getHttpServer()).get('/assets/app-ABC123.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('immutable');
    expect(js.text).toBe('console.log(1)');
    const css = await request(app.getHttpServer()).get('/assets/app-ABC123.css');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('404s an unknown asset and never leaves the folder', async () => {
    for (const path of [
      '/assets/nope.js',
      '/assets/..%2Fsecret.txt',
      '/assets/%2E%2E%2Fsecret.txt',
      '/assets/../secret.txt',
      '/secret.txt',
      '/requests/a/b',
      '/api/v1/nothing',
    ]) {
      const res = await request(app.getHttpServer()).get(path);
      expect([path, res.status]).toEqual([path, 404]);
      expect(res.text).not.toContain('not for the web');
    }
  });

  it('says the dashboard is not built when its folder is missing', async () => {
    const bare = await serve(null);
    try {
      const res = await request(bare.getHttpServer()).get('/overview');
      expect(res.status).toBe(503);
      expect(res.text).toContain('npm run build');
      expect((await request(bare.getHttpServer()).get('/assets/app.js')).status).toBe(404);
    } finally {
      await bare.close();
    }
  });
});

describe('dashboard assets', () => {
  it('accepts only flat names', () => {
    expect(isAssetName('app-3KQ7ZP.js')).toBe(true);
    for (const bad of ['', '.env', '../x', 'a/b.js', 'a\\b.js', 'x..js', '%2e%2e'])
      expect(isAssetName(bad)).toBe(false);
  });

  it('prefers SPENDOPS_DASHBOARD_DIR, else a built dist/dashboard, else none', () => {
    expect(locateDashboardDir({ SPENDOPS_DASHBOARD_DIR: '/srv/dash' })).toBe('/srv/dash');
    const found = locateDashboardDir({});
    if (found !== null) expect(found).toMatch(/dist[/\\]dashboard$/);
  });
});
