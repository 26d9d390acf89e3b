// A throwaway PostgreSQL server for tests: the machine's PostgreSQL 15, run as the `postgres` user (it refuses
// root), in a temp dir with its own port and socket dir, trust auth, durability off for speed. Each cluster is a
// copy of one initdb'd template per machine and PostgreSQL build (initdb took ~10 s of a loaded 2-core machine,
// enough with the server start and a Nest init to run a spec's beforeAll past its 30 s; the copy takes ~1-2 s).
// With SPENDOPS_TEST_PG_URL set, a fresh database on that server is created instead (faster on CI).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, chown, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Client } from 'pg';

const run = promisify(execFile);

export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/<db>` */
  url: string;
  /** Stop the server (or drop the database) and delete its files. */
  stop(): Promise<void>;
  /** Stop and start the same cluster on the same port: every open connection is cut. */
  restart(): Promise<void>;
}

export async function startPostgres(): Promise<TestPostgres> {
  const shared = process.env.SPENDOPS_TEST_PG_URL;
  return shared ? createDatabaseOn(shared) : startCluster();
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function createDatabaseOn(serverUrl: string): Promise<TestPostgres> {
  const name = `spendops_test_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string): Promise<void> => {
    const client = new Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    stop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    restart: () =>
      Promise.reject(new Error('restart is not possible on a shared SPENDOPS_TEST_PG_URL server')),
  };
}

async function pgBinDir(): Promise<string> {
  const { stdout } = await run('pg_config', ['--bindir']);
  return stdout.trim();
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

type Exec = (tool: string, args: string[], cwd: string) => Promise<void>;

/** Runs a PostgreSQL tool as the postgres user when we are root (it refuses root). */
function execAs(bin: string, ids: { uid: number; gid: number } | null): Exec {
  return async (tool, args, cwd) => {
    const [cmd, argv] = ids
      ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]]
      : [join(bin, tool), args];
    await run(cmd, argv, { cwd });
  };
}

const READY = 'spendops-template-ready';

/**
 * The initdb'd data dir every cluster is copied from, made once per machine, PostgreSQL build and user:
 * concurrent jest workers may each build one, the first rename wins and the others use it.
 */
async function templateDataDir(
  bin: string,
  ids: { uid: number; gid: number } | null,
  exec: Exec,
): Promise<string> {
  const { stdout: version } = await run('pg_config', ['--version']);
  const key = createHash('sha256')
    .update(`${bin}\n${version}\n${process.getuid?.() ?? ''}`)
    .digest('hex')
    .slice(0, 16);
  const dir = join(tmpdir(), `spendops-pg-template-${key}`);
  const ready = async (d: string) =>
    access(join(d, READY)).then(
      () => true,
      () => false,
    );
  if (await ready(dir)) return join(dir, 'data');
  const staging = await mkdtemp(join(tmpdir(), 'spendops-pg-template-staging-'));
  if (ids) await chown(staging, ids.uid, ids.gid);
  await exec(
    'initdb',
    ['-D', join(staging, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '-N'],
    staging,
  );
  await writeFile(join(staging, READY), '');
  try {
    await rename(staging, dir);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    if (!(await ready(dir))) throw err;
  }
  return join(dir, 'data');
}

async function startCluster(): Promise<TestPostgres> {
  const bin = await pgBinDir();
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? await postgresIds() : null;
  const asPostgres = execAs(bin, ids);
  const template = await templateDataDir(bin, ids, asPostgres);
  const base = await mkdtemp(join(tmpdir(), 'spendops-pg-'));
  const data = join(base, 'data');
  // The postgres user owns the whole temp dir: data, socket and log all live in it. `cp -a` keeps the
  // template's owner and its 0700 mode, both of which the server insists on.
  if (ids) await chown(base, ids.uid, ids.gid);
  await run('cp', ['-a', template, data]);
  const exec = (tool: string, args: string[]) => asPostgres(tool, args, base);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-k ${base}`,
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
  ].join(' ');
  const start = () =>
    exec('pg_ctl', ['-D', data, '-l', join(base, 'server.log'), '-w', '-t', '30', '-o', options, 'start']);
  const stopServer = (mode: 'fast' | 'immediate') =>
    exec('pg_ctl', ['-D', data, '-w', '-t', '30', '-m', mode, 'stop']);
  await start();
  let running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      if (running) await stopServer('immediate').catch(() => undefined);
      running = false;
      await rm(base, { recursive: true, force: true });
    },
    async restart() {
      await stopServer('fast');
      await start();
    },
  };
}
