// `spendops projections status|rebuild` against a real PostgreSQL that a "server" (a live ProjectionRunner with
// the ledger's projections and a writer appending usage) is using at the same time.
import { Command } from 'commander';
import type { DataSource } from 'typeorm';
import type { UsagePricedV1 } from '@spendops/contracts';
import { EventStore, ProjectionRunner, type ProjectionStatus } from '@spendops/event-store';
import { InProcessBus } from '@spendops/messaging';
import { pricedUsage, startTestDatabase, type TestDatabase } from '@spendops/testing';
import {
  BUDGETS_PROJECTION,
  LEDGER_MIGRATIONS,
  LEDGER_PROJECTIONS,
  LedgerService,
  ledgerProjections,
} from '../../../ledger/src';
import { registerProjectionsCommands, statusTable } from './projections';

jest.setTimeout(30_000);

function priced(id: string, i: number): UsagePricedV1 {
  const cost = `0.00000${i % 10}`;
  return pricedUsage({
    request_id: id,
    tenant_id: 'default',
    api_key_id: `k${i % 3}`,
    dims: { team: i % 2 ? 'a' : 'b' },
    started_at_ms: Date.UTC(2031, 0, 1) + i * 60_000,
    first_byte_at_ms: 0,
    ended_at_ms: 0,
    usage: { prompt_tokens: i, completion_tokens: 2, total_tokens: i + 2 },
    cost: { calculated_cost: cost, total_cost_usd: cost, pricing_version: 'v1' },
  });
}

let server: TestDatabase;
let ds: DataSource;
let ledger: LedgerService;
let runner: ProjectionRunner;
const savedUrl = process.env.DATABASE_URL;

/** Runs the CLI as `spendops projections ...`; returns stdout. */
async function cli(...args: string[]): Promise<string> {
  const program = new Command('spendops').exitOverride();
  registerProjectionsCommands(program);
  let out = '';
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  try {
    await program.parseAsync(['projections', ...args, '--data-dir', server.dataDir], { from: 'user' });
  } finally {
    write.mockRestore();
  }
  return out;
}

async function statuses(): Promise<Record<string, ProjectionStatus>> {
  const parsed = JSON.parse(await cli('status', '--json')) as { projections: ProjectionStatus[] };
  return Object.fromEntries(parsed.projections.map((p) => [p.name, p]));
}

beforeAll(async () => {
  server = await startTestDatabase(LEDGER_MIGRATIONS);
  process.env.DATABASE_URL = server.pg.url;
  ds = server.dataSource;
  const store = new EventStore(ds);
  ledger = new LedgerService(store, ds);
  runner = new ProjectionRunner(ds, store, { pollMs: 20 });
  for (const p of ledgerProjections(new InProcessBus(), store)) runner.register(p);
});

