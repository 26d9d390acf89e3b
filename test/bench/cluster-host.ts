// Hosts the distributed cluster (test/support/cluster.ts) for the bench runner in a process of its own: the runner
// is pinned to the load core before the cluster is up, and a child inherits its parent's cores, so the cluster
// would start on that one core. Started on every core, this host prints one line `cluster {json}` once the cluster
// answers; the runner then pins it (load core) and its proxy (proxy core). SIGTERM, or the runner going away,
// destroys the cluster. Not a test.
import '../../apps/cli/src/aliases';
import { startCluster } from '../support/cluster';

export interface ClusterInfo {
  proxyPid: number;
  proxyUrl: string;
  apiUrl: string;
  adminToken: string;
  key: string;
  /** Port of the cluster's PostgreSQL (daemonized, outside this process's tree). */
  pgPort: number;
}

async function main(): Promise<void> {
  const parent = process.ppid;
  const cluster = await startCluster({ SPENDOPS_UPSTREAM_OPENAI: process.argv[2] });
  const proxy = cluster.processes.get('proxy0')!;
  const info: ClusterInfo = {
    proxyPid: proxy.child.pid!,
    proxyUrl: proxy.url,
    apiUrl: cluster.apiUrl(),
    adminToken: cluster.adminToken,
    key: cluster.key,
    pgPort: Number(new URL(cluster.databaseUrl).port),
  };
  process.stdout.write(`cluster ${JSON.stringify(info)}\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await cluster.destroy().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  // Reparented: the runner died without stopping us.
  setInterval(() => process.ppid !== parent && void stop(), 1_000);
}

main().catch((err: unknown) => {
  process.stderr.write(`cluster-host: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
