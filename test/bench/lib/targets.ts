// The systems under test, each forwarding to the same mock: direct, nginx, the bare Node proxy, SpendOps
// all-in-one (capture on, and off when the build has the switch), SpendOps distributed, Portkey, the Go reference.
// A target missing a prerequisite is returned skipped with the reason; starting one never throws.
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { cpus, homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ClusterInfo } from '../cluster-host';
import { runCli, SPENDOPS_BIN, SpendOpsProcess, startSpendOps } from '../../support/spendops-process';
import { Endpoint } from './endpoint';
import { exec, freePort, onPath, pinTree, Proc, startProc, tail, waitHttp, waitOutput } from './proc';
import { postmasterOnPort } from './procstat';

export type TargetName =
  | 'direct'
  | 'nginx'
  | 'bare'
  | 'spendops'
  | 'spendops-nocapture'
  | 'spendops-onethread'
  | 'distributed'
  | 'portkey'
  | 'goref';

/** Variants of spendops measured only for CPU per request at the key rate (what capture, and the thread, cost). */
export const CPU_ONLY: ReadonlySet<TargetName> = new Set(['spendops-nocapture', 'spendops-onethread']);

export const TARGET_ORDER: TargetName[] = [
  'direct',
  'nginx',
  'bare',
  'spendops',
  'spendops-nocapture',
  'spendops-onethread',
  'distributed',
  'portkey',
  'goref',
];

export interface Target {
  name: TargetName;
  /** Why it is not measured; '' when it runs. */
  skipped: string;
  detail: string;
  endpoint: Endpoint;
  /** The proxy process measured (CPU, RSS); undefined for direct. */
  pid?: number;
  /** Whether the main thread's CPU means something (a Node process; nginx is one thread, Go spreads goroutines). */
  nodeProcess?: boolean;
  /** Admin API of a SpendOps target, for the pipeline scenarios. */
  admin?: { url: string; token: string };
  /** One-time work this start did (an install, a build) and how long it took; '' when none. */
  setup?: string;
  /** Moves the target onto its cores once it is up (the distributed cluster starts on every core). */
  pin?: () => Promise<void>;
  stop(): Promise<void>;
}

export interface BenchEnv {
  root: string;
  tmp: string;
  mockUrl: string;
  /** Core of the proxies ('' = no pinning) and of everything else. */
  proxyCpu: string;
  loadCpu: string;
  quick: boolean;
  /** The Go reference checkout (commit 5add497). */
  gorefDir: string;
}

const JSON_HEADERS = { 'content-type': 'application/json', authorization: 'Bearer sk-bench' };

export function repoRoot(from = __dirname): string {
  for (let d = from; d !== dirname(d); d = dirname(d)) {
    const pkg = join(d, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'spendops')
      return d;
  }
  throw new Error('repository root not found');
}

function skipped(name: TargetName, reason: string, detail = ''): Target {
  return {
    name,
    skipped: reason,
    detail,
    endpoint: { base: '', path: '', headers: {} },
    stop: async () => undefined,
  };
}

async function guard(name: TargetName, start: () => Promise<Target>): Promise<Target> {
  try {
    return await start();
  } catch (err) {
    return skipped(name, err instanceof Error ? err.message.split('\n')[0].slice(0, 400) : String(err));
  }
}

export function startTarget(name: TargetName, env: BenchEnv): Promise<Target> {
  const starters: Record<TargetName, () => Promise<Target>> = {
    direct: async () => ({
      name,
      skipped: '',
      detail: 'client straight to the mock upstream',
      endpoint: { base: env.mockUrl, path: '/v1/chat/completions', headers: JSON_HEADERS },
      stop: async () => undefined,
    }),
    nginx: () => startNginx(env),
    bare: () => startBare(env),
    spendops: () => startAllInOne(env, 'spendops'),
    'spendops-nocapture': () => startAllInOne(env, 'spendops-nocapture'),
    'spendops-onethread': () => startAllInOne(env, 'spendops-onethread'),
    distributed: () => startDistributed(env),
    portkey: () => startPortkey(env),
    goref: () => startGoref(env),
  };
  return guard(name, starters[name]);
}

function fromProc(name: TargetName, p: Proc, endpoint: Endpoint, detail: string): Target {
  const nodeProcess = name === 'bare' || name === 'portkey';
  return { name, skipped: '', detail, endpoint, pid: p.pid, nodeProcess, stop: () => p.stop() };
}

