// Re-pricing throughput of the ledger (a script, not a test: the numbers depend on the machine and its load).
//
//   node scripts/pricing/run-ts.js apps/ledger/bench/repricing.bench.ts [--events 5000] [--rounds 2]
//     [--pg embedded|test] [--split] [--existing 0]
//
// Target: >= 1,000 UsageRepriced events/s applied by the ledger on an all-in-one with embedded PostgreSQL, the
// aggregates then equal to a from-scratch projection.
//
// Per round: `--events` usages are recorded and projected (not timed), then as many usage.repriced.v1 messages
// are published on an in-process bus the way pricing's run publishes them (one per changed event, back to back)
// to the ledger's real LedgerRepricingConsumer, while the real ProjectionRunner projects every ledger projection
// (usage view + aggregates, budgets, denials, outbox) live. Timed: until every UsageRepriced is appended, and
// until every projection has handled them. Then the aggregate tables are compared with a rebuild of the usage
// projection. `--pg embedded` (default) is the all-in-one's own server (fsync on, default settings); `--pg test`
// the throwaway test server (fsync off). `--split`: the projections run only after the last append, one at a
// time, each timed (where the time goes). `--existing M`: M more usages recorded and projected first (not
// timed, never re-priced), so the re-pricings run against tables of a real month's size.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topics, type CostFields, type UsageRepricedV1 } from '@spendops/contracts';
import { EventStore, ProjectionRunner } from '@spendops/event-store';
import { InProcessBus } from '@spendops/messaging';
import { openDataSource, type OpenedDataSource } from '@spendops/persistence';
import { pricedUsage, startPostgres, type TestPostgres } from '@spendops/testing';
import type { DataSource } from 'typeorm';
import { LEDGER_MIGRATIONS, LedgerEventTypes, LedgerService, deterministicEventId } from '../src';
import { ledgerProjections } from '../src/ledger-projections';
import { AGGREGATE_TABLE_NAMES } from '../src/projections/usage-aggregates.sql';
import { LedgerRepricingConsumer } from '../src/repricing.consumer';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const TARGET = 1000;
const BASE = Date.UTC(2030, 0, 1);
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4-5', 'gemini-2.5-pro'];

