import { existsSync, readdirSync } from 'node:fs';
import { Client } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import * as postgres from './postgres';
import { startTestDatabase } from './test-database';

jest.setTimeout(60_000);

class CreateGizmos1733900000100 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE gizmos (id int PRIMARY KEY)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE gizmos');
  }
}
class BrokenMigration1733900000200 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE gizmos_broken (id nosuchtype)');
  }
  async down(): Promise<void> {}
}

async function reachable(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

afterEach(() => jest.restoreAllMocks());

describe('startTestDatabase', () => {
  it('opens the migrated database with an empty data dir; close() stops the server and removes the dir', async () => {
    const db = await startTestDatabase([CreateGizmos1733900000100]);
    expect(await db.dataSource.query('SELECT count(*)::int AS n FROM gizmos')).toEqual([{ n: 0 }]);
    expect(readdirSync(db.dataDir)).toEqual([]);
    expect(await reachable(db.pg.url)).toBe(true);

    await db.close();
    expect(db.dataSource.isInitialized).toBe(false);
    expect(await reachable(db.pg.url)).toBe(false);
    expect(existsSync(db.dataDir)).toBe(false);
  });

  it('stops the server when a migration fails', async () => {
    const started: postgres.TestPostgres[] = [];
    const real = postgres.startPostgres;
    jest.spyOn(postgres, 'startPostgres').mockImplementation(async () => {
      const pg = await real();
      started.push(pg);
      return pg;
    });
    await expect(startTestDatabase([BrokenMigration1733900000200])).rejects.toThrow(/nosuchtype/);
    expect(started).toHaveLength(1);
    expect(await reachable(started[0].url)).toBe(false);
  });
});
