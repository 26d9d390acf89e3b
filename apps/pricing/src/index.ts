// Public API of the pricing app.
export { PricingModule, type PricingModuleOptions } from './pricing.module';
export { PricingService, type PricingOptions } from './pricing.service';
export { PricingCommandError } from './pricing-command.error';
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
export {
  CATALOG_STORE,
  CatalogVersionNotFoundError,
  InMemoryCatalogStore,
  PostgresCatalogStore,
  type CatalogAuditEntry,
  type CatalogStore,
  type CatalogVersionInfo,
  type SaveCatalogInput,
} from './catalog-store/catalog-store';
export { PricingCatalogVersions1767225600100 } from './catalog-store/catalog-versions.migration';
export {
  diffCatalogs,
  diffCounts,
  formatDiff,
  type CatalogChange,
  type CatalogDiff,
} from './catalog-store/catalog-diff';
export {
  IMPORT_FORMATS,
  importCatalog,
  UnknownImportFormatError,
  type ImportFormat,
  type ImportResult,
} from './catalog-store/catalog-import';
export { RepricingService, costChanged } from './repricing/repricing.service';
export {
  NoRepriceSource,
  REPRICE_SOURCE,
  type RepriceEventSource,
  type RepriceSelection,
  type StoredUsage,
} from './repricing/reprice-source';
export { UNPRICED_MODELS_SQL, UsageViewRepriceSource } from './repricing/usage-view-source';
export {
  InMemoryRepriceRuns,
  PostgresRepriceRuns,
  REPRICE_RUNS,
  type RepriceRunStore,
} from './repricing/reprice-runs';
