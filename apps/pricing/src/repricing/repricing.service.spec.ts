// Port of store_test.go's TestUnpricedThenOverrideReprices: re-pricing over the real in-process bus, with a fake
// ledger that stores events and applies `usage.repriced.v1` as the ledger does (the real ledger and read model
// are exercised end to end in apps/cli/src/commands/pricing.spec.ts).
import {
  Topics,
  type PricingRepriceResponse,
  type UnpricedModelView,
  type UsageRepricedV1,
} from '@spendops/contracts';
import { InProcessBus } from '@spendops/messaging';
import { importCatalog } from '../catalog-store/catalog-import';
import { InMemoryCatalogStore } from '../catalog-store/catalog-store';
import { loadBuiltinCatalog } from '../catalog/load';
import { PricingEngine } from '../engine/pricing-engine';
import { InMemoryOverrideStore } from '../overrides/override-store';
import { PricingCommandError } from '../pricing-command.error';
import { PricingService } from '../pricing.service';
import { AUG_2026, extractedEvent } from '../testing/usage-builder';
import { UnpricedTracker } from '../unpriced/unpriced-tracker';
import type { RepriceEventSource, RepriceSelection, StoredUsage } from './reprice-source';
import { InMemoryRepriceRuns, REPRICE_STALE_MS } from './reprice-runs';
import { RepricingService, costChanged } from './repricing.service';

/** Stored events, and the ledger's handling of usage.repriced.v1 (the new cost becomes current). */
class FakeLedger implements RepriceEventSource {
  readonly events = new Map<string, StoredUsage>();
  readonly received: UsageRepricedV1[] = [];

  async available(): Promise<boolean> {
    return true;
  }

  async *pages(sel: RepriceSelection): AsyncIterable<StoredUsage[]> {
    const all = [...this.events.values()].filter(
      (e) =>
        (!sel.unpricedOnly || e.cost.cost_source === 'none') &&
        (!sel.from || e.meta.started_at_ms >= sel.from.getTime()) &&
        (!sel.to || e.meta.started_at_ms < sel.to.getTime()) &&
        (!sel.model || e.usage.model === sel.model || e.usage.response_model === sel.model) &&
        (!sel.provider || e.meta.provider === sel.provider),
    );
    for (let i = 0; i < all.length; i += 2) yield all.slice(i, i + 2); // pages of two
  }

  async unpricedModels(): Promise<UnpricedModelView[]> {
    return [];
  }

  apply(m: UsageRepricedV1): void {
    this.received.push(m);
    const e = this.events.get(m.request_id)!;
    e.cost = m.cost;
  }
}

