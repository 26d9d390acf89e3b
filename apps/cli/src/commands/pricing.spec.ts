// `spendops pricing ...` and re-pricing end to end on a real PostgreSQL server with the real ledger: events
// stored unpriced, re-priced from the CLI and by the pricing service over the real in-process bus, each change
// a `UsageRepriced` event the events view reflects. Port of the reference's cli_test.go.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import type { CostFields, UsagePricedV1 } from '@spendops/contracts';
import { EventStore, ProjectionRunner } from '@spendops/event-store';
import { InProcessBus } from '@spendops/messaging';
import { pricedUsage, startTestDatabase, type TestDatabase } from '@spendops/testing';
import { LEDGER_MIGRATIONS } from '../../../ledger/src/ledger.module';
import { LedgerService } from '../../../ledger/src/ledger.service';
import { UsageEventsProjection } from '../../../ledger/src/projections/usage-events.projection';
import { LedgerRepricingConsumer } from '../../../ledger/src/repricing.consumer';
import {
  PRICING_MIGRATIONS,
  PostgresCatalogStore,
  PostgresOverrideStore,
  PostgresRepriceRuns,
  PricingEngine,
  PricingService,
  RepricingService,
  UnpricedTracker,
  UsageViewRepriceSource,
  loadBuiltinCatalog,
} from '../../../pricing/src';
import { defaultRefDir } from '../../../pricing/src/catalog/generate';
import { registerPricingCommands } from './pricing';

jest.setTimeout(30_000);

const AUG_2026 = Date.UTC(2026, 7, 1, 12);
const LITELLM = join(defaultRefDir(), 'litellm', 'model_prices_and_context_window.json');
const UNPRICED: CostFields = {
  provider_cost: null,
  calculated_cost: null,
  total_cost_usd: null,
  cost_source: 'none',
  pricing_matched: false,
  pricing_model: '',
  pricing_version: 'old',
};

function stored(
  id: string,
  provider: string,
  model: string,
  prompt: number,
  cost: CostFields,
): UsagePricedV1 {
  return pricedUsage({
    request_id: id,
    provider,
    request_model: model,
    started_at_ms: AUG_2026,
    first_byte_at_ms: AUG_2026 + 100,
    ended_at_ms: AUG_2026 + 200,
    usage: { prompt_tokens: prompt, total_tokens: prompt },
    cost,
  });
}

