// The pricing service: prices usage messages with the engine and answers the admin API's commands.
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type {
  PricedModelView,
  PricingModelGetRequest,
  PricingModelGetResponse,
  PricingModelsListRequest,
  PricingModelsListResponse,
  PricingOverrideAddRequest,
  PricingOverridesResponse,
  PricingUnpricedListResponse,
  UsagePricedV1,
} from '@spendops/contracts';
import type { CatalogModel } from './catalog/schema';
import { periodAt, type Catalog } from './catalog/catalog';
import { compileModel } from './catalog/compiled';
import { rankExpense, type ExpenseRanking } from './catalog/expense';
import { canonicalProvider } from './catalog/provider-names';
import { OverrideSet, overrideProblem } from './engine/overrides';
import { PricingEngine } from './engine/pricing-engine';
import { validateUsageMessage } from './messages/validate-usage';
import { OVERRIDE_STORE, type OverrideStore, type StoredOverrides } from './overrides/override-store';
import { UnpricedTracker } from './unpriced/unpriced-tracker';
import { CATALOG_STORE, type CatalogStore } from './catalog-store/catalog-store';
import { RepricingService } from './repricing/repricing.service';
import { REPRICE_SOURCE, type RepriceEventSource } from './repricing/reprice-source';
import { PricingCommandError } from './pricing-command.error';

/** Options of PricingModule.forRoot. */
export interface PricingOptions {
  /**
   * How often the active catalog and the override set are re-read from the store, so a change by another
   * instance or by the CLI is seen (0 = never). A change re-prices the events that had no price.
   */
  overridesReloadMs?: number;
}
export const PRICING_OPTIONS = Symbol('PRICING_OPTIONS');

export { PricingCommandError };

@Injectable()
export class PricingService implements OnModuleInit, OnModuleDestroy {
  private reloadTimer: NodeJS.Timeout | undefined;
  private ranking: { version: string; day: string; rk: ExpenseRanking } | undefined;

  constructor(
    readonly engine: PricingEngine,
    readonly unpriced: UnpricedTracker,
    @Inject(OVERRIDE_STORE) private readonly store: OverrideStore,
    @Inject(PRICING_OPTIONS) private readonly options: PricingOptions,
    @Inject(CATALOG_STORE) private readonly catalogs: CatalogStore,
    @Inject(REPRICE_SOURCE) private readonly stored: RepriceEventSource,
    readonly repricing: RepricingService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.reload();
    const every = this.options.overridesReloadMs ?? 5000;
    if (every > 0) {
      this.reloadTimer = setInterval(() => void this.reloadAndReprice().catch(() => undefined), every);
      this.reloadTimer.unref();
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.reloadTimer);
  }

  async reloadOverrides(): Promise<void> {
    await this.reload();
  }

  /** Installs the store's active catalog and override set; true when either changed. */
  async reload(): Promise<boolean> {
    const catalog = await this.catalogs.current();
    const before = `${this.engine.catalog.version}+ov${this.engine.overrides.version}`;
    if (catalog.version !== this.engine.catalog.version) this.engine.setCatalog(catalog);
    this.install(await this.store.load());
    return before !== `${this.engine.catalog.version}+ov${this.engine.overrides.version}`;
  }

  /** The periodic reload: prices changed elsewhere (CLI import, another instance) re-price unpriced events once. */
  async reloadAndReprice(): Promise<void> {
    if (await this.reload())
      await this.repricing.repriceUnpriced(
        'prices changed',
        'pricing',
        true,
        await this.catalogs.activation(),
      );
  }

  /** After this instance changed the prices: re-price the events that had none (errors leave the change made). */
  private async repriceAfter(trigger: string, actor: string): Promise<PricingOverridesResponse['repriced']> {
    try {
      const activation = await this.catalogs.activation();
      return (await this.repricing.repriceUnpriced(trigger, actor, true, activation)) ?? undefined;
    } catch {
      return undefined; // the periodic reload or `spendops pricing reprice --unpriced` retries
    }
  }

  private install(s: StoredOverrides): PricingOverridesResponse {
    if (s.version !== this.engine.overrides.version)
      this.engine.setOverrides(new OverrideSet(s.version, s.items));
    return { version: s.version, overrides: s.items };
  }

