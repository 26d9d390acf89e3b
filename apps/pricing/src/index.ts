// Public API of the pricing app.
export { PricingModule, type PricingModuleOptions } from './pricing.module';
export { PricingService, PricingCommandError, type PricingOptions } from './pricing.service';
export { PricingConsumer, PRICING_QUEUE } from './pricing.consumer';
export {
  PricingEngine,
  NOT_BILLED_CLASSES,
  billableUsage,
  type PricingMeta,
  type Quote,
} from './engine/pricing-engine';
export { OverrideSet, overrideProblem, type PriceOverride } from './engine/overrides';
export { computeCost, ratesFor, normalizeServiceTier, type Breakdown, type CostLine } from './engine/cost';
export { Catalog, type ModelPrice } from './catalog/catalog';
export { loadBuiltinCatalog, builtinCatalogPath } from './catalog/load';
export { rankExpense, type Expense, type ExpenseRanking } from './catalog/expense';
export type * from './catalog/schema';
export {
  InMemoryOverrideStore,
  OVERRIDE_STORE,
  type OverrideStore,
  type StoredOverrides,
} from './overrides/override-store';
export { PostgresOverrideStore } from './overrides/postgres-override-store';
export { PRICING_MIGRATIONS, PricingOverrides1767225600000 } from './overrides/pricing-overrides.migration';
export { UnpricedTracker, MAX_UNPRICED_TRACKED } from './unpriced/unpriced-tracker';
export { validateUsageMessage } from './messages/validate-usage';
