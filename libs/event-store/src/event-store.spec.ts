import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { openDataSource, type OpenedDataSource } from '@spendops/persistence';
import { startPostgres, type TestPostgres } from '@spendops/testing';
import { EventStore } from './event-store';
import { EVENT_STORE_MIGRATIONS } from './event-store.module';
import type { NewEvent, StoredEvent } from './event.types';
import type { Projection } from './projection';
import { ProjectionRunner } from './projection-runner';

jest.setTimeout(30_000);

let pg: TestPostgres;
let db: OpenedDataSource;
let ds: DataSource;
let store: EventStore;

const TestTable = `CREATE TABLE IF NOT EXISTS seen (projection text, event_id uuid, n int NOT NULL DEFAULT 1,
  PRIMARY KEY (projection, event_id))`;

/** Records every event it handles, counting repeats, so "none skipped, none twice" can be checked. */
function recorder(name: string, opts: { batchSize?: number; slowMs?: number } = {}): Projection {
  return {
    name,
    batchSize: opts.batchSize,
    async handle(events: StoredEvent[], manager: EntityManager) {
      if (opts.slowMs) await new Promise((r) => setTimeout(r, opts.slowMs));
      await manager.query(
        `INSERT INTO seen (projection, event_id) SELECT $1, unnest($2::uuid[])
         ON CONFLICT (projection, event_id) DO UPDATE SET n = seen.n + 1`,
        [name, events.map((e) => e.event_id)],
      );
    },
    async reset(manager: EntityManager) {
      await manager.query('DELETE FROM seen WHERE projection = $1', [name]);
    },
  };
}

function ev(stream = 'req-1', type = 'Thing'): NewEvent {
  return { event_id: randomUUID(), stream_id: stream, type, data: { at: Date.now() } };
}

async function seen(name: string): Promise<Map<string, number>> {
  const rows: { event_id: string; n: number }[] = await ds.query(
    'SELECT event_id, n FROM seen WHERE projection = $1',
    [name],
  );
  return new Map(rows.map((r) => [r.event_id, r.n]));
}

async function connect(): Promise<Client> {
  const c = new Client({ connectionString: pg.url });
  await c.connect();
  return c;
}

beforeAll(async () => {
  pg = await startPostgres();
  db = await openDataSource({
    databaseUrl: pg.url,
    dataDir: '/nonexistent',
    migrations: EVENT_STORE_MIGRATIONS,
  });
  ds = db.dataSource;
  store = new EventStore(ds);
  await ds.query(TestTable);
});
afterAll(async () => {
  await db?.close();
  await pg?.stop();
});

