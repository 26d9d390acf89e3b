// The PostgreSQL override store on a real server, with the migration run as the persistence library runs it.
import { openDataSource, type OpenedDataSource } from '@spendops/persistence';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type TestPostgres } from '@spendops/testing';
import { PRICING_MIGRATIONS } from './pricing-overrides.migration';
import { PostgresOverrideStore } from './postgres-override-store';

describe('PostgresOverrideStore', () => {
  let pg: TestPostgres;
  let opened: OpenedDataSource;
  let dataDir: string;

  beforeAll(async () => {
    [pg, dataDir] = await Promise.all([startPostgres(), mkdtemp(join(tmpdir(), 'spendops-pricing-'))]);
    opened = await openDataSource({ databaseUrl: pg.url, dataDir, migrations: PRICING_MIGRATIONS });
  }, 60_000);

  afterAll(async () => {
    await opened?.close();
    await pg?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('stores overrides, versions every change, and keeps deleted ones for history', async () => {
    const store = new PostgresOverrideStore(opened.dataSource);
    expect(await store.load()).toEqual({ version: 0, items: [] });
    const a = await store.add({
      tenant_id: 'acme',
      provider: 'openai',
      model: 'gpt-4o*',
      rates: { input: '2', output: '8' },
      note: 'negotiated',
    });
    expect(a.version).toBe(1);
    expect(a.items).toEqual([
      {
        id: expect.any(Number),
        tenant_id: 'acme',
        provider: 'openai',
        model: 'gpt-4o*',
        rates: { input: '2', output: '8' },
        note: 'negotiated',
        created_at: expect.any(String),
      },
    ]);
    const b = await store.add({ tenant_id: '*', model: '*', markup_pct: '33.333333333333' });
    expect(b.version).toBe(2);
    expect(b.items[1]).toMatchObject({ markup_pct: '33.333333333333' });
    expect(b.items[1].provider).toBeUndefined();

    // a second instance sees the same state (the service re-reads it periodically)
    expect(await new PostgresOverrideStore(opened.dataSource).load()).toEqual(b);

    const c = await store.remove(a.items[0].id);
    expect(c?.version).toBe(3);
    expect(c?.items.map((o) => o.model)).toEqual(['*']);
    expect(await store.remove(a.items[0].id)).toBeNull();
    const [{ n }] = await opened.dataSource.query(
      'SELECT count(*)::int AS n FROM pricing_overrides WHERE deleted_at IS NOT NULL',
    );
    expect(n).toBe(1);
  });
});
