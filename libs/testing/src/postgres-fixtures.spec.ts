// The PostgreSQL-backed fixtures: startPostgresModule (Nest modules) and startTestDatabase (a data source).
import { existsSync, readdirSync } from 'node:fs';
import { Inject, Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { EVENT_STORE_MIGRATIONS, EventStore } from '@spendops/event-store';
import { BusUnavailableError, InProcessBus, MESSAGE_BUS, type MessageBus } from '@spendops/messaging';
import * as postgres from './postgres';
import { startPostgresModule } from './postgres-module';
import { startTestDatabase } from './test-database';

jest.setTimeout(60_000);

class CreateGadgets1733900000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE gadgets (id int PRIMARY KEY)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE gadgets');
  }
}

@Injectable()
class BusUser {
  constructor(@Inject(MESSAGE_BUS) readonly bus: MessageBus) {}
}
@Module({ providers: [BusUser], exports: [BusUser] })
class UnderTest {}

@Injectable()
class Broken implements OnModuleInit {
  onModuleInit(): void {
    throw new Error('init failed');
  }
}
@Module({ providers: [Broken] })
class BrokenModule {}

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

/** Records the servers startPostgres() hands out, to check a failed start stopped them. */
function recordStartedServers(): postgres.TestPostgres[] {
  const started: postgres.TestPostgres[] = [];
  const real = postgres.startPostgres;
  jest.spyOn(postgres, 'startPostgres').mockImplementation(async () => {
    const pg = await real();
    started.push(pg);
    return pg;
  });
  return started;
}

afterEach(() => jest.restoreAllMocks());

describe('startPostgresModule', () => {
  it('gives the modules under test the migrated database, the event store and the bus; close() ends all three', async () => {
    const bus = new InProcessBus();
    const m = await startPostgresModule({
      migrations: [...EVENT_STORE_MIGRATIONS, CreateGadgets1733900000000],
      eventStore: { autoStart: false, listen: false },
      bus,
      imports: [UnderTest],
    });
    expect(m.bus).toBe(bus);
    expect(m.module.get(BusUser).bus).toBe(bus);
    expect(m.module.get(EventStore)).toBeInstanceOf(EventStore);
    expect(await m.module.get(DataSource).query('SELECT count(*)::int AS n FROM gadgets')).toEqual([
      { n: 0 },
    ]);
    expect(await reachable(m.pg.url)).toBe(true);

    await m.close();
    await expect(bus.publish('t', {})).rejects.toBeInstanceOf(BusUnavailableError);
    expect(await reachable(m.pg.url)).toBe(false);
  });

  it('stops PostgreSQL and closes the bus when the module fails to start', async () => {
    const started = recordStartedServers();
    const bus = new InProcessBus();
    await expect(
      startPostgresModule({
        migrations: [],
        eventStore: { autoStart: false, listen: false },
        bus,
        imports: [BrokenModule],
      }),
    ).rejects.toThrow('init failed');
    expect(started).toHaveLength(1);
    expect(await reachable(started[0].url)).toBe(false);
    await expect(bus.publish('t', {})).rejects.toBeInstanceOf(BusUnavailableError);
  });
});

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
    const started = recordStartedServers();
    await expect(startTestDatabase([BrokenMigration1733900000200])).rejects.toThrow(/nosuchtype/);
    expect(started).toHaveLength(1);
    expect(await reachable(started[0].url)).toBe(false);
  });
});