describe('EventStore.append', () => {
  it('is idempotent on event_id: a redelivery, or a repeat inside one batch, appends nothing', async () => {
    const a = ev('s-idem');
    const b = ev('s-idem');
    expect(await store.append([a, b, a])).toEqual([a.event_id, b.event_id]);
    expect(await store.append([{ ...a, data: { changed: true } }, b])).toEqual([]);
    const stream = await store.readStream('s-idem');
    expect(stream.map((e) => e.event_id)).toEqual([a.event_id, b.event_id]);
    expect(stream[0].data).toEqual(a.data);
    expect(stream[0].version).toBe(1);
    expect(stream[0].transaction_id).toMatch(/^\d+$/);
  });

  it('reads several streams at once: per stream, the events of the given types in append order', async () => {
    const [a1, b1, a2, a3] = [
      ev('s-many-a', 'Kept'),
      ev('s-many-b', 'Kept'),
      ev('s-many-a', 'Other'),
      ev('s-many-a', 'Kept'),
    ];
    await store.append([a1, b1]);
    await store.append([a2, a3]);
    const streams = await store.readStreams(['s-many-a', 's-many-b', 's-many-a', 's-none'], ['Kept']);
    expect([...streams.keys()].sort()).toEqual(['s-many-a', 's-many-b']);
    expect(streams.get('s-many-a')!.map((e) => e.event_id)).toEqual([a1.event_id, a3.event_id]);
    expect(streams.get('s-many-b')!.map((e) => e.event_id)).toEqual([b1.event_id]);
    expect((await store.readStreams([], ['Kept'])).size).toBe(0);
  });

  it('joins the caller transaction and rolls back with it', async () => {
    const e = ev('s-tx');
    await expect(
      ds.transaction(async (manager) => {
        expect(await store.append([e], manager)).toEqual([e.event_id]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await store.readStream('s-tx')).toEqual([]);
  });

  it('reads in numeric (transaction_id, global_position) order, not text order', async () => {
    await store.append(Array.from({ length: 12 }, () => ev('s-order')));
    const read = await store.readAfter({ transaction_id: '0', global_position: '0' }, 100_000);
    const keys = read.map((e) => [BigInt(e.transaction_id), BigInt(e.global_position)] as const);
    for (let i = 1; i < keys.length; i++) {
      const [[t0, p0], [t1, p1]] = [keys[i - 1], keys[i]];
      expect(t0 < t1 || (t0 === t1 && p0 < p1)).toBe(true);
    }
    expect(keys.length).toBeGreaterThanOrEqual(12);
  });

  it('rejects events without a UUID id, a stream or a type', async () => {
    await expect(store.append([{ ...ev(), event_id: 'nope' }])).rejects.toThrow(/UUID/);
    await expect(store.append([{ ...ev(), stream_id: '' }])).rejects.toThrow(/stream_id/);
    await expect(store.append([{ ...ev(), type: '' }])).rejects.toThrow(/type/);
  });

  it('refuses UPDATE, DELETE and TRUNCATE in the database itself', async () => {
    await store.append([ev('s-immutable')]);
    await expect(ds.query(`UPDATE events SET type = 'x' WHERE stream_id = 's-immutable'`)).rejects.toThrow(
      /append-only/,
    );
    await expect(ds.query(`DELETE FROM events WHERE stream_id = 's-immutable'`)).rejects.toThrow(
      /append-only/,
    );
    await expect(ds.query('TRUNCATE events')).rejects.toThrow(/append-only/);
    expect(await store.readStream('s-immutable')).toHaveLength(1);
  });
});

describe('ProjectionRunner', () => {
  it('does not read past a transaction still in flight (the out-of-order commit trap)', async () => {
    const runner = new ProjectionRunner(ds, store);
    runner.register(recorder('trap'));
    await runner.catchUp();
    const slow = await connect();
    const fast = await connect();
    try {
      const late = ev('trap');
      const early = ev('trap');
      await slow.query('BEGIN');
      await slow.query(
        `INSERT INTO events (event_id, stream_id, type, data) VALUES ($1, 'trap', 'Thing', '{}')`,
        [late.event_id],
      );
      await fast.query(
        `INSERT INTO events (event_id, stream_id, type, data) VALUES ($1, 'trap', 'Thing', '{}')`,
        [early.event_id],
      );
      // The committed event has the higher position: a "position > checkpoint" reader would take it now and
      // skip the lower one for ever once it commits.
      const [pos] = await ds.query('SELECT max(global_position)::text AS p FROM events');
      const [mine] = await ds.query('SELECT global_position::text AS p FROM events WHERE event_id = $1', [
        early.event_id,
      ]);
      expect(mine.p).toBe(pos.p);
      expect(await runner.catchUp()).toBe(0);
      await slow.query('COMMIT');
      expect(await runner.catchUp()).toBe(2);
      const got = await seen('trap');
      expect(got.get(late.event_id)).toBe(1);
      expect(got.get(early.event_id)).toBe(1);
    } finally {
      await slow.end();
      await fast.end();
    }
  });

  it('concurrent appenders holding transactions open while two runners project: none skipped, none twice', async () => {
    const runners = [
      new ProjectionRunner(ds, store, { pollMs: 5 }),
      new ProjectionRunner(ds, store, { pollMs: 5 }),
    ];
    for (const r of runners) r.register(recorder('concurrent', { batchSize: 7 }));
    await runners[0].catchUp();
    await Promise.all(runners.map((r) => r.start()));
    const committed: string[] = [];
    const writer = async (w: number): Promise<void> => {
      const c = await connect();
      try {
        for (let i = 0; i < 25; i++) {
          const batch = [ev(`w${w}`), ev(`w${w}`)];
          await c.query('BEGIN');
          for (const e of batch) {
            await c.query(
              `INSERT INTO events (event_id, stream_id, type, data) VALUES ($1, $2, 'Thing', '{}')`,
              [e.event_id, e.stream_id],
            );
            await new Promise((r) => setTimeout(r, Math.random() * 8));
          }
          if (Math.random() < 0.15) {
            await c.query('ROLLBACK');
          } else {
            await c.query('COMMIT');
            committed.push(...batch.map((e) => e.event_id));
          }
        }
      } finally {
        await c.end();
      }
    };
    await Promise.all([0, 1, 2, 3, 4, 5].map(writer));
    await Promise.all(runners.map((r) => r.stop()));
    await runners[0].catchUp();
    const got = await seen('concurrent');
    const all: { event_id: string }[] = await ds.query('SELECT event_id::text FROM events');
    expect(got.size).toBe(all.length);
    for (const id of committed) expect(got.get(id)).toBe(1);
    expect([...got.values()].every((n) => n === 1)).toBe(true);
    expect(await runners[1].lag()).toEqual({ concurrent: 0 });
  });

  it('rebuild from position zero gives what incremental projection gave, while appends go on', async () => {
    const runner = new ProjectionRunner(ds, store);
    runner.register(recorder('rebuilt', { batchSize: 13 }));
    await store.append(Array.from({ length: 40 }, () => ev('rb')));
    await runner.catchUp();
    const before = await seen('rebuilt');
    const appending = store.append(Array.from({ length: 10 }, () => ev('rb')));
    await runner.rebuild('rebuilt');
    await appending;
    await runner.catchUp();
    const after = await seen('rebuilt');
    for (const [id, n] of before) expect(after.get(id)).toBe(n);
    const [{ n }] = await ds.query('SELECT count(*)::int AS n FROM events');
    expect(after.size).toBe(n);
    expect([...after.values()].every((v) => v === 1)).toBe(true);
  });

  it('a projection failing mid-batch moves neither its rows nor its checkpoint', async () => {
    const runner = new ProjectionRunner(ds, store);
    let fail = true;
    const base = recorder('flaky');
    runner.register({
      ...base,
      name: 'flaky',
      async handle(events, manager) {
        await base.handle(events, manager);
        if (fail) throw new Error('boom');
      },
    });
    await store.append([ev('flaky')]);
    await expect(runner.catchUp()).rejects.toThrow('boom');
    expect((await seen('flaky')).size).toBe(0);
    expect(await runner.checkpointOf('flaky')).toEqual({ transaction_id: '0', global_position: '0' });
    fail = false;
    expect(await runner.catchUp()).toBeGreaterThan(0);
  });

  it('wakes on NOTIFY from another process, long before its poll', async () => {
    const runner = new ProjectionRunner(ds, store, { pollMs: 60_000, listenUrl: pg.url });
    runner.register(recorder('woken'));
    await runner.start();
    try {
      // The first pass has handled every event so far; the runner is about to sleep (or asleep).
      const caughtUp = async () => (await runner.lag()).woken === 0;
      for (let i = 0; i < 200 && !(await caughtUp()); i++) await new Promise((r) => setTimeout(r, 50));
      expect(await caughtUp()).toBe(true);
      const other = await connect();
      const e = ev('woken');
      await other.query(
        `INSERT INTO events (event_id, stream_id, type, data) VALUES ($1, 'woken', 'Thing', '{}')`,
        [e.event_id],
      );
      await other.end();
      for (let i = 0; i < 100 && !(await seen('woken')).has(e.event_id); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect((await seen('woken')).get(e.event_id)).toBe(1);
    } finally {
      await runner.stop();
    }
  });

  it('does not lose a wake-up that comes during a pass: it passes again rather than sleep its poll', async () => {
    const runner = new ProjectionRunner(ds, store, { pollMs: 60_000 });
    runner.register({ ...recorder('late'), types: ['Late'] });
    let entered!: () => void;
    const inPass = new Promise<void>((r) => (entered = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    // Registered after 'late', so 'late' has already read (nothing) when this holds the pass open.
    runner.register({
      name: 'gate',
      types: ['Gate'],
      async handle() {
        entered();
        await released;
      },
    });
    await store.append([ev('gate', 'Gate')]);
    await runner.start();
    try {
      await inPass;
      const e = ev('late', 'Late');
      await store.append([e]); // its in-process wake-up comes while the pass runs
      release();
      for (let i = 0; i < 100 && !(await seen('late')).has(e.event_id); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect((await seen('late')).get(e.event_id)).toBe(1);
    } finally {
      release();
      await runner.stop();
    }
  });

  it('a projection that keeps getting new events does not hold back the projections after it', async () => {
    const runner = new ProjectionRunner(ds, store, { pollMs: 20 });
    // Every batch of 'busy' sees a new event appended meanwhile (as under steady traffic on a slow machine).
    let appending = true;
    runner.register({
      ...recorder('busy'),
      types: ['Busy'],
      async handle(events, manager) {
        if (appending) await store.append([ev('busy', 'Busy')]);
        await recorder('busy').handle(events, manager);
      },
    });
    runner.register({ ...recorder('behind'), types: ['Behind'] });
    const e = ev('behind', 'Behind');
    await store.append([ev('busy', 'Busy'), e]);
    await runner.start();
    try {
      for (let i = 0; i < 100 && !(await seen('behind')).has(e.event_id); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect((await seen('behind')).get(e.event_id)).toBe(1);
      // ... and 'busy' goes on with the events it keeps getting, pass after pass.
      for (let i = 0; i < 100 && (await seen('busy')).size < 3; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect((await seen('busy')).size).toBeGreaterThanOrEqual(3);
    } finally {
      appending = false;
      await runner.stop();
    }
  });

  it('filters by event type', async () => {
    const runner = new ProjectionRunner(ds, store);
    runner.register({ ...recorder('typed'), name: 'typed', types: ['Wanted'] });
    const wanted = ev('typed', 'Wanted');
    await store.append([ev('typed', 'Unwanted'), wanted]);
    await runner.catchUp();
    expect([...(await seen('typed')).keys()]).toContain(wanted.event_id);
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM events WHERE type = 'Wanted'`);
    expect((await seen('typed')).size).toBe(n);
  });

  it('reads a batch out of a large backlog by walking the index in order, not by fetching the whole backlog', async () => {
    await ds.query('ANALYZE events'); // statistics from before the backlog: 'Backlog' looks rare
    const [{ earlier }] = await ds.query('SELECT count(*)::int AS earlier FROM events');
    await store.append(Array.from({ length: 3000 }, () => ev('backlog', 'Backlog')));
    // pg_stat_xact_user_tables counts this backend's row fetches (not yet flushed ones included, so take the
    // difference around the read): deterministic, unlike timings.
    const fetched = await ds.transaction(async (manager) => {
      const count = async (): Promise<number> => {
        const [row] = await manager.query(
          `SELECT (coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0))::int AS n
           FROM pg_stat_xact_user_tables WHERE relname = 'events'`,
        );
        return row?.n ?? 0;
      };
      const before = await count();
      const events = await store.readAfter({ transaction_id: '0', global_position: '0' }, 10, manager, [
        'Backlog',
      ]);
      expect(events).toHaveLength(10);
      return (await count()) - before;
    });
    // In order: the events before the backlog (other types), then the first 10 of it; not all 3000.
    expect(fetched).toBeLessThan(earlier + 100);
  });

  it('a projection of sparse types reads on from where it last saw everything, not from its last event', async () => {
    const reads: string[] = [];
    const spying = Object.create(store) as EventStore;
    spying.readBatch = (after, limit, manager, types) => {
      reads.push(after.global_position);
      return store.readBatch(after, limit, manager, types);
    };
    const runner = new ProjectionRunner(ds, spying);
    runner.register({ ...recorder('sparse'), name: 'sparse', types: ['Rare'] });
    const rare = ev('sparse', 'Rare');
    await store.append([rare]);
    await runner.catchUp();
    const handledAt = (await runner.checkpointOf('sparse')).global_position;
    await store.append(Array.from({ length: 50 }, () => ev('sparse', 'Common')));
    await runner.catchUp();
    const [{ p: newest }] = await ds.query('SELECT max(global_position)::text AS p FROM events');
    reads.length = 0;
    await runner.catchUp();
    expect(reads).toEqual([newest]); // not handledAt: the 50 skipped events are not walked again
    expect(handledAt).not.toBe(newest);
    // The persisted checkpoint still names the last event handled.
    expect((await runner.checkpointOf('sparse')).global_position).toBe(handledAt);
    const later = ev('sparse', 'Rare');
    await store.append([later]);
    await runner.catchUp();
    expect([...(await seen('sparse')).keys()].sort()).toEqual([rare.event_id, later.event_id].sort());
  });

  it('skipping ahead never passes a transaction still in flight', async () => {
    const runner = new ProjectionRunner(ds, store);
    runner.register({ ...recorder('sparse-trap'), name: 'sparse-trap', types: ['RareTrap'] });
    await runner.catchUp();
    const slow = await connect();
    const fast = await connect();
    try {
      const late = ev('sparse-trap', 'RareTrap');
      await slow.query('BEGIN');
      await slow.query(
        `INSERT INTO events (event_id, stream_id, type, data) VALUES ($1, 'sparse-trap', 'RareTrap', '{}')`,
        [late.event_id],
      );
      for (let i = 0; i < 3; i++)
        await fast.query(
          `INSERT INTO events (event_id, stream_id, type, data) VALUES ($1, 'sparse-trap', 'Common', '{}')`,
          [randomUUID()],
        );
      expect(await runner.catchUp()).toBe(0);
      await slow.query('COMMIT');
      expect(await runner.catchUp()).toBe(1);
      expect((await seen('sparse-trap')).get(late.event_id)).toBe(1);
    } finally {
      await slow.end();
      await fast.end();
    }
  });
});
