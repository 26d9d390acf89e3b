// A throwaway PostgreSQL with a service's migrations run, opened as the service and the CLI open it, and an empty
// data dir for commands that take --data-dir.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import type { MigrationClass, OpenedDataSource } from '@spendops/persistence';
import { startPostgres, type TestPostgres } from './postgres';

export interface TestDatabase {
  pg: TestPostgres;
  /** Migrated and initialised. */
  dataSource: DataSource;
  /** An empty temp dir, removed by close(). */
  dataDir: string;
  /** Closes the data source, stops PostgreSQL and removes the data dir. */
  close(): Promise<void>;
}

export async function startTestDatabase(migrations: MigrationClass[]): Promise<TestDatabase> {
  // Loaded here, not at the top: every spec imports @spendops/testing, most without needing TypeORM.
  const { openDataSource } = await import('@spendops/persistence');
  const [pg, dataDir] = await Promise.all([startPostgres(), mkdtemp(join(tmpdir(), 'spendops-test-db-'))]);
  const removeAll = async () => {
    try {
      await pg.stop();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  };
  let opened: OpenedDataSource;
  try {
    opened = await openDataSource({ databaseUrl: pg.url, dataDir, migrations });
  } catch (err) {
    await removeAll();
    throw err;
  }
  return {
    pg,
    dataSource: opened.dataSource,
    dataDir,
    async close() {
      try {
        await opened.close();
      } finally {
        await removeAll();
      }
    },
  };
}