async function startNginx(env: BenchEnv): Promise<Target> {
  let bin = onPath('nginx') ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : null);
  let setup = '';
  if (!bin) {
    const t0 = Date.now();
    try {
      await exec('apt-get', ['install', '-y', 'nginx'], { timeout: 240_000 });
    } catch (err) {
      throw new Error(`nginx missing and apt-get install -y nginx failed: ${String(err).slice(0, 200)}`);
    }
    bin = '/usr/sbin/nginx';
    setup = `apt-get install -y nginx ${secondsSince(t0)} (installed for the next runs)`;
  }
  const prefix = mkdtempSync(join(env.tmp, 'nginx-'));
  mkdirSync(join(prefix, 'tmp'));
  const port = await freePort();
  const conf = nginxConf(prefix, port, new URL(env.mockUrl).port);
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  const p = startProc([bin, '-p', prefix, '-c', join(prefix, 'nginx.conf')], { cpu: env.proxyCpu });
  await waitHttp(`http://127.0.0.1:${port}/healthz`, 10_000, p);
  const version = (
    await exec(bin, ['-v']).then(
      (r) => r.stderr,
      () => '',
    )
  ).trim();
  return {
    ...fromProc(
      'nginx',
      p,
      { base: `http://127.0.0.1:${port}`, path: '/v1/chat/completions', headers: JSON_HEADERS },
      `${version || 'nginx'}, 1 process (master_process off), keep-alive upstream pool, proxy_buffering off`,
    ),
    setup,
  };
}

const secondsSince = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(0)} s`;

export function nginxConf(prefix: string, port: number, upstreamPort: string): string {
  return `worker_processes 1;
master_process off;
daemon off;
worker_rlimit_nofile 20000;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 16000; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  keepalive_requests 1000000;
  upstream mock { server 127.0.0.1:${upstreamPort}; keepalive 512; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = /healthz { return 200 "ok"; }
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 600s;
    }
  }
}
`;
}

async function startBare(env: BenchEnv): Promise<Target> {
  const script = join(__dirname, '..', 'bare-proxy.js');
  if (!existsSync(script)) throw new Error(`${script} not built (npm run build)`);
  const p = startProc([process.execPath, script, env.mockUrl], { cpu: env.proxyCpu });
  const port = (await waitOutput(p, /listening (\d+)/, 10_000))[1];
  return fromProc(
    'bare',
    p,
    { base: `http://127.0.0.1:${port}`, path: '/v1/openai/v1/chat/completions', headers: JSON_HEADERS },
    `node:http + undici Pool, no logic (test/bench/bare-proxy.ts), node ${process.version}`,
  );
}

/** Whether the built tree has the named switch (a config variable the launcher reads). */
export function switchExists(root: string, file: string, variable: string): boolean {
  const path = join(root, 'dist', file);
  return existsSync(path) && readFileSync(path, 'utf8').includes(variable);
}

type AllInOne = 'spendops' | 'spendops-nocapture' | 'spendops-onethread';

const VARIANTS: Record<AllInOne, { vars: NodeJS.ProcessEnv; detail: string; needs?: [string, string] }> = {
  spendops: {
    vars: {},
    detail:
      'all-in-one `node bin/spendops serve` with the build defaults: capture, extraction, pricing and the embedded PostgreSQL event store (pipeline on a worker thread; all on the proxy core)',
  },
  'spendops-nocapture': {
    vars: { SPENDOPS_CAPTURE_ENABLED: 'false' },
    detail: 'as spendops, capture off (SPENDOPS_CAPTURE_ENABLED=false): no capture records, no events',
    needs: ['libs/config/src/config.js', 'SPENDOPS_CAPTURE_ENABLED'],
  },
  'spendops-onethread': {
    vars: { SPENDOPS_PIPELINE_THREAD: 'false' },
    detail:
      'as spendops, extraction/pricing/ledger on the proxy thread (SPENDOPS_PIPELINE_THREAD=false; the default runs them on a worker thread)',
    needs: ['apps/cli/src/serve/pipeline-thread-setting.js', 'SPENDOPS_PIPELINE_THREAD'],
  },
};

async function startAllInOne(env: BenchEnv, name: AllInOne): Promise<Target> {
  const variant = VARIANTS[name];
  if (variant.needs && !switchExists(env.root, ...variant.needs)) {
    throw new Error(`this build has no ${variant.needs[1]} switch`);
  }
  const dataDir = mkdtempSync(join(env.tmp, `${name}-`));
  const token = `bench-admin-${randomBytes(12).toString('hex')}`;
  const vars: NodeJS.ProcessEnv = {
    SPENDOPS_DATA_DIR: dataDir,
    SPENDOPS_UPSTREAM_OPENAI: env.mockUrl,
    SPENDOPS_ADMIN_TOKEN: token,
    ...variant.vars,
  };
  const profileDir = process.env.BENCH_CPU_PROF;
  // One retry: a start can fail while the shared machine is rebuilding dist/ under us.
  const server = profileDir
    ? await startProfiled(vars, profileDir)
    : await startSpendOps(['--addr', '127.0.0.1:0'], vars, 120_000).catch(() =>
        startSpendOps(['--addr', '127.0.0.1:0'], vars, 120_000),
      );
  const key = await createKey(vars);
  // Killed, not drained: nothing is measured after a stop. The profiled one gets SIGTERM (the profile is written
  // at exit).
  const target = spendopsTarget(name, server, key, { url: server.url, token }, variant.detail, async () => {
    if (profileDir) await server.stop('SIGTERM');
    await server.dispose();
  });
  target.pin = async () => {
    if (!env.proxyCpu) return;
    await pinTree(server.child.pid!, env.proxyCpu);
    // The embedded PostgreSQL is daemonized (not in the proxy's process tree): it goes on the proxy core too.
    const pg = embeddedPostmaster(dataDir);
    if (pg) await pinTree(pg, env.proxyCpu);
  };
  // The profiled start stays on the load core until the runner moves it (extraction runs on the proxy core).
  if (!profileDir) await target.pin();
  return target;
}

