// TypeORM data source options shared by the Nest module and the CLI: raw SQL migrations contributed by each
// app, never `synchronize`.
import { DataSource, type DataSourceOptions, type MigrationInterface } from 'typeorm';
import { EmbeddedPostgres } from './embedded-postgres';

/** A migration class (TypeORM reads its timestamp from the class name's last 13 digits). */
export type MigrationClass = new () => MigrationInterface;

export interface PersistenceOptions {
  /** A PostgreSQL URL; when absent an embedded server is started in `<dataDir>/postgres`. */
  databaseUrl?: string;
  dataDir: string;
  /** Every app's migrations; run in timestamp order at start. */
  migrations: MigrationClass[];
  /** Port of the embedded server (a free one when omitted). */
  embeddedPort?: number;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Nice level of the embedded server's processes (0: unchanged); see @spendops/scheduling. */
  embeddedNice?: number;
  log?: (message: string) => void;
}

export function dataSourceOptions(url: string, options: PersistenceOptions): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    synchronize: false,
    // Migrations run in initializeDataSource() under an advisory lock, so services starting together against
    // one database (distributed mode) take turns instead of racing each other's CREATE TABLE.
    migrationsRun: false,
    migrationsTransactionMode: 'each',
    migrationsTableName: 'spendops_migrations',
    migrations: dedupe(options.migrations),
    entities: [],
    extra: { max: options.poolSize ?? 10 },
  };
}

/** The same migration class contributed twice (two apps importing one module) runs once. */
function dedupe(migrations: MigrationClass[]): MigrationClass[] {
  return [...new Set(migrations)];
}

export interface OpenedDataSource {
  dataSource: DataSource;
  /** The URL actually used (the embedded server's when no databaseUrl was given). */
  url: string;
  /** Destroy the data source, then stop the embedded server if this call started it. */
  close(): Promise<void>;
}

/** Outside Nest (the CLI): start embedded Postgres if needed, connect, run migrations. */
export async function openDataSource(options: PersistenceOptions): Promise<OpenedDataSource> {
  const embedded = options.databaseUrl
    ? null
    : new EmbeddedPostgres({ dataDir: options.dataDir, port: options.embeddedPort, log: options.log });
  const url = options.databaseUrl ?? (await embedded!.start());
  const dataSource = new DataSource(dataSourceOptions(url, options));
  try {
    await initializeDataSource(dataSource);
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
  return {
    dataSource,
    url,
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded?.stop();
    },
  };
}

const MIGRATION_LOCK = 0x5370_656e_644f_7073n; // "SpendOps"

/** Connect and run pending migrations while holding a database-wide advisory lock. */
export async function initializeDataSource(dataSource: DataSource): Promise<DataSource> {
  await dataSource.initialize();
  try {
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]).catch(() => undefined);
      await runner.release();
    }
  } catch (err) {
    await dataSource.destroy();
    throw err;
  }
  return dataSource;
}
