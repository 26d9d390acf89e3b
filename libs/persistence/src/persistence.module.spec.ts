import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { Client } from 'pg';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { startPostgres, type TestPostgres } from '@spendops/testing';
import { openDataSource } from './data-source';
import { DATABASE_CONNECTION, PersistenceModule, type DatabaseConnection } from './persistence.module';

class CreateWidgets1733100000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE widgets (id int PRIMARY KEY)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE widgets');
  }
}
class SeedWidgets1733100000001 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query('INSERT INTO widgets VALUES (1), (2)');
  }
  async down(): Promise<void> {}
}

describe('PersistenceModule', () => {
  jest.setTimeout(30_000);
  let pg: TestPostgres;
  let dataDir: string;

  beforeAll(async () => {
    [pg, dataDir] = await Promise.all([startPostgres(), mkdtemp(join(tmpdir(), 'spendops-persist-'))]);
  });
  afterAll(async () => {
    await pg?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs the contributed migrations on DATABASE_URL once, whatever the order they are given in', async () => {
    const build = () =>
      Test.createTestingModule({
        imports: [
          PersistenceModule.forRoot({
            databaseUrl: pg.url,
            dataDir,
            migrations: [SeedWidgets1733100000001, CreateWidgets1733100000000, SeedWidgets1733100000001],
          }),
        ],
      }).compile();
    for (let round = 0; round < 2; round++) {
      const app = await build();
      await app.init();
      const ds = app.get(DataSource);
      expect(await ds.query('SELECT count(*)::int AS n FROM widgets')).toEqual([{ n: 2 }]);
      expect(app.get<DatabaseConnection>(DATABASE_CONNECTION)).toEqual({ url: pg.url, embedded: false });
      await app.close();
    }
  });

  it('services starting together take turns on the migrations', async () => {
    const opened = await Promise.all(
      [1, 2, 3].map(() =>
        openDataSource({
          databaseUrl: pg.url,
          dataDir,
          migrations: [CreateWidgets1733100000000, SeedWidgets1733100000001],
        }),
      ),
    );
    expect(await opened[0].dataSource.query('SELECT count(*)::int AS n FROM widgets')).toEqual([{ n: 2 }]);
    await Promise.all(opened.map((o) => o.close()));
  });

  it('starts embedded Postgres without a URL and stops it with the application', async () => {
    const app = await Test.createTestingModule({
      imports: [
        PersistenceModule.forRoot({
          dataDir,
          migrations: [CreateWidgets1733100000000, SeedWidgets1733100000001],
        }),
      ],
    }).compile();
    app.enableShutdownHooks();
    await app.init();
    const conn = app.get<DatabaseConnection>(DATABASE_CONNECTION);
    expect(conn.embedded).toBe(true);
    expect(await app.get(DataSource).query('SELECT id FROM widgets ORDER BY id')).toEqual([
      { id: 1 },
      { id: 2 },
    ]);
    await app.close();
    const client = new Client({ connectionString: conn.url, connectionTimeoutMillis: 2000 });
    await expect(client.connect()).rejects.toThrow();

    // The CLI path on the same data dir: the same cluster, the migrations already applied.
    const cli = await openDataSource({
      dataDir,
      migrations: [CreateWidgets1733100000000, SeedWidgets1733100000001],
    });
    expect(await cli.dataSource.query('SELECT count(*)::int AS n FROM widgets')).toEqual([{ n: 2 }]);
    await cli.close();
  });
});