/** The pid of the embedded PostgreSQL of a SpendOps data dir, from its postmaster.pid. */
function embeddedPostmaster(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** `node --cpu-prof bin/spendops serve` (the flag is refused in NODE_OPTIONS); the profile is written at exit. */
async function startProfiled(vars: NodeJS.ProcessEnv, dir: string): Promise<SpendOpsProcess> {
  const p = startProc(
    [process.execPath, '--cpu-prof', `--cpu-prof-dir=${dir}`, SPENDOPS_BIN, 'serve', '--addr', '127.0.0.1:0'],
    { env: { SPENDOPS_LOG_LEVEL: 'warn', ...vars } },
  );
  const url = (await waitOutput(p, /SpendOps listening on (http:\/\/\S+)/, 120_000))[1];
  return {
    url,
    adminToken: null,
    child: p.child,
    output: p.output,
    stop: async () => {
      await p.stop();
      return p.child.exitCode;
    },
    dispose: () => p.stop(),
  };
}

async function createKey(vars: NodeJS.ProcessEnv): Promise<string> {
  const created = await runCli(
    ['keys', 'create', '--name', 'bench', '--dims-allowed', 'run', '--json'],
    vars,
  );
  if (created.code !== 0) throw new Error(`keys create failed: ${tail(created.stderr)}`);
  return (JSON.parse(created.stdout) as { key: string }).key;
}

function spendopsTarget(
  name: TargetName,
  proxy: SpendOpsProcess,
  key: string,
  admin: { url: string; token: string },
  detail: string,
  stop: () => Promise<void>,
): Target {
  return {
    name,
    skipped: '',
    detail,
    endpoint: {
      base: proxy.url,
      path: '/v1/openai/v1/chat/completions',
      headers: { ...JSON_HEADERS, 'x-aso-api-key': key },
    },
    pid: proxy.child.pid!,
    nodeProcess: true,
    admin,
    stop,
  };
}

async function startDistributed(env: BenchEnv): Promise<Target> {
  if (!onPath('rabbitmq-server'))
    throw new Error('rabbitmq-server not installed (apt-get install -y rabbitmq-server)');
  if (!onPath('pg_config')) throw new Error('PostgreSQL server not installed (pg_config missing)');
  const host = startProc([process.execPath, join(__dirname, '..', 'cluster-host.js'), env.mockUrl], {
    cpu: env.proxyCpu ? `0-${cpus().length - 1}` : undefined,
  });
  const info = JSON.parse(
    (
      await waitOutput(host, /^cluster (\{.*\})$/m, 180_000).catch(async (err: unknown) => {
        await host.stop(30_000);
        throw err;
      })
    )[1],
  ) as ClusterInfo;
  const proxy: SpendOpsProcess = {
    url: info.proxyUrl,
    adminToken: null,
    child: { pid: info.proxyPid } as SpendOpsProcess['child'],
    output: () => '',
    stop: () => Promise.resolve(null),
    dispose: () => Promise.resolve(),
  };
  const target = spendopsTarget(
    'distributed',
    proxy,
    info.key,
    { url: info.apiUrl, token: info.adminToken },
    `proxy process measured (proxy core); auth, extraction, pricing, ledger, api, RabbitMQ and PostgreSQL 15 on the load core`,
    () => host.stop(30_000),
  );
  target.pin = async () => {
    if (!env.proxyCpu) return;
    await pinTree(host.pid, env.loadCpu);
    const pg = postmasterOnPort(info.pgPort);
    if (pg) await pinTree(pg, env.loadCpu);
    await pinTree(info.proxyPid, env.proxyCpu);
  };
  return target;
}

export const PORTKEY_VERSION = '1.15.2';

async function startPortkey(env: BenchEnv): Promise<Target> {
  const dir = join(env.root, 'bench', '.peer');
  const entry = join(dir, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
  let setup = '';
  if (!existsSync(entry)) {
    const t0 = Date.now();
    try {
      await exec('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
        cwd: dir,
        timeout: 240_000,
      });
    } catch (err) {
      throw new Error(
        `npm ci in bench/.peer failed: ${tail(String((err as { stderr?: string }).stderr ?? err), 200)}`,
      );
    }
    setup = `npm ci in bench/.peer ${secondsSince(t0)} (kept in bench/.peer/node_modules for the next runs)`;
  }
  const port = await freePort();
  const p = startProc([process.execPath, entry, `--port=${port}`, '--headless'], {
    cpu: env.proxyCpu,
    cwd: dir,
    env: { NODE_ENV: 'production' },
  });
  await waitHttp(`http://127.0.0.1:${port}/`, 30_000, p);
  const target = fromProc(
    'portkey',
    p,
    {
      base: `http://127.0.0.1:${port}`,
      path: '/v1/chat/completions',
      headers: {
        ...JSON_HEADERS,
        'x-portkey-provider': 'openai',
        'x-portkey-custom-host': `${env.mockUrl}/v1`,
      },
    },
    `Portkey AI gateway ${PORTKEY_VERSION} (npm @portkey-ai/gateway, lockfile in bench/.peer), node ${process.version}`,
  );
  return { ...target, setup };
}

async function startGoref(env: BenchEnv): Promise<Target> {
  const go = onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null);
  if (!go) throw new Error('Go toolchain not found');
  if (!existsSync(join(env.gorefDir, 'cmd', 'spendops')))
    throw new Error(`no Go reference checkout at ${env.gorefDir}`);
  const head = (
    await exec('git', ['-C', env.gorefDir, 'rev-parse', '--short', 'HEAD']).catch(() => ({ stdout: '?' }))
  ).stdout.trim();
  const { bin, setup } = await gorefBinary(env, go, head);
  const data = mkdtempSync(join(env.tmp, 'goref-data-'));
  const { stdout } = await exec(bin, ['keys', 'create', '--name', 'bench', '--json', '--data-dir', data]);
  const key = (JSON.parse(stdout) as { key: string }).key;
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const p = startProc(
    [bin, 'serve', '--addr', `127.0.0.1:${port}`, '--data-dir', data, '--upstream', `openai=${env.mockUrl}`],
    { cpu: env.proxyCpu, env: { SPENDOPS_ADMIN_TOKEN: token } },
  );
  await waitHttp(`http://127.0.0.1:${port}/healthz`, 30_000, p);
  return {
    ...fromProc(
      'goref',
      p,
      {
        base: `http://127.0.0.1:${port}`,
        path: '/v1/openai/v1/chat/completions',
        headers: { ...JSON_HEADERS, 'x-aso-api-key': key },
      },
      `Go implementation at ${head} (go build ./cmd/spendops), full metering on SQLite`,
    ),
    admin: { url: `http://127.0.0.1:${port}`, token },
    setup,
  };
}

