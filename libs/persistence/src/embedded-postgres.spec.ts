import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { EmbeddedPostgres } from './embedded-postgres';

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

/** A pid that certainly belongs to no process any more. */
function deadPid(): number {
  return spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim() as unknown as number;
}

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('EmbeddedPostgres', () => {
  jest.setTimeout(30_000);
  let dataDir: string;
  // Every instance a test made is stopped after it (a no-op when the test did): a test that failed half-way
  // otherwise left its server running on the data dir, and the next tests joined it instead of starting theirs.
  const made: EmbeddedPostgres[] = [];
  const embedded = (options: ConstructorParameters<typeof EmbeddedPostgres>[0]) => {
    const pg = new EmbeddedPostgres(options);
    made.push(pg);
    return pg;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'spendops-embedded-'));
  });
  afterEach(async () => {
    for (const pg of made.splice(0).reverse()) await pg.stop();
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  // initdb (durable, as in production) and three starts and stops of the server: 14 s at load 17 on 2 cores,
  // past 30 s in a loaded unit run. Each pg_ctl step has its own 60 s deadline; this bounds the whole.
  it('creates a cluster, keeps its data across restarts of the process, and stops with it', async () => {
    const first = embedded({ dataDir });
    const url = await first.start();
    expect(first.isOwner).toBe(true);
    expect(url).toMatch(/^postgres:\/\/spendops:[^@]+@127\.0\.0\.1:\d+\/spendops$/);
    await query(url, 'CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$yes$$)');
    await first.stop();
    await expect(query(url, 'SELECT 1')).rejects.toThrow();

    const second = embedded({ dataDir });
    const url2 = await second.start();
    expect(await query(url2, 'SELECT v FROM kept')).toEqual([{ v: 'yes' }]);
    await second.stop();
  }, 90_000);

  it('a second process on the same data dir joins the running server and leaves it running', async () => {
    const owner = embedded({ dataDir });
    const url = await owner.start();
    const guest = embedded({ dataDir });
    expect(await guest.start()).toBe(url);
    expect(guest.isOwner).toBe(false);
    await guest.stop();
    expect(await query(url, 'SELECT v FROM kept')).toEqual([{ v: 'yes' }]);
    await owner.stop();
  });

  it('adopts the server a killed owner left running, and stops it', async () => {
    const crashed = embedded({ dataDir });
    const url = await crashed.start();
    // The owner process "dies" without stopping its server (kill -9): only its pid in the owner file remains.
    await writeFile(join(dataDir, 'postgres.owner'), `${deadPid()}\n`);
    const next = embedded({ dataDir });
    expect(await next.start()).toBe(url);
    expect(next.isOwner).toBe(true);
    await next.stop();
    await expect(query(url, 'SELECT 1')).rejects.toThrow();
  });

  it('starts after the postmaster itself was killed with SIGKILL (stale postmaster.pid)', async () => {
    const pg = embedded({ dataDir });
    await pg.start();
    const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
    const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    await waitGone(pid);
    await new Promise((r) => setTimeout(r, 300)); // backends notice the dead postmaster and exit
    const again = embedded({ dataDir });
    const url = await again.start();
    expect(again.isOwner).toBe(true);
    expect(await query(url, 'SELECT v FROM kept')).toEqual([{ v: 'yes' }]);
    await again.stop();
  });

  it('removes a postmaster.pid naming a pid that is not postgres', async () => {
    await writeFile(
      join(dataDir, 'postgres', 'postmaster.pid'),
      `${process.pid}\n${dataDir}\n0\n5432\n\n\n\nready\n`,
    );
    const pg = embedded({ dataDir });
    const url = await pg.start();
    expect(await query(url, 'SELECT v FROM kept')).toEqual([{ v: 'yes' }]);
    await pg.stop();
  });

  // As root the server runs as `postgres`: a private directory above the data dir must give a clear error.
  (process.getuid?.() === 0 ? it : it.skip)(
    'says what to do when a parent directory is private',
    async () => {
      const privateParent = await mkdtemp(join(tmpdir(), 'spendops-private-')); // mkdtemp: mode 0700
      try {
        const pg = embedded({ dataDir: join(privateParent, 'data') });
        await expect(pg.start()).rejects.toThrow(/cannot reach .* is not traversable \(mode 700\)/);
      } finally {
        await rm(privateParent, { recursive: true, force: true });
      }
    },
  );
});