function costOf(usd: string): CostFields {
  return {
    provider_cost: null,
    calculated_cost: usd,
    total_cost_usd: usd,
    cost_source: 'standard',
    pricing_matched: true,
    pricing_model: 'gpt-4o',
    pricing_version: 'bench',
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function count(ds: DataSource, sql: string, params: unknown[]): Promise<number> {
  const [row] = await ds.query(sql, params);
  return Number(row.n);
}

/** Polls `probe` until it reaches `want`; the time it took, in ms (a bench measures; a spec would not). */
async function timeUntil(probe: () => Promise<number>, want: number, t0: number): Promise<number> {
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    if ((await probe()) >= want) return performance.now() - t0;
    if (Date.now() > deadline) throw new Error('no progress for 30 minutes');
    await sleep(20);
  }
}

/** Rows of the aggregate tables that differ (by value: numeric scale aside) from their copies in bench_snap_*. */
async function snapshot(ds: DataSource): Promise<void> {
  for (const t of AGGREGATE_TABLE_NAMES) {
    await ds.query(`DROP TABLE IF EXISTS bench_snap_${t}`);
    await ds.query(`CREATE TABLE bench_snap_${t} AS SELECT * FROM ${t}`);
  }
}

async function differingRows(ds: DataSource): Promise<number> {
  let n = 0;
  for (const t of AGGREGATE_TABLE_NAMES) {
    n += await count(
      ds,
      `SELECT count(*) AS n FROM ((SELECT * FROM ${t} EXCEPT SELECT * FROM bench_snap_${t})
         UNION ALL (SELECT * FROM bench_snap_${t} EXCEPT SELECT * FROM ${t})) d`,
      [],
    );
    await ds.query(`DROP TABLE bench_snap_${t}`);
  }
  return n;
}

interface Round {
  appendMs: number;
  projectedMs: number;
  appendedPerS: number;
  appliedPerS: number;
  equalToRebuild: boolean;
  perProjectionMs?: Record<string, number>;
}

/** `m` usages over 30 days in the store and every projection: the month the re-pricings run against. */
async function existing(m: number, ds: DataSource): Promise<void> {
  if (m <= 0) return;
  const store = new EventStore(ds);
  const t0 = performance.now();
  for (let i = 0; i < m; i += 500) {
    const events = Array.from({ length: Math.min(500, m - i) }, (_, j) => {
      const k = i + j;
      const data = pricedUsage({
        request_id: `bg-${k}`,
        tenant_id: `t${k % 10}`,
        api_key_id: `k${k % 50}`,
        dims: { team: `team${k % 10}` },
        request_model: MODELS[k % 4],
        started_at_ms: BASE - 30 * 86_400_000 + Math.floor((k * 30 * 86_400_000) / m),
        origin: 'proxy',
        usage: { prompt_tokens: 1000, completion_tokens: 200, total_tokens: 1200, model: MODELS[k % 4] },
        cost: costOf('0.001'),
      });
      return {
        event_id: deterministicEventId(LedgerEventTypes.usageRecorded, data.request_id),
        stream_id: data.request_id,
        type: LedgerEventTypes.usageRecorded,
        data,
      };
    });
    await store.append(events);
  }
  const runner = new ProjectionRunner(ds, store, {});
  for (const p of ledgerProjections(new InProcessBus(), store)) runner.register(p);
  await runner.catchUp();
  await ds.query('VACUUM ANALYZE');
  console.log(
    `${m} existing usages recorded and projected in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
}

async function round(r: number, n: number, ds: DataSource): Promise<Round> {
  const store = new EventStore(ds);
  const ledger = new LedgerService(store, ds);
  const bus = new InProcessBus();
  const runner = new ProjectionRunner(ds, store, { pollMs: 50 });
  for (const p of ledgerProjections(bus, store)) runner.register(p);
  const prefix = `r${r}`;
  // Recorded and projected first (not timed): what a month of traffic left in the store.
  for (let i = 0; i < n; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, n - i) }, (_, j) =>
        ledger.recordUsage(
          pricedUsage({
            request_id: `${prefix}-${i + j}`,
            tenant_id: `t${(i + j) % 10}`,
            api_key_id: `k${(i + j) % 50}`,
            dims: { team: `team${(i + j) % 10}` },
            request_model: MODELS[(i + j) % 4],
            started_at_ms: BASE + r * 86_400_000 + (i + j) * 1000,
            origin: 'proxy',
            usage: {
              prompt_tokens: 1000,
              completion_tokens: 200,
              total_tokens: 1200,
              model: MODELS[(i + j) % 4],
            },
            cost: costOf('0.001'),
          }),
        ),
      ),
    );
  }
  await runner.catchUp();

  await new LedgerRepricingConsumer(bus, ledger).onApplicationBootstrap();
  // --split: the projections wait until every event is appended, then catch up one by one (timed each).
  const split = process.argv.includes('--split');
  if (!split) await runner.start();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const msg: UsageRepricedV1 = {
      request_id: `${prefix}-${i}`,
      previous: costOf('0.001'),
      cost: costOf(`0.00${(i % 9) + 1}5`),
      reason: `bench (run ${r})`,
      actor: 'bench',
      run_id: String(r),
      catalog_version: 'bench',
      overrides_version: 1,
    };
    await bus.publish(Topics.usageRepriced, msg, { messageId: `reprice:${r}:${msg.request_id}` });
  }
  const appended = () =>
    count(ds, `SELECT count(*) AS n FROM events WHERE type = $1 AND stream_id LIKE $2`, [
      LedgerEventTypes.usageRepriced,
      `${prefix}-%`,
    ]);
  const appendMs = await timeUntil(appended, n, t0);
  const projected = async () => {
    const lag = await runner.lag();
    return Object.values(lag).every((v) => v === 0) ? n : 0;
  };
  const perProjection: Record<string, number> = {};
  if (split) {
    for (const name of runner.names()) {
      const t = performance.now();
      await runner.catchUpOne(name);
      perProjection[name] = Math.round(performance.now() - t);
    }
  }
  const projectedMs = await timeUntil(projected, n, t0);
  await runner.stop();
  await bus.close();

  await snapshot(ds);
  const rebuildRunner = new ProjectionRunner(ds, store, {});
  for (const p of ledgerProjections(null, store))
    if (p.name === 'usage_events_view') rebuildRunner.register(p);
  await rebuildRunner.rebuild('usage_events_view');
  const equal = (await differingRows(ds)) === 0;
  return {
    appendMs: Math.round(appendMs),
    projectedMs: Math.round(projectedMs),
    appendedPerS: Math.round((n * 1000) / appendMs),
    appliedPerS: Math.round((n * 1000) / projectedMs),
    equalToRebuild: equal,
    ...(split ? { perProjectionMs: perProjection } : {}),
  };
}

async function main(): Promise<void> {
  const n = Number(arg('events', '5000'));
  const rounds = Number(arg('rounds', '2'));
  const pgKind = arg('pg', 'embedded');
  let test: TestPostgres | null = null;
  const dataDir = await mkdtemp(join(tmpdir(), 'spendops-reprice-bench-'));
  let opened: OpenedDataSource | null = null;
  try {
    if (pgKind === 'test') test = await startPostgres();
    opened = await openDataSource({
      databaseUrl: test?.url,
      dataDir,
      migrations: LEDGER_MIGRATIONS,
    });
    await existing(Number(arg('existing', '0')), opened.dataSource);
    const results: Round[] = [];
    for (let r = 0; r < rounds; r++) {
      const res = await round(r, n, opened.dataSource);
      results.push(res);
      console.log(`round ${r + 1}: ${JSON.stringify(res)}`);
    }
    const applied = results.map((x) => x.appliedPerS).sort((a, b) => a - b);
    console.log(
      `\n${n} UsageRepriced per round, ${pgKind} PostgreSQL: applied (appended + projected) ` +
        `min ${applied[0]} / median ${applied[Math.floor(applied.length / 2)]} events/s ` +
        `(target ${TARGET}); aggregates equal to a rebuild: ${results.every((x) => x.equalToRebuild)}`,
    );
  } finally {
    await opened?.close();
    await test?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
