// Provides the EventStore and a ProjectionRunner (needs PersistenceModule's DataSource). Feature modules
// register their projections on the runner in onModuleInit; the runner starts at application bootstrap.
import { Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { DATABASE_CONNECTION, type DatabaseConnection } from '@spendops/persistence';
import { EventStore } from './event-store';
import { EventStoreSchema1733000000000 } from './event-store.migration';
import { OrderedEventReader1733000000120 } from './ordered-reader.migration';
import { ProjectionHeartbeat1733000000110 } from './projection-heartbeat.migration';
import {
  PROJECTION_RUNNER_OPTIONS,
  ProjectionRunner,
  type ProjectionRunnerOptions,
} from './projection-runner';

/** The event store's migrations, for PersistenceModule.forRoot({ migrations }). */
export const EVENT_STORE_MIGRATIONS = [
  EventStoreSchema1733000000000,
  ProjectionHeartbeat1733000000110,
  OrderedEventReader1733000000120,
];

class RunnerStarter implements OnApplicationBootstrap {
  constructor(private readonly runner: ProjectionRunner) {}
  async onApplicationBootstrap(): Promise<void> {
    await this.runner.start();
  }
}

@Module({})
export class EventStoreModule {
  static forRoot(options: { pollMs?: number; listen?: boolean; autoStart?: boolean } = {}): DynamicModule {
    return {
      module: EventStoreModule,
      global: true,
      providers: [
        EventStore,
        ProjectionRunner,
        {
          provide: PROJECTION_RUNNER_OPTIONS,
          inject: [DATABASE_CONNECTION],
          useFactory: (conn: DatabaseConnection): ProjectionRunnerOptions => ({
            pollMs: options.pollMs,
            listenUrl: options.listen === false ? undefined : conn.url,
          }),
        },
        ...(options.autoStart === false
          ? []
          : [
              {
                provide: RunnerStarter,
                inject: [ProjectionRunner],
                useFactory: (r: ProjectionRunner) => new RunnerStarter(r),
              },
            ]),
      ],
      exports: [EventStore, ProjectionRunner],
    };
  }
}
