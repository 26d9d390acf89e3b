// A service's Nest modules on a throwaway PostgreSQL, composed as the launcher composes them: persistence with the
// service's migrations, the event store, the bus as MESSAGE_BUS, then the modules under test.
import type { DynamicModule, ForwardReference, Type } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import type { MigrationClass } from '@spendops/persistence';
import { InProcessBus, type MessageBus } from '@spendops/messaging';
import { globalBusModule } from './bus-capture';
import { startPostgres, type TestPostgres } from './postgres';

type ModuleImport = Type | DynamicModule | Promise<DynamicModule> | ForwardReference;

export interface PostgresModuleOptions<B extends MessageBus> {
  /** PersistenceModule's migrations. */
  migrations: MigrationClass[];
  /** The modules under test, after persistence, the event store and the bus. */
  imports: ModuleImport[];
  /** EventStoreModule.forRoot's options. */
  eventStore?: { pollMs?: number; listen?: boolean; autoStart?: boolean };
  /** MESSAGE_BUS (global); an InProcessBus when omitted. */
  bus?: B;
}

export interface PostgresTestModule<B extends MessageBus> {
  pg: TestPostgres;
  bus: B;
  /** Compiled and initialised (the projection runner starts here unless eventStore.autoStart is false). */
  module: TestingModule;
  /** Closes the module, then the bus, then stops PostgreSQL. */
  close(): Promise<void>;
}

export async function startPostgresModule<B extends MessageBus = InProcessBus>(
  options: PostgresModuleOptions<B>,
): Promise<PostgresTestModule<B>> {
  // Loaded here, not at the top: every spec imports @spendops/testing, most without needing TypeORM and Nest.
  const [{ Test }, { PersistenceModule }, { EventStoreModule }] = await Promise.all([
    import('@nestjs/testing'),
    import('@spendops/persistence'),
    import('@spendops/event-store'),
  ]);
  const bus = options.bus ?? (new InProcessBus() as MessageBus as B);
  const pg = await startPostgres();
  let module: TestingModule | undefined;
  try {
    module = await Test.createTestingModule({
      imports: [
        // No embedded server: the URL is given, so dataDir is never written.
        PersistenceModule.forRoot({
          databaseUrl: pg.url,
          dataDir: '/nonexistent',
          migrations: options.migrations,
        }),
        EventStoreModule.forRoot(options.eventStore),
        globalBusModule(bus),
        ...options.imports,
      ],
    }).compile();
    await module.init();
  } catch (err) {
    // Stop what did start, and report the start's error (a module that failed init rethrows it on close).
    await module?.close().catch(() => undefined);
    await bus.close().catch(() => undefined);
    await pg.stop();
    throw err;
  }
  const ready = module;
  return {
    pg,
    bus,
    module: ready,
    async close() {
      try {
        await ready.close();
      } finally {
        try {
          await bus.close();
        } finally {
          await pg.stop(); // a throwaway server is never left running
        }
      }
    },
  };
}