  /** Validates (PoisonMessageError for a bad shape) and prices a `usage.extracted.v1` / `usage.ingest.v1` payload. */
  priceMessage(payload: unknown): UsagePricedV1 {
    const msg = validateUsageMessage(payload);
    const cost = this.engine.price(msg, msg.usage);
    if (!cost.pricing_matched && cost.cost_source !== 'not_billed') {
      this.unpriced.note(
        msg.provider,
        msg.usage.response_model || msg.usage.model || msg.request_model,
        cost.total_cost_usd !== null,
      );
    }
    return { ...msg, cost };
  }

  listModels(req: PricingModelsListRequest = {}): PricingModelsListResponse {
    const cat = this.engine.catalog;
    const now = new Date();
    const rk = this.rank(cat, now);
    const provider = req.provider ? canonicalProvider(req.provider) : '';
    return {
      version: cat.version,
      overrides_version: this.engine.overrides.version,
      expense_bounds: rk.bounds,
      models: cat
        .models()
        .filter((pm) => !provider || pm.provider === provider)
        .map((pm) => view(pm.provider, pm.model, rk, now, false)),
    };
  }

  getModel(req: PricingModelGetRequest): PricingModelGetResponse {
    if (!req || typeof req.model !== 'string' || req.model.trim() === '') {
      throw new PricingCommandError('model is required', 400);
    }
    const cat = this.engine.catalog;
    const now = new Date();
    const rk = this.rank(cat, now);
    const wanted = req.provider ? canonicalProvider(req.provider) : '';
    const models: PricedModelView[] = [];
    for (const pf of cat.providers) {
      if (wanted && pf.provider !== wanted) continue;
      const mp = cat.lookup(pf.provider, req.model, now);
      if (mp && mp.provider === pf.provider) models.push(view(pf.provider, mp.model, rk, now, true));
    }
    if (models.length === 0) throw new PricingCommandError(`no price for model ${req.model}`, 404);
    return { version: cat.version, models };
  }

  /** From the ledger's read model (every stored event) when it is reachable, else this instance's memory. */
  async listUnpriced(): Promise<PricingUnpricedListResponse> {
    if (await this.stored.available().catch(() => false))
      return { models: await this.stored.unpricedModels(), source: 'read_model' };
    return { models: this.unpriced.list(), source: 'memory' };
  }

  async listOverrides(): Promise<PricingOverridesResponse> {
    return this.install(await this.store.load());
  }

  async addOverride(req: PricingOverrideAddRequest): Promise<PricingOverridesResponse> {
    const problem = overrideProblem(req ?? {});
    if (problem) throw new PricingCommandError(problem, 400);
    const o: PricingOverrideAddRequest = { tenant_id: req.tenant_id, model: req.model };
    if (req.provider) o.provider = canonicalProvider(req.provider);
    if (req.rates && Object.keys(req.rates).length > 0) o.rates = req.rates;
    if (req.markup_pct !== undefined) o.markup_pct = req.markup_pct;
    if (req.note) o.note = req.note;
    const res = this.install(await this.store.add(o));
    const added = res.overrides[res.overrides.length - 1];
    const repriced = await this.repriceAfter(`override ${added?.id ?? ''} added`, req.actor || 'api');
    return repriced ? { ...res, repriced } : res;
  }

  async deleteOverride(req: { id: number; actor?: string }): Promise<PricingOverridesResponse> {
    if (!req || !Number.isSafeInteger(req.id) || req.id <= 0)
      throw new PricingCommandError('id must be a positive integer', 400);
    const s = await this.store.remove(req.id);
    if (!s) throw new PricingCommandError(`no override ${req.id}`, 404);
    const res = this.install(s);
    const repriced = await this.repriceAfter(`override ${req.id} deleted`, req.actor || 'api');
    return repriced ? { ...res, repriced } : res;
  }

  /** Expense tiers, recomputed when the catalog or the UTC day changes. */
  private rank(cat: Catalog, now: Date): ExpenseRanking {
    const day = now.toISOString().slice(0, 10);
    if (this.ranking?.version !== cat.version || this.ranking.day !== day) {
      this.ranking = { version: cat.version, day, rk: rankExpense(cat, now) };
    }
    return this.ranking.rk;
  }
}

function view(
  provider: string,
  m: CatalogModel,
  rk: ExpenseRanking,
  now: Date,
  full: boolean,
): PricedModelView {
  const v: PricedModelView = {
    provider,
    model: m.id,
    kind: m.kind,
    source: m.source,
    current: periodAt(compileModel(m), now).source,
  };
  const e = rk.of(m);
  if (e) v.expense = e;
  if (full) {
    v.provenance = m.provenance;
    v.aliases = m.aliases;
    v.prices = m.prices;
  }
  return v;
}
