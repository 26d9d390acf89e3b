import { Client } from 'pg';
import { startPostgres } from './postgres';

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('startPostgres', () => {
  jest.setTimeout(30_000);

  it('serves queries, survives a restart with its data, and removes everything on stop', async () => {
    const pg = await startPostgres();
    try {
      await query(pg.url, 'CREATE TABLE t (v int); INSERT INTO t VALUES (42)');
      const held = new Client({ connectionString: pg.url });
      held.on('error', () => undefined);
      await held.connect();
      await pg.restart();
      await expect(held.query('SELECT 1')).rejects.toThrow();
      await held.end().catch(() => undefined);
      expect(await query<{ v: number }>(pg.url, 'SELECT v FROM t')).toEqual([{ v: 42 }]);
      const [{ server_version_num }] = await query<{ server_version_num: string }>(
        pg.url,
        'SHOW server_version_num',
      );
      expect(Number(server_version_num)).toBeGreaterThanOrEqual(130000); // xid8 needs 13+
    } finally {
      await pg.stop();
    }
    await expect(query(pg.url, 'SELECT 1')).rejects.toThrow();
  });

  it('gives each call its own server', async () => {
    const [a, b] = await Promise.all([startPostgres(), startPostgres()]);
    try {
      expect(a.url).not.toEqual(b.url);
      await query(a.url, 'CREATE TABLE only_in_a (v int)');
      const rows = await query<{ n: string }>(
        b.url,
        "SELECT count(*) AS n FROM pg_tables WHERE tablename = 'only_in_a'",
      );
      expect(rows[0].n).toBe('0');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
