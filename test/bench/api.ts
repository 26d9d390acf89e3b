// Admin API latency at volume (issue 19: every call a dashboard page makes answers p95 < 200 ms with 1,000,000
// events; issue 15: analytics p99 < 100 ms). A real all-in-one `spendops serve` on a throwaway PostgreSQL, its
// read models seeded with `--events` usage rows straight by SQL (analytics-data.ts), then each call of each page
// timed over HTTP, one at a time, in rounds that interleave the calls (so machine noise spreads over all of them).
//
//   npm run build && node dist/test/bench/api.js [--events 1000000] [--rounds 40]
//     [--database-url postgres://...]   (a database seeded before, e.g. by test/bench/analytics.ts: reused)
//
// Prints p50/p95/p99/max per call, the server's CPU per call (the spendops process and PostgreSQL: what an idle
// machine would take), the response size, and PASS/MISS against the targets. Not a test: the
// numbers depend on the machine and its load.
import '../../apps/cli/src/aliases';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { openDataSource } from '@spendops/persistence';
import { startPostgres, type TestPostgres } from '@spendops/testing';
import { LEDGER_MIGRATIONS } from '../../apps/ledger/src';
import { startSpendOps } from '../support/spendops-process';
import { seedReadModels } from './analytics-data';
import { processCpu, processTree } from './lib/procstat';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const DAY = 86_400_000;
const P95_TARGET_MS = 200;
const ANALYTICS_P99_TARGET_MS = 100;

interface Call {
  page: string;
  name: string;
  path: string;
}

const iso = (ms: number) => new Date(ms).toISOString();
const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

/** The calls each page makes, as apps/dashboard/src/pages builds them, over the seeded data. */
function pageCalls(now: number, requestId: string): Call[] {
  const today = Math.floor(now / DAY) * DAY;
  // A whole month to date (the worst case of the overview: the last day of a 31-day month).
  const month = { from: iso(today - 30 * DAY), to: iso(today + DAY) };
  const explorer = { from: iso(today - 29 * DAY), to: iso(today + DAY) };
  const analytics = (page: string, name: string, params: Record<string, string>): Call => ({
    page,
    name,
    path: `/api/v1/analytics?${q(params)}`,
  });
  const calls: Call[] = [
    analytics('overview', 'month total', { ...month, interval: 'day', group_by: '' }),
    analytics('overview', 'today total', {
      from: iso(today),
      to: iso(today + DAY),
      interval: 'day',
      group_by: '',
    }),
    analytics('overview', 'month by provider', { ...month, interval: 'day', group_by: 'provider' }),
    analytics('overview', 'month by model', { ...month, interval: 'day', group_by: 'model' }),
    analytics('overview', 'month by dim:team', { ...month, interval: 'day', group_by: 'dim:team' }),
  ];
  for (const group of ['', 'provider', 'model', 'tenant_id', 'api_key_id', 'dim:team', 'dim:user'])
    for (const interval of ['day', 'hour']) {
      calls.push(
        analytics('explorer', `30d ${interval} by ${group || 'total'}`, {
          ...explorer,
          interval,
          group_by: group,
        }),
      );
    }
  calls.push(
    analytics('explorer', '30d hour by api_key_id,model', {
      ...explorer,
      interval: 'hour',
      group_by: 'api_key_id,model',
    }),
    analytics('explorer', '30d hour by model, tenant t3', {
      ...explorer,
      interval: 'hour',
      group_by: 'model',
      tenant_id: 't3',
    }),
    analytics('explorer', '30d hour by dim:user, tenant t3', {
      ...explorer,
      interval: 'hour',
      group_by: 'dim:user',
      tenant_id: 't3',
    }),
    {
      page: 'explorer',
      name: 'CSV export, 1 day, tenant t3',
      path: `/api/v1/events?${q({ from: iso(today - DAY), to: iso(today), tenant_id: 't3', format: 'csv' })}`,
    },
    { page: 'requests', name: 'latest 50', path: `/api/v1/events?${q({ limit: '50' })}` },
    { page: 'requests', name: 'by tenant', path: `/api/v1/events?${q({ tenant_id: 't3', limit: '50' })}` },
    {
      page: 'requests',
      name: 'by model + key',
      path: `/api/v1/events?${q({ model: 'model-7', key_id: 'k17', limit: '50' })}`,
    },
    {
      page: 'requests',
      name: 'by provider, 7 days',
      path: `/api/v1/events?${q({ provider: 'gemini', from: iso(today - 6 * DAY), to: iso(today + DAY), limit: '50' })}`,
    },
    {
      page: 'requests',
      name: 'by dim.team',
      path: `/api/v1/events?${q({ 'dim.team': 'team4', limit: '50' })}`,
    },
    {
      page: 'requests',
      name: 'by dim.user (rare)',
      path: `/api/v1/events?${q({ 'dim.user': 'u17', 'dim.env': 'dev', limit: '50' })}`,
    },
    {
      page: 'request detail',
      name: 'by request id',
      path: `/api/v1/events?${q({ request_id: requestId, limit: '1' })}`,
    },
    { page: 'denials', name: 'latest 100', path: `/api/v1/denials?${q({ limit: '100' })}` },
    { page: 'denials', name: 'by tenant', path: `/api/v1/denials?${q({ tenant_id: 't3', limit: '100' })}` },
    { page: 'keys', name: 'list', path: '/api/v1/keys' },
    { page: 'pricing', name: 'models', path: '/api/v1/pricing/models' },
    { page: 'pricing', name: 'unpriced', path: '/api/v1/pricing/unpriced' },
    { page: 'pricing', name: 'overrides', path: '/api/v1/pricing/overrides' },
  );
  return calls;
}