describe('spendops pricing', () => {
  let db: TestDatabase;
  let ledger: LedgerService;
  let runner: ProjectionRunner;
  const savedUrl = process.env.DATABASE_URL;

  async function cli(...args: string[]): Promise<string> {
    let out = '';
    const program = new Command('spendops').exitOverride().configureOutput({ writeErr: () => undefined });
    registerPricingCommands(program, { out: (t) => (out += t) });
    await program.parseAsync(['pricing', ...args, '--data-dir', db.dataDir], { from: 'user' });
    return out;
  }

  const view = async (id: string) =>
    (
      await db.dataSource.query(
        'SELECT total_cost_usd::text AS total, cost_source, pricing_version FROM usage_events_view WHERE request_id = $1',
        [id],
      )
    )[0] as { total: string | null; cost_source: string; pricing_version: string };

  beforeAll(async () => {
    db = await startTestDatabase([...PRICING_MIGRATIONS, ...LEDGER_MIGRATIONS]);
    process.env.DATABASE_URL = db.pg.url;
    const events = new EventStore(db.dataSource);
    ledger = new LedgerService(events, db.dataSource);
    runner = new ProjectionRunner(db.dataSource, events, { pollMs: 60_000 });
    runner.register(new UsageEventsProjection());
    const engine = new PricingEngine(loadBuiltinCatalog());
    const s1 = stored('s1', 'openai', 'gpt-4o', 1_000_000, UNPRICED);
    s1.cost = engine.price(s1, s1.usage); // priced by the catalog in force
    for (const e of [
      stored('u1', 'openai', 'gpt-new-1', 1_000_000, UNPRICED),
      stored('q1', 'deepseek', 'deepseek-chat', 1_000_000, UNPRICED), // stored when no price applied
      s1,
    ])
      await ledger.recordUsage(e);
    await runner.catchUpOne('usage_events_view');
  }, 60_000);

  afterAll(async () => {
    if (savedUrl === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = savedUrl;
    await db?.close();
  });

  it('list and show the prices in force', async () => {
    const list = await cli('list', '--provider', 'anthropic');
    expect(list).toMatch(/^catalog builtin-\w+\+ov0 \(\d+ models\)/);
    expect(list).toMatch(/claude-sonnet-4-5 .*\$\$\$/);
    const json = JSON.parse(await cli('show', 'gpt-4o-2024-08-06', '--provider', 'openai', '--json'));
    expect(json.models[0]).toMatchObject({ provider: 'openai', model: 'gpt-4o' });
    const text = await cli('show', 'gpt-4o');
    expect(text).toContain('openai/gpt-4o');
    expect(text).toMatch(/ input \d/);
    await expect(cli('show', 'no-such-model-anywhere')).rejects.toThrow(/no price for model/);
  });

  it('reprice --unpriced prices what the catalog now knows, as UsageRepriced events the view reflects', async () => {
    const out = await cli('reprice', '--unpriced');
    expect(out).toMatch(/^re-priced 1 of 2 events with builtin-\w+\+ov0 \(run \d+\): total 0 → 0\.\d+ USD/);
    const q1 = await view('q1');
    expect(q1.cost_source).toBe('standard');
    expect(Number(q1.total)).toBeGreaterThan(0);
    const history = await ledger.costHistory('q1');
    expect(history.map((h) => [h.cost.cost_source, h.actor])).toEqual([
      ['none', null],
      ['standard', 'cli'],
    ]);
    expect(history[1].reason).toMatch(/^cli reprice \(run \d+\)$/);
    expect((await view('u1')).cost_source).toBe('none');
    // the durable unpriced list comes from the read model
    const unpriced = await new UsageViewRepriceSource(db.dataSource).unpricedModels();
    expect(unpriced).toEqual([
      {
        provider: 'openai',
        model: 'gpt-new-1',
        events: 1,
        cost_known: 0,
        first_seen: new Date(AUG_2026).toISOString(),
        last_seen: new Date(AUG_2026).toISOString(),
      },
    ]);
  });

  it('an override added through the pricing service re-prices the unpriced event over the bus', async () => {
    const bus = new InProcessBus();
    await new LedgerRepricingConsumer(bus, ledger).onApplicationBootstrap();
    const catalogs = new PostgresCatalogStore(db.dataSource);
    const engine = new PricingEngine(await catalogs.current());
    const source = new UsageViewRepriceSource(db.dataSource);
    const svc = new PricingService(
      engine,
      new UnpricedTracker(),
      new PostgresOverrideStore(db.dataSource),
      { overridesReloadMs: 0 },
      catalogs,
      source,
      new RepricingService(engine, source, new PostgresRepriceRuns(db.dataSource), bus),
    );
    await svc.onModuleInit();
    expect((await svc.listUnpriced()).source).toBe('read_model');
    const res = await svc.addOverride({
      tenant_id: 'acme',
      model: 'gpt-new-*',
      rates: { input: '1.5' },
      actor: 'api:alice',
    });
    expect(res.repriced).toMatchObject({ examined: 1, changed: 1, after_usd: '1.5', overrides_version: 1 });
    for (let i = 0; i < 300 && (await ledger.costHistory('u1')).length < 2; i++)
      await new Promise((r) => setTimeout(r, 10));
    await bus.close();
    await runner.catchUpOne('usage_events_view');
    expect(await view('u1')).toEqual({
      total: '1.5',
      cost_source: 'custom',
      pricing_version: `${engine.catalog.version}+ov1`,
    });
    expect((await ledger.costHistory('u1'))[1]).toMatchObject({ actor: 'api:alice' });
    expect((await svc.listUnpriced()).models).toEqual([]);
    const runs: { trigger: string; actor: string; changed: number; after_usd: string }[] =
      await db.dataSource.query(
        'SELECT trigger, actor, changed, after_usd::text FROM pricing_reprice_runs ORDER BY id',
      );
    expect(runs.map((r) => [r.trigger, r.actor, r.changed, r.after_usd])).toEqual([
      ['cli reprice', 'cli', 1, expect.any(String)],
      ['override 1 added', 'api:alice', 1, '1.5'],
    ]);
    svc.onModuleDestroy();
  });

  it('reprice of a range examines every event in it; nothing changed, nothing appended', async () => {
    const out = await cli('reprice', '--from', '2026-07-01T00:00:00Z', '--to', '2026-09-01T00:00:00Z');
    expect(out).toMatch(/^re-priced 0 of 3 events/);
    const model = JSON.parse(
      await cli(
        'reprice',
        '--from',
        '2026-07-01T00:00:00Z',
        '--to',
        '2026-09-01T00:00:00Z',
        '--model',
        'gpt-4o',
        '--json',
      ),
    );
    expect(model).toMatchObject({ examined: 1, changed: 0 });
    await expect(cli('reprice')).rejects.toThrow(/from and to are required/);
    await expect(cli('reprice', '--from', 'soon', '--to', '2026-09-01T00:00:00Z')).rejects.toThrow(
      /RFC 3339/,
    );
  });

  (existsSync(LITELLM) ? it : it.skip)(
    'import shows the diff and stores an active version; versions, diff and activate read it back',
    async () => {
      const dry = await cli('import', '--format', 'litellm', LITELLM, '--dry-run');
      expect(dry).toContain('changed  deepseek/deepseek-chat input: 0.135 → 0.28');
      expect(dry).toContain('dry run: nothing stored');
      expect(await cli('versions')).not.toContain('import:litellm');
      const out = await cli('import', '--format', 'litellm', LITELLM);
      expect(out).toMatch(/stored and activated v1-[0-9a-f]{12}/);
      const version = /stored and activated (v1-[0-9a-f]{12})/.exec(out)![1];
      expect(out).toMatch(new RegExp(`^pricing diff builtin-\\w+ → ${version}:`));
      const versions = await cli('versions');
      expect(versions).toMatch(new RegExp(`${version}  import:litellm  .* by cli  active`));
      expect(await cli('diff')).toContain('deepseek/deepseek-chat input');
      expect(await cli('diff', version, version)).toMatch(/0 models added, 0 removed, 0 prices changed\n$/);
      const audit: { action: string; version: string; actor: string; added: number }[] =
        await db.dataSource.query(
          'SELECT action, version, actor, added FROM pricing_catalog_audit ORDER BY id',
        );
      expect(audit).toEqual([{ action: 'import', version, actor: 'cli', added: expect.any(Number) }]);
      expect(audit[0].added).toBeGreaterThan(0);
      expect(await cli('activate', 'builtin')).toMatch(/^activated builtin-/);
      const after = (await cli('versions')).split('\n');
      expect(after[0]).toMatch(/^builtin .* {2}active$/);
      expect(after[1]).toMatch(new RegExp(`^${version} .* by cli$`));
      await expect(cli('activate', 'v7-missing')).rejects.toThrow(/no catalog version "v7-missing"/);
      await expect(cli('import', '--format', 'csv', LITELLM)).rejects.toThrow(/csv/);
      const bad = join(db.dataDir, 'bad.json');
      await writeFile(bad, '{ not json');
      await expect(cli('import', '--format', 'litellm', bad)).rejects.toThrow();
    },
  );
});
