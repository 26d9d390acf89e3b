// The database of the CLI's own commands (keys, pricing, projections): the same configuration as `serve`
// (flags > env > file), the embedded cluster joined when a server runs on the data dir, or DATABASE_URL.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SpendOpsConfig } from '@spendops/config';
import { openDataSource, type MigrationClass } from '@spendops/persistence';
import type { DataSource } from 'typeorm';
import { knownProviderNames } from '../serve/providers';
import { loadConfig } from './load-config';

export interface DatabaseFlags {
  dataDir?: string;
  config?: string;
}

export async function withCliDatabase<T>(
  flags: DatabaseFlags,
  migrations: MigrationClass[],
  fn: (db: DataSource, config: SpendOpsConfig) => Promise<T>,
): Promise<T> {
  // The services a server runs are irrelevant here: the CLI only needs the database (and the key secret).
  const config = loadConfig(
    { dataDir: flags.dataDir, config: flags.config },
    { ...process.env, SPENDOPS_SERVICES: '' },
    knownProviderNames(),
  );
  config.data_dir = resolve(config.data_dir);
  mkdirSync(config.data_dir, { recursive: true, mode: 0o700 });
  const opened = await openDataSource({
    databaseUrl: config.database_url || undefined,
    dataDir: config.data_dir,
    migrations,
    poolSize: 2,
  });
  try {
    return await fn(opened.dataSource, config);
  } finally {
    await opened.close();
  }
}