/**
 * The Go reference's binary: built once per commit and Go version into ~/.cache/spendops-bench (a clean checkout
 * only; a dirty one is built into the run's scratch dir every time), so a run does not pay the build.
 */
async function gorefBinary(env: BenchEnv, go: string, head: string): Promise<{ bin: string; setup: string }> {
  const version = (await exec(go, ['env', 'GOVERSION'])).stdout.trim();
  const dirty = (
    await exec('git', ['-C', env.gorefDir, 'status', '--porcelain']).catch(() => ({ stdout: '?' }))
  ).stdout.trim();
  const cacheDir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'spendops-bench');
  const cached = join(cacheDir, `goref-${head}-${version}`);
  if (!dirty && head !== '?' && existsSync(cached)) return { bin: cached, setup: '' };
  const bin = join(env.tmp, 'goref-spendops');
  const t0 = Date.now();
  try {
    await exec(go, ['build', '-o', bin, './cmd/spendops'], { cwd: env.gorefDir, timeout: 300_000 });
  } catch (err) {
    throw new Error(
      `go build ./cmd/spendops failed: ${tail(String((err as { stderr?: string }).stderr ?? err), 200)}`,
    );
  }
  if (dirty || head === '?')
    return { bin, setup: `go build ${secondsSince(t0)} (dirty checkout: not cached)` };
  mkdirSync(cacheDir, { recursive: true });
  copyFileSync(bin, `${cached}.tmp`);
  chmodSync(`${cached}.tmp`, 0o755);
  renameSync(`${cached}.tmp`, cached);
  return { bin: cached, setup: `go build ${secondsSince(t0)} (cached in ${cacheDir} for the next runs)` };
}

/** The run's scratch dir; world-traversable, since the embedded PostgreSQL runs as the postgres user below it. */
export function newTmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spendops-bench-'));
  chmodSync(dir, 0o755);
  return dir;
}