async function timeCall(pool: Pool, token: string, path: string): Promise<{ ms: number; bytes: number }> {
  const start = process.hrtime.bigint();
  const res = await pool.request({ method: 'GET', path, headers: { authorization: `Bearer ${token}` } });
  const body = Buffer.from(await res.body.arrayBuffer());
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${body.toString().slice(0, 300)}`);
  return { ms, bytes: body.length };
}

/** The PostgreSQL postmaster listening on `port` (its command line has `-p PORT`). */
function postmasterOf(port: string): number | null {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      const i = argv.indexOf('-p');
      if (argv[0].endsWith('postgres') && i > 0 && argv[i + 1] === port) return Number(name);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

/** CPU seconds used so far by the given processes (those that have exited count 0). */
function cpuOf(pids: number[]): number {
  let total = 0;
  for (const pid of pids)
    try {
      total += processCpu(pid);
    } catch {
      // exited
    }
  return total;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const events = arg('events', 1_000_000);
  const rounds = arg('rounds', 40);
  const urlAt = process.argv.indexOf('--database-url');
  const pg: TestPostgres =
    urlAt >= 0
      ? { url: process.argv[urlAt + 1], stop: async () => undefined, restart: async () => undefined }
      : await startPostgres();
  const token = `bench_admin_${randomBytes(16).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'spendops-api-bench-'));
  const server = await startSpendOps(['--addr', '127.0.0.1:0'], {
    DATABASE_URL: pg.url,
    SPENDOPS_DATA_DIR: dataDir,
    SPENDOPS_ADMIN_TOKEN: token,
  });
  const opened = await openDataSource({
    databaseUrl: pg.url,
    dataDir: '/nonexistent',
    migrations: LEDGER_MIGRATIONS,
    poolSize: 2,
  });
  try {
    const [{ n }] = (await opened.dataSource.query('SELECT count(*)::int AS n FROM usage_events_view')) as {
      n: number;
    }[];
    let now = Date.now();
    if (n === 0) {
      console.log(`seeding ${events.toLocaleString('en-US')} usage rows (and 1 denial per 50) by SQL ...`);
      const seed = await seedReadModels(opened.dataSource, events, undefined, (l) => console.log(l));
      console.log(
        `seeded in ${seed.seconds.toFixed(0)} s (${iso(seed.startMs)} .. ${iso(seed.endMs)}): ` +
          Object.entries(seed.tableRows)
            .map(([t, c]) => `${t} ${c.toLocaleString('en-US')}`)
            .join(', '),
      );
    } else {
      // A database seeded before (--database-url): "now" is the end of its data.
      const [last] = (await opened.dataSource.query(
        'SELECT (extract(epoch FROM max(ts)) * 1000)::bigint::text AS ms FROM usage_events_view',
      )) as { ms: string }[];
      now = Number(last.ms);
      console.log(`reusing ${n.toLocaleString('en-US')} usage rows ending ${iso(now)}`);
    }
    const calls = pageCalls(now, `bench-${Math.floor(events / 2)}`);
    const pool = new Pool(server.url, { connections: 1 });
    for (const c of calls) await timeCall(pool, token, c.path); // warm-up: plans, caches, JIT
    // Server CPU per call (the spendops process and every PostgreSQL process): unlike latency, it hardly moves
    // with the load other work puts on the machine, so it says what an idle machine would answer in.
    const postmaster = postmasterOf(new URL(pg.url).port);
    const serverPids = [server.child.pid!, ...(postmaster ? processTree(postmaster) : [])];
    const samples = calls.map(() => [] as number[]);
    const cpuMs = calls.map(() => 0);
    const bytes = calls.map(() => 0);
    for (let r = 0; r < rounds; r++)
      for (let i = 0; i < calls.length; i++) {
        const cpu0 = cpuOf(serverPids);
        const t = await timeCall(pool, token, calls[i].path);
        cpuMs[i] += ((cpuOf(serverPids) - cpu0) * 1000) / rounds;
        samples[i].push(t.ms);
        bytes[i] = t.bytes;
      }
    await pool.close();

    console.log(`\n${rounds} rounds of ${calls.length} calls, one at a time, over HTTP (ms):`);
    console.log(
      'page            call                                      p50     p95     p99     max  cpu/call     bytes  goal',
    );
    let misses = 0;
    for (let i = 0; i < calls.length; i++) {
      const s = [...samples[i]].sort((a, b) => a - b);
      const [p50, p95, p99] = [50, 95, 99].map((p) => percentile(s, p));
      const isAnalytics = calls[i].path.startsWith('/api/v1/analytics');
      const export_ = calls[i].path.includes('format=csv');
      const pass = p95 < P95_TARGET_MS && (!isAnalytics || p99 < ANALYTICS_P99_TARGET_MS);
      if (!pass && !export_) misses++;
      console.log(
        `${calls[i].page.padEnd(15)} ${calls[i].name.padEnd(40)} ${[p50, p95, p99, s[s.length - 1]]
          .map((v) => v.toFixed(1).padStart(7))
          .join(
            ' ',
          )} ${cpuMs[i].toFixed(1).padStart(9)} ${String(bytes[i]).padStart(9)}  ${export_ ? 'n/a (export)' : pass ? 'PASS' : 'MISS'}`,
      );
    }
    console.log(
      `\ntargets: every call p95 < ${P95_TARGET_MS} ms, analytics p99 < ${ANALYTICS_P99_TARGET_MS} ms over ` +
        `${events.toLocaleString('en-US')} events -> ${misses === 0 ? 'PASS' : `MISS (${misses} calls)`}`,
    );
  } finally {
    await opened.close();
    await server.stop();
    await pg.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
