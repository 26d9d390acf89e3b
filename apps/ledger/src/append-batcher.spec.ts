// Group commit on a real PostgreSQL: messages handed in together share transactions, each caller learns of
// its event only after the commit that holds it, repeats append nothing, and one bad event fails only itself.
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { EventStore, type NewEvent } from '@spendops/event-store';
import { openDataSource, type OpenedDataSource } from '@spendops/persistence';
import { startPostgres, type TestPostgres } from '@spendops/testing';
import { AppendBatcher } from './append-batcher';
import { LEDGER_MIGRATIONS } from './ledger.module';

jest.setTimeout(30_000);

let pg: TestPostgres;
let opened: OpenedDataSource;
let ds: DataSource;
let store: EventStore;
let observer: Pool;

beforeAll(async () => {
  pg = await startPostgres();
  opened = await openDataSource({
    databaseUrl: pg.url,
    dataDir: '/nonexistent',
    migrations: LEDGER_MIGRATIONS,
  });
  ds = opened.dataSource;
  store = new EventStore(ds);
  observer = new Pool({ connectionString: pg.url, max: 4 });
});

afterAll(async () => {
  await observer?.end();
  await opened?.close();
  await pg?.stop();
});

function ev(stream: string, data: unknown = { n: 1 }): NewEvent {
  return { event_id: randomUUID(), stream_id: stream, type: 'Thing', data };
}

/** Whether another connection sees the event: committed, not just written. */
async function visible(eventId: string): Promise<boolean> {
  const { rows } = await observer.query('SELECT 1 FROM events WHERE event_id = $1', [eventId]);
  return rows.length === 1;
}

async function transactionsOf(stream: string): Promise<number> {
  const [{ n }] = await ds.query(
    'SELECT count(DISTINCT transaction_id)::int AS n FROM events WHERE stream_id = $1',
    [stream],
  );
  return n;
}

describe('AppendBatcher', () => {
  it('appends messages delivered together in shared transactions, each settled only after its commit', async () => {
    const batcher = new AppendBatcher((events) => store.append(events), { maxBatch: 40 });
    const events = Array.from({ length: 200 }, () => ev('grouped'));
    const seenAtSettle: boolean[] = [];
    const results = await Promise.all(
      events.map(async (e) => {
        const appended = await batcher.add(e);
        seenAtSettle.push(await visible(e.event_id));
        return appended;
      }),
    );
    expect(results.every((r) => r === true)).toBe(true);
    expect(seenAtSettle.every((v) => v)).toBe(true);
    const txs = await transactionsOf('grouped');
    expect(txs).toBeGreaterThanOrEqual(5); // at most 40 per transaction
    expect(txs).toBeLessThan(20);
    expect(batcher.pending).toBe(0);
  });

  it('a repeat appends nothing: false for an id already stored and for the second copy in one batch', async () => {
    const batcher = new AppendBatcher((events) => store.append(events));
    const stored = ev('repeats');
    expect(await batcher.add(stored)).toBe(true);
    const fresh = ev('repeats');
    const results = await Promise.all([
      batcher.add({ ...stored, data: { changed: true } }),
      batcher.add(fresh),
      batcher.add({ ...fresh, event_id: fresh.event_id.toUpperCase() }),
    ]);
    expect(results).toEqual([false, true, false]);
    const stream = await store.readStream('repeats');
    expect(stream.map((e) => e.event_id)).toEqual([stored.event_id, fresh.event_id]);
    expect(stream[0].data).toEqual({ n: 1 });
  });

  it('one event PostgreSQL refuses fails alone; the others of its batch are appended', async () => {
    let writes = 0;
    const batcher = new AppendBatcher((events) => {
      writes++;
      return store.append(events);
    });
    const good = Array.from({ length: 5 }, () => ev('isolated'));
    const bad = ev('isolated', { text: 'nul \u0000 byte' }); // jsonb refuses \u0000
    const settled = await Promise.allSettled([...good, bad].map((e) => batcher.add(e)));
    expect(settled.slice(0, 5).map((s) => s.status)).toEqual(Array(5).fill('fulfilled'));
    expect(settled[5].status).toBe('rejected');
    expect((settled[5] as PromiseRejectedResult).reason).toBeInstanceOf(Error);
    expect(writes).toBe(1 + 6); // the shared attempt, then each alone
    for (const e of good) expect(await visible(e.event_id)).toBe(true);
    expect(await visible(bad.event_id)).toBe(false);
  });

  it('a failed write rejects every caller of the batch at once (the bus retries them) and the batcher goes on', async () => {
    let fail = true;
    let writes = 0;
    const batcher = new AppendBatcher(async (events) => {
      writes++;
      if (fail) throw Object.assign(new Error('database away'), { code: '57P01' });
      return store.append(events);
    });
    const first = [ev('outage'), ev('outage')];
    const settled = await Promise.allSettled(first.map((e) => batcher.add(e)));
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect(writes).toBe(1); // not retried one by one: the data was not at fault
    fail = false;
    expect(await Promise.all(first.map((e) => batcher.add(e)))).toEqual([true, true]);
  });
});