afterAll(async () => {
  await runner?.stop();
  await server?.close();
  if (savedUrl === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = savedUrl;
});

describe('spendops projections status', () => {
  it('shows checkpoint, lag and heartbeat of every ledger projection', async () => {
    for (let i = 0; i < 30; i++) await ledger.recordUsage(priced(`s-${i}`, i));
    await runner.catchUp();
    let s = await statuses();
    expect(Object.keys(s)).toEqual([
      BUDGETS_PROJECTION,
      LEDGER_PROJECTIONS.usageEvents,
      LEDGER_PROJECTIONS.denials,
      LEDGER_PROJECTIONS.outbox,
    ]);
    const [last] = await ds.query(
      `SELECT transaction_id::text AS transaction_id, global_position::text AS global_position
       FROM events e ORDER BY e.global_position DESC LIMIT 1`,
    );
    expect(s.usage_events_view).toMatchObject({ lag: 0, checkpoint: last, rebuildable: true });
    expect(s.usage_recorded_outbox).toMatchObject({ lag: 0, checkpoint: last, rebuildable: false });
    // No denial yet: the denials projection never moved, but its runner passed.
    expect(s.denials_view).toMatchObject({
      lag: 0,
      checkpoint: { transaction_id: '0', global_position: '0' },
      updated_at: null,
    });
    for (const p of Object.values(s))
      expect(Date.parse(p.heartbeat_at!)).toBeGreaterThan(Date.now() - 10_000);

    // With the runner stopped, new events show up as lag (per projection's event types).
    for (let i = 30; i < 35; i++) await ledger.recordUsage(priced(`s-${i}`, i));
    await ledger.recordDenial({
      request_id: 'deny-s',
      ts: '2031-01-01T00:00:00.000Z',
      type: 'invalid_key',
      reason: 'Invalid API key',
      http_status: 401,
      tenant_id: '',
      api_key_id: '',
      provider: 'openai',
      path: '/v1/openai/chat/completions',
      dims: {},
    });
    s = await statuses();
    expect([s.usage_events_view.lag, s.denials_view.lag, s.usage_recorded_outbox.lag]).toEqual([5, 1, 5]);

    const text = await cli('status');
    expect(text.split('\n')[0]).toMatch(
      /^PROJECTION\s+CHECKPOINT\s+LAG\s+UPDATED\s+HEARTBEAT\s+REBUILDABLE$/,
    );
    expect(text).toMatch(/^usage_events_view\s+\d+\/\d+\s+5\s/m);
    expect(text).toMatch(/^usage_recorded_outbox\s.*\sno$/m);
  });

  it('formats a projection that never ran', () => {
    const text = statusTable(
      [
        {
          name: 'x',
          checkpoint: { transaction_id: '0', global_position: '0' },
          lag: 3,
          updated_at: null,
          heartbeat_at: null,
          rebuildable: true,
        },
      ],
      new Date(),
    );
    expect(text.split('\n')[1]).toBe('x           0/0         3    -        -          yes');
  });
});

describe('spendops projections rebuild', () => {
  it('rebuilds from position zero while the server projects and ingestion goes on', async () => {
    await runner.start();
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing || written < 300) {
        await ledger.recordUsage(priced(`w-${written}`, written));
        written++;
      }
    })();
    try {
      // Let the live runner get going, then rebuild twice (all, then one by name) while the writer appends.
      while (written < 100) await new Promise((r) => setTimeout(r, 5));
      const all = JSON.parse(await cli('rebuild', '--json')) as {
        rebuilt: { name: string; events: number }[];
      };
      expect(all.rebuilt.map((r) => r.name)).toEqual([
        BUDGETS_PROJECTION,
        LEDGER_PROJECTIONS.usageEvents,
        LEDGER_PROJECTIONS.denials,
      ]);
      expect(all.rebuilt[1].events).toBeGreaterThanOrEqual(135);
      expect(all.rebuilt[2].events).toBe(1);
      expect(await cli('rebuild', LEDGER_PROJECTIONS.usageEvents)).toMatch(
        /^Rebuilt usage_events_view: \d+ events in \d+\.\d\ds\.\n$/,
      );
    } finally {
      writing = false;
      await writer;
    }

    // Every stored usage is in the view exactly once, and the aggregates sum the view.
    let s: Record<string, ProjectionStatus> = {};
    for (let i = 0; i < 200; i++) {
      s = await statuses();
      if (s.usage_events_view.lag === 0 && s.usage_recorded_outbox.lag === 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(s.usage_events_view.lag).toBe(0);
    const [check] = await ds.query(`
      SELECT (SELECT count(*) FROM events WHERE type = 'UsageRecorded')::int AS stored,
             (SELECT count(*) FROM usage_events_view)::int AS viewed,
             (SELECT count(DISTINCT request_id) FROM usage_events_view)::int AS distinct_viewed,
             (SELECT sum(requests) FROM usage_aggregates WHERE bucket = 'day')::int AS day_requests,
             (SELECT sum(requests) FROM usage_aggregates WHERE bucket = 'hour')::int AS hour_requests,
             (SELECT sum(total_tokens) FROM usage_events_view)::text AS tokens,
             (SELECT sum(total_tokens) FROM usage_aggregates WHERE bucket = 'day')::text AS day_tokens,
             (SELECT sum(cost_usd) FROM usage_aggregates WHERE bucket = 'hour')::text AS hour_cost,
             (SELECT sum(total_cost_usd) FROM usage_events_view)::text AS cost,
             (SELECT count(*) FROM denials_view)::int AS denials`);
    expect(check.stored).toBe(35 + written);
    expect(check).toMatchObject({
      viewed: check.stored,
      distinct_viewed: check.stored,
      day_requests: check.stored,
      hour_requests: check.stored,
      day_tokens: check.tokens,
      hour_cost: check.cost,
      denials: 1,
    });
    await runner.stop();
  });

  it('refuses the outbox and unknown names', async () => {
    await expect(cli('rebuild', LEDGER_PROJECTIONS.outbox)).rejects.toThrow(/cannot be rebuilt/);
    await expect(cli('rebuild', 'nope')).rejects.toThrow(
      'unknown projection nope (known: budgets, usage_events_view, denials_view, usage_recorded_outbox)',
    );
  });
});
