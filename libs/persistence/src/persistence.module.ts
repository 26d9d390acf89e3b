// The global persistence module: embedded Postgres when no URL is configured, one TypeORM DataSource, every
// app's migrations run at start. Apps contribute migrations through `forRoot({ migrations })`; the launcher
// concatenates the migration lists of the apps it runs (e.g. `[...AUTH_MIGRATIONS, ...LEDGER_MIGRATIONS]`).
import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { dataSourceOptions, initializeDataSource, type PersistenceOptions } from './data-source';
import { EmbeddedPostgres } from './embedded-postgres';
import { lowerProcessTree } from '@spendops/scheduling';

/** Injection token of the resolved connection: `{ url }` (for LISTEN/NOTIFY clients beside the pool). */
export const DATABASE_CONNECTION = Symbol('DATABASE_CONNECTION');
const PERSISTENCE_OPTIONS = Symbol('PERSISTENCE_OPTIONS');

export interface DatabaseConnection {
  url: string;
  /** True when this process runs the embedded server. */
  embedded: boolean;
}

/** Starts the embedded server on first use and stops it at shutdown, after closing the pool. */
@Injectable()
export class DatabaseLifecycle implements OnApplicationShutdown {
  private embedded: EmbeddedPostgres | null = null;

  constructor(
    @Inject(PERSISTENCE_OPTIONS) private readonly options: PersistenceOptions,
    private readonly moduleRef: ModuleRef,
  ) {}

  async connect(): Promise<DatabaseConnection> {
    if (this.options.databaseUrl) return { url: this.options.databaseUrl, embedded: false };
    this.embedded = new EmbeddedPostgres({
      dataDir: this.options.dataDir,
      port: this.options.embeddedPort,
      log: this.options.log,
    });
    const url = await this.embedded.start();
    const nice = this.options.embeddedNice ?? 0;
    const postmaster = nice > 0 && this.embedded.isOwner ? await this.embedded.postmasterPid() : null;
    if (postmaster !== null) {
      const outcome = lowerProcessTree(postmaster, nice);
      this.options.log?.(
        outcome.applied
          ? `embedded postgres runs at nice ${nice} (${outcome.ids.length} processes)`
          : `embedded postgres priority unchanged: ${outcome.reason}`,
      );
    }
    return { url, embedded: true };
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.embedded) return;
    // Nest shuts this module down before TypeORM's (it is imported deeper): close the pool first ourselves.
    const dataSource = this.moduleRef.get(DataSource, { strict: false });
    if (dataSource.isInitialized) await dataSource.destroy();
    await this.embedded.stop();
    this.embedded = null;
  }
}

@Module({})
class DatabaseConnectionModule {
  static forRoot(options: PersistenceOptions): DynamicModule {
    return {
      module: DatabaseConnectionModule,
      providers: [
        { provide: PERSISTENCE_OPTIONS, useValue: options },
        DatabaseLifecycle,
        {
          provide: DATABASE_CONNECTION,
          inject: [DatabaseLifecycle],
          useFactory: (lifecycle: DatabaseLifecycle) => lifecycle.connect(),
        },
      ],
      exports: [DATABASE_CONNECTION],
    };
  }
}

@Global()
@Module({})
export class PersistenceModule {
  static forRoot(options: PersistenceOptions): DynamicModule {
    const connection = DatabaseConnectionModule.forRoot(options);
    return {
      module: PersistenceModule,
      global: true,
      imports: [
        connection,
        TypeOrmModule.forRootAsync({
          imports: [connection],
          inject: [DATABASE_CONNECTION],
          useFactory: (conn: DatabaseConnection) => dataSourceOptions(conn.url, options),
          dataSourceFactory: (dsOptions) => initializeDataSource(new DataSource(dsOptions!)),
        }),
      ],
      exports: [connection, TypeOrmModule],
    };
  }
}