describe('RepricingService', () => {
  let bus: InProcessBus;
  let ledger: FakeLedger;
  let engine: PricingEngine;
  let pricing: PricingService;
  let runs: InMemoryRepriceRuns;

  const settle = async (n: number) => {
    for (let i = 0; i < 200 && ledger.received.length < n; i++) await new Promise((r) => setTimeout(r, 5));
  };

  beforeEach(async () => {
    bus = new InProcessBus();
    ledger = new FakeLedger();
    await bus.subscribe<UsageRepricedV1>('ledger.repricing', [Topics.usageRepriced], async (m) =>
      ledger.apply(m),
    );
    engine = new PricingEngine(loadBuiltinCatalog());
    runs = new InMemoryRepriceRuns();
    const repricing = new RepricingService(engine, ledger, runs, bus);
    pricing = new PricingService(
      engine,
      new UnpricedTracker(),
      new InMemoryOverrideStore(),
      { overridesReloadMs: 0 },
      new InMemoryCatalogStore(),
      ledger,
      repricing,
    );
    await pricing.onModuleInit();
    const store = (id: string, model: string, prompt: number, completion: number) => {
      const ev = extractedEvent(
        'openai',
        model,
        { prompt_tokens: prompt, completion_tokens: completion },
        {},
        { request_id: id, tenant_id: 'acme' },
      );
      const cost = engine.price(ev, ev.usage);
      ledger.events.set(id, { request_id: id, meta: ev, usage: ev.usage, cost });
    };
    store('r1', 'gpt-new-1', 1000, 100);
    store('r2', 'gpt-new-1', 2000, 0);
    store('r3', 'gpt-4o', 1000, 0);
  });

  afterEach(async () => {
    pricing.onModuleDestroy();
    await bus.close();
  });

  it('an override prices the unpriced events as usage.repriced.v1, with the audit fields; a rerun changes nothing', async () => {
    expect(ledger.events.get('r1')!.cost).toMatchObject({
      total_cost_usd: null,
      cost_source: 'none',
      pricing_matched: false,
    });
    const res = await pricing.addOverride({
      tenant_id: 'acme',
      provider: 'openai',
      model: 'gpt-new-*',
      rates: { input: '1', output: '4' },
      actor: 'api:alice',
    });
    // r1: 1000 × 1 + 100 × 4 per 1M = 0.0014; r2: 2000 × 1 = 0.002
    expect(res.repriced).toEqual<PricingRepriceResponse>({
      run_id: '1',
      examined: 2,
      changed: 2,
      before_usd: '0',
      after_usd: '0.0034',
      catalog_version: engine.catalog.version,
      overrides_version: 1,
    });
    await settle(2);
    const [a] = ledger.received;
    expect(a).toEqual<UsageRepricedV1>({
      request_id: 'r1',
      previous: expect.objectContaining({ total_cost_usd: null, cost_source: 'none' }),
      cost: expect.objectContaining({
        total_cost_usd: '0.0014',
        cost_source: 'custom',
        pricing_matched: true,
        pricing_version: `${engine.catalog.version}+ov1`,
      }),
      reason: 'override 1 added (run 1)',
      actor: 'api:alice',
      run_id: '1',
      catalog_version: engine.catalog.version,
      overrides_version: 1,
    });
    expect(ledger.events.get('r3')!.cost.cost_source).toBe('standard'); // never selected
    expect(runs.runs[0]).toMatchObject({
      trigger: 'override 1 added',
      actor: 'api:alice',
      selection: { unpriced_only: true },
      examined: 2,
      changed: 2,
      afterUsd: '0.0034',
    });
    // Running again changes nothing (the events are priced now).
    const again = await pricing.repricing.reprice({ unpriced_only: true, actor: 'cli' });
    expect(again).toMatchObject({ examined: 0, changed: 0 });
  });

  it('after the override is deleted, a range re-pricing of the model returns them to unknown (null, never $0)', async () => {
    const added = await pricing.addOverride({ tenant_id: 'acme', model: 'gpt-new-*', rates: { input: '1' } });
    await settle(2);
    const del = await pricing.deleteOverride({ id: added.overrides[0].id, actor: 'cli' });
    expect(del.version).toBe(2);
    await expect(pricing.deleteOverride({ id: added.overrides[0].id })).rejects.toThrow(PricingCommandError);
    const res = await pricing.repricing.reprice({
      from: new Date(AUG_2026 - 3_600_000).toISOString(),
      to: new Date(AUG_2026 + 3_600_000).toISOString(),
      model: 'gpt-new-1',
      actor: 'cli',
    });
    expect(res).toMatchObject({ examined: 2, changed: 2, before_usd: '0.003', after_usd: '0' });
    await settle(4);
    expect(ledger.events.get('r2')!.cost).toMatchObject({ total_cost_usd: null, cost_source: 'none' });
    expect(ledger.received.filter((m) => m.request_id === 'r2')).toHaveLength(2);
  });

  it('a range re-pricing examines every event in it and changes only those whose cost changed', async () => {
    const res = await pricing.repricing.reprice({
      from: '2026-07-01T00:00:00Z',
      to: '2026-09-01T00:00:00Z',
      actor: 'cli',
    });
    expect(res).toMatchObject({ examined: 3, changed: 0 });
    const outside = await pricing.repricing.reprice({
      from: '2026-09-01T00:00:00Z',
      to: '2026-10-01T00:00:00+02:00',
      actor: 'cli',
    });
    expect(outside.examined).toBe(0);
  });

  it.each([
    [{}, /from and to are required/],
    [{ from: '2026-07-01T00:00:00Z' }, /from and to are required/],
    [{ from: 'yesterday', to: '2026-09-01T00:00:00Z' }, /from must be an RFC 3339 time/],
    [{ from: '2026-07-01T00:00:00Z', to: '2026-09-01' }, /to must be an RFC 3339 time/],
    [{ from: '2026-09-01T00:00:00Z', to: '2026-07-01T00:00:00Z' }, /from must be before to/],
    [{ unpriced_only: true, model: 7 }, /model must be a string/],
  ])('refuses %j', async (req, why) => {
    const err = await pricing.repricing.reprice(req as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PricingCommandError);
    expect((err as PricingCommandError).status).toBe(400);
    expect((err as Error).message).toMatch(why);
    expect(runs.runs).toHaveLength(0);
  });

  it('an automatic run happens once per price set across instances (the claim), a manual one always', async () => {
    const other = new RepricingService(engine, ledger, runs, bus); // a second instance, same run store
    const first = await pricing.repricing.repriceUnpriced('prices changed', 'pricing', true);
    expect(first).not.toBeNull();
    expect(await other.repriceUnpriced('prices changed', 'pricing', true)).toBeNull();
    expect(await other.repriceUnpriced('manual', 'cli', false)).not.toBeNull();
  });

  it('the periodic reload sees a catalog activated elsewhere and re-prices the unpriced events', async () => {
    const catalogs = new InMemoryCatalogStore();
    const repricing = new RepricingService(engine, ledger, runs, bus);
    const svc = new PricingService(
      engine,
      new UnpricedTracker(),
      new InMemoryOverrideStore(),
      { overridesReloadMs: 0 },
      catalogs,
      ledger,
      repricing,
    );
    await svc.onModuleInit();
    await svc.reloadAndReprice();
    expect(runs.runs).toHaveLength(0); // nothing changed
    const base = loadBuiltinCatalog();
    const dataset = JSON.stringify({
      'gpt-new-1': {
        litellm_provider: 'openai',
        mode: 'chat',
        input_cost_per_token: 0.000002,
        output_cost_per_token: 0.00001,
      },
    });
    const { catalog, diff } = importCatalog('litellm', dataset, base, new Date(AUG_2026 - 86_400_000 * 30));
    const saved = await catalogs.save({ catalog, source: 'import:litellm', base, diff, actor: 'cli' });
    await svc.reloadAndReprice();
    expect(engine.catalog.version).toBe(saved.version);
    await settle(2);
    // r1: 1000 × 2 + 100 × 10 per 1M
    expect(ledger.events.get('r1')!.cost).toMatchObject({
      total_cost_usd: '0.003',
      cost_source: 'standard',
      pricing_model: 'gpt-new-1',
      pricing_version: saved.version,
    });
    expect(runs.runs[0]).toMatchObject({ trigger: 'prices changed', actor: 'pricing', changed: 2 });
    // going back and forth is a price change each time (the claim names the activation, not only the version)
    await catalogs.activate('builtin', 'cli');
    await svc.reloadAndReprice();
    await catalogs.activate(saved.version, 'cli');
    await svc.reloadAndReprice();
    expect(runs.runs.map((r) => r.catalogVersion)).toEqual([saved.version, base.version, saved.version]);
    svc.onModuleDestroy();
  });
});

