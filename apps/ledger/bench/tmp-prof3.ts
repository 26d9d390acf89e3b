import { EventStore } from '@spendops/event-store';
import { openDataSource } from '@spendops/persistence';
import { startPostgres } from '../../../libs/testing/src/postgres';
import { LEDGER_MIGRATIONS } from '../src';
import { randomUUID } from 'node:crypto';
async function main() {
  const pg = await startPostgres();
  const opened = await openDataSource({ databaseUrl: pg.url, dataDir: '/nonexistent', migrations: LEDGER_MIGRATIONS, poolSize: 10 });
  const ds = opened.dataSource; const store = new EventStore(ds);
  await store.append(Array.from({ length: 3000 }, () => ({ event_id: randomUUID(), stream_id: 's', type: 'T', data: {} })));
  await ds.query('ANALYZE events');
  await ds.transaction(async (m) => {
    await m.query(`SET LOCAL enable_bitmapscan = off`); await m.query(`SET LOCAL enable_seqscan = off`); await m.query(`SET LOCAL enable_sort = off`);
    const p = await m.query(`EXPLAIN ANALYZE SELECT * FROM events e
        WHERE e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          AND (e.transaction_id, e.global_position) > ($1::xid8, $2::bigint)
          AND ($4::text[] IS NULL OR e.type = ANY ($4::text[]))
        ORDER BY e.transaction_id, e.global_position
        LIMIT $3`, ['0', '0', 10, null]);
    console.log(p.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'));
  });
  await opened.close(); await pg.stop();
}
main();
