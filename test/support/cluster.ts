// The distributed system as an operator runs it, for fault tests: RabbitMQ and PostgreSQL as real servers and one
// OS process of the built CLI per service (`serve --services X`), each with its own data dir (a proxy's spool)
// that survives its restarts, so a service can be killed and started again as a supervisor would.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RabbitMqInstance, startPostgres, startRabbitMq, TestPostgres } from '@spendops/testing';
import { runCli, SpendOpsProcess, startSpendOps } from './spendops-process';

export const SERVICES = ['auth', 'extraction', 'pricing', 'ledger', 'api'] as const;

export interface Cluster {
  rabbit: RabbitMqInstance;
  pg: TestPostgres;
  env: NodeJS.ProcessEnv;
  databaseUrl: string;
  adminToken: string;
  /** A key created with the CLI before the load starts. */
  key: string;
  /** Process by name: the services, and `proxy0`, `proxy1`, ... */
  processes: Map<string, SpendOpsProcess>;
  proxyUrls(): string[];
  apiUrl(): string;
  /** Starts the named process (again), on its own data dir. */
  start(name: string): Promise<SpendOpsProcess>;
  /** Sends `signal` and waits for the exit; the exit code. */
  stop(name: string, signal: NodeJS.Signals): Promise<number | null>;
  /** stop + start. */
  restart(name: string, signal: NodeJS.Signals): Promise<void>;
  /** SIGKILLs everything left and removes the servers. */
  destroy(): Promise<void>;
}

export async function startCluster(
  upstreams: NodeJS.ProcessEnv,
  options: { proxies?: number } = {},
): Promise<Cluster> {
  const [rabbit, pg] = await Promise.all([startRabbitMq(), startPostgres()]);
  const adminToken = `admin-${randomBytes(12).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: pg.url,
    SPENDOPS_AMQP_URL: rabbit.url,
    SPENDOPS_SERVER_SECRET: randomBytes(32).toString('hex'),
    SPENDOPS_ADMIN_TOKEN: adminToken,
    ...upstreams,
  };
  const processes = new Map<string, SpendOpsProcess>();
  const dataDirs = new Map<string, string>();
  const proxies = Array.from({ length: options.proxies ?? 1 }, (_, i) => `proxy${i}`);

  const start = async (name: string): Promise<SpendOpsProcess> => {
    if (!dataDirs.has(name)) dataDirs.set(name, mkdtempSync(join(tmpdir(), `so-${name}-`)));
    const service = name.startsWith('proxy') ? 'proxy' : name;
    const p = await startSpendOps(['--services', service, '--addr', '127.0.0.1:0'], {
      ...env,
      SPENDOPS_DATA_DIR: dataDirs.get(name),
    });
    processes.set(name, p);
    return p;
  };
  const stop = async (name: string, signal: NodeJS.Signals): Promise<number | null> => {
    const p = processes.get(name);
    return p ? p.stop(signal) : null;
  };

  // Auth first: the proxies' first snapshot comes from it.
  await start('auth');
  await Promise.all([...SERVICES.filter((s) => s !== 'auth'), ...proxies].map(start));
  const created = await runCli(['keys', 'create', '--name', 'load', '--dims-allowed', 'run', '--json'], env);
  if (created.code !== 0) throw new Error(`keys create failed: ${created.stderr}`);
  const { key } = JSON.parse(created.stdout) as { key: string };

  return {
    rabbit,
    pg,
    env,
    databaseUrl: pg.url,
    adminToken,
    key,
    processes,
    proxyUrls: () => proxies.map((n) => processes.get(n)!.url),
    apiUrl: () => processes.get('api')!.url,
    start,
    stop,
    async restart(name, signal) {
      await stop(name, signal);
      await start(name);
    },
    async destroy() {
      await Promise.all([...processes.values()].map((p) => p.stop('SIGKILL')));
      await rabbit.stop();
      await pg.stop();
    },
  };
}