describe('RepricingService runs as jobs', () => {
  /** A ledger whose pages wait for the test: one page of two events, then whatever `next` says. */
  class GatedLedger extends FakeLedger {
    private release!: (outcome: 'more' | Error) => void;
    readonly gate = new Promise<'more' | Error>((resolve) => (this.release = resolve));

    override async *pages(sel: RepriceSelection): AsyncIterable<StoredUsage[]> {
      const all: StoredUsage[][] = [];
      for await (const page of super.pages(sel)) all.push(page);
      yield all[0] ?? [];
      const outcome = await this.gate;
      if (outcome instanceof Error) throw outcome;
      for (const page of all.slice(1)) yield page;
    }

    next(outcome: 'more' | Error): void {
      this.release(outcome);
    }
  }

  let bus: InProcessBus;
  let ledger: GatedLedger;
  let engine: PricingEngine;
  let runs: InMemoryRepriceRuns;
  let repricing: RepricingService;
  let clock: Date;
  const range = { from: '2026-07-01T00:00:00Z', to: '2026-09-01T00:00:00Z', actor: 'api:bob' };

  /** Polls the run as the admin API does, until it is no longer running. */
  const settled = async (id: string) => {
    for (let i = 0; i < 400; i++) {
      const run = await repricing.getRun({ id });
      if (run.status !== 'running') return run;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`run ${id} still running`);
  };

  /** Waits until the run has recorded its first page (two events). */
  const firstPage = async (id: string) => {
    for (let i = 0; i < 400 && (await repricing.getRun({ id })).examined < 2; i++)
      await new Promise((r) => setTimeout(r, 5));
  };

  beforeEach(async () => {
    bus = new InProcessBus();
    ledger = new GatedLedger();
    await bus.subscribe<UsageRepricedV1>('ledger.repricing', [Topics.usageRepriced], async (m) =>
      ledger.apply(m),
    );
    engine = new PricingEngine(loadBuiltinCatalog());
    clock = new Date('2026-12-02T10:00:00Z');
    runs = new InMemoryRepriceRuns(() => clock);
    repricing = new RepricingService(engine, ledger, runs, bus);
    for (let i = 1; i <= 5; i++) {
      const ev = extractedEvent(
        'openai',
        'gpt-4o',
        { prompt_tokens: 1000 * i, completion_tokens: 0 },
        {},
        { request_id: `r${i}`, tenant_id: 'acme' },
      );
      // stored with a stale price, so every event changes
      ledger.events.set(`r${i}`, {
        request_id: `r${i}`,
        meta: ev,
        usage: ev.usage,
        cost: { ...engine.price(ev, ev.usage), total_cost_usd: '1' },
      });
    }
  });

  afterEach(async () => {
    await repricing.onModuleDestroy();
    await bus.close();
  });

  it('start answers with the running run at once; the run records progress per page and ends succeeded', async () => {
    const started = await repricing.start(range);
    expect(started).toMatchObject({
      id: '1',
      status: 'running',
      trigger: 'manual',
      actor: 'api:bob',
      selection: { unpriced_only: false, from: '2026-07-01T00:00:00.000Z', to: '2026-09-01T00:00:00.000Z' },
      started_at: clock.toISOString(),
      finished_at: null,
      error: null,
    });
    // The first page is done and the run waits for the second: the counts so far are visible.
    await firstPage('1');
    expect(await repricing.getRun({ id: '1' })).toMatchObject({ status: 'running', examined: 2, changed: 2 });
    ledger.next('more');
    const done = await settled('1');
    expect(done).toMatchObject({
      status: 'succeeded',
      examined: 5,
      changed: 5,
      before_usd: '5',
      error: null,
    });
    expect(done.finished_at).toEqual(expect.any(String));
    // The run ends once its last page is published; the bus delivers it to the ledger a turn later (asserting at
    // once failed under load with 2 of 5 delivered).
    for (let i = 0; i < 400 && ledger.received.length < 5; i++) await new Promise((r) => setTimeout(r, 5));
    expect(ledger.received.map((m) => m.run_id)).toEqual(['1', '1', '1', '1', '1']);
    expect((await repricing.listRuns({})).runs.map((r) => r.id)).toEqual(['1']);
  });

  it('a run that fails is recorded failed with its error and the counts it reached', async () => {
    await repricing.start(range);
    ledger.next(new Error('read model unavailable'));
    expect(await settled('1')).toMatchObject({
      status: 'failed',
      examined: 2,
      changed: 2,
      error: 'read model unavailable',
    });
  });

  it('a stopping service ends its running runs as failed (interrupted)', async () => {
    await repricing.start(range);
    const stopping = repricing.onModuleDestroy();
    ledger.next('more');
    await stopping;
    expect(await repricing.getRun({ id: '1' })).toMatchObject({
      status: 'failed',
      error: 'interrupted: the pricing service stopped',
    });
  });

  it('a running run whose heartbeat stopped is failed when runs are read (its process died)', async () => {
    await repricing.start(range); // held after the first page: as if its process had died there
    await firstPage('1');
    const beat = (await repricing.getRun({ id: '1' })).heartbeat_at;
    clock = new Date(clock.getTime() + REPRICE_STALE_MS - 1);
    expect((await repricing.getRun({ id: '1' })).status).toBe('running');
    clock = new Date(clock.getTime() + 2);
    expect(await repricing.getRun({ id: '1' })).toMatchObject({
      status: 'failed',
      error: `abandoned: no heartbeat since ${beat} (the process running it stopped)`,
    });
    ledger.next(new Error('the process is gone')); // lets the held run end; its row keeps the first end
    await new Promise((r) => setImmediate(r));
    expect((await repricing.getRun({ id: '1' })).error).toMatch(/^abandoned: /);
  });

  it('an unknown run is a 404 naming it; a bad limit is a 400', async () => {
    for (const id of ['7', 'abc']) {
      const err = await repricing.getRun({ id }).catch((e: unknown) => e);
      expect([(err as PricingCommandError).status, (err as Error).message]).toEqual([
        404,
        `no re-pricing run ${id}`,
      ]);
    }
    const err = await repricing.listRuns({ limit: 0 }).catch((e: unknown) => e);
    expect((err as PricingCommandError).status).toBe(400);
  });

  it('start refuses a bad request before recording a run', async () => {
    await expect(repricing.start({ from: 'yesterday', to: range.to })).rejects.toThrow(
      /from must be an RFC 3339/,
    );
    expect(runs.runs).toHaveLength(0);
  });
});

describe('costChanged', () => {
  const c = (total: string | null, source = 'standard' as const, matched = true) => ({
    provider_cost: null,
    calculated_cost: total,
    total_cost_usd: total,
    cost_source: source,
    pricing_matched: matched,
    pricing_model: 'm',
    pricing_version: 'v',
  });
  it('compares totals as decimals, and the source and match', () => {
    expect(costChanged(c('0.10'), c('0.1'))).toBe(false);
    expect(costChanged(c('0.1'), c('0.2'))).toBe(true);
    expect(costChanged(c(null), c('0'))).toBe(true);
    expect(costChanged(c('1'), { ...c('1'), cost_source: 'custom' })).toBe(true);
    expect(costChanged(c('1'), { ...c('1'), pricing_matched: false })).toBe(true);
    expect(costChanged(c('1'), { ...c('1'), pricing_version: 'other' })).toBe(false);
  });
});
