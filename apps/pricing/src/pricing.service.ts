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

/** Options of PricingModule.forRoot. */
export interface PricingOptions {
  /** How often the override set is re-read from the store, so another instance's change is seen (0 = never). */
  overridesReloadMs?: number;
}
export const PRICING_OPTIONS = Symbol('PRICING_OPTIONS');

/** A command failed for a reason the caller can fix (the admin API maps it to 400/404). */
export class PricingCommandError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404,
  ) {
    super(message);
    this.name = 'PricingCommandError';
  }
}

@Injectable()
export class PricingService implements OnModuleInit, OnModuleDestroy {
  private reloadTimer: NodeJS.Timeout | undefined;
  private ranking: { version: string; day: string; rk: ExpenseRanking } | undefined;

  constructor(
    readonly engine: PricingEngine,
    readonly unpriced: UnpricedTracker,
    @Inject(OVERRIDE_STORE) private readonly store: OverrideStore,
    @Inject(PRICING_OPTIONS) private readonly options: PricingOptions,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.reloadOverrides();
    const every = this.options.overridesReloadMs ?? 5000;
    if (every > 0) {
      this.reloadTimer = setInterval(() => void this.reloadOverrides().catch(() => undefined), every);
      this.reloadTimer.unref();
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.reloadTimer);
  }

  async reloadOverrides(): Promise<void> {
    this.install(await this.store.load());
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

  listUnpriced(): PricingUnpricedListResponse {
    return { models: this.unpriced.list() };
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
    return this.install(await this.store.add(o));
  }

  async deleteOverride(req: { id: number }): Promise<PricingOverridesResponse> {
    if (!req || !Number.isSafeInteger(req.id) || req.id <= 0)
      throw new PricingCommandError('id must be a positive integer', 400);
    const s = await this.store.remove(req.id);
    if (!s) throw new PricingCommandError(`no override ${req.id}`, 404);
    return this.install(s);
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
