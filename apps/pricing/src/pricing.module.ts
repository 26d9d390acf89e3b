// PricingModule.forRoot(): the pricing service. Needs MESSAGE_BUS from the process. With `store: 'postgres'`
// (PersistenceModule's DataSource, migrations PRICING_MIGRATIONS) overrides, catalog versions and re-pricing runs
// are kept in PostgreSQL and stored events are re-priced from the ledger's read model; else all in memory and
// re-pricing finds no events.
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { loadBuiltinCatalog } from './catalog/load';
import { PricingEngine } from './engine/pricing-engine';
import { InMemoryOverrideStore, OVERRIDE_STORE } from './overrides/override-store';
import { PostgresOverrideStore } from './overrides/postgres-override-store';
import { PricingConsumer } from './pricing.consumer';
import { PRICING_OPTIONS, PricingService, type PricingOptions } from './pricing.service';
import { UnpricedTracker } from './unpriced/unpriced-tracker';
import { CATALOG_STORE, InMemoryCatalogStore, PostgresCatalogStore } from './catalog-store/catalog-store';
import { NoRepriceSource, REPRICE_SOURCE } from './repricing/reprice-source';
import { InMemoryRepriceRuns, PostgresRepriceRuns, REPRICE_RUNS } from './repricing/reprice-runs';
import { RepricingService } from './repricing/repricing.service';
import { UsageViewRepriceSource } from './repricing/usage-view-source';
import { PRICE_SHEET_OPTIONS, PriceSheetPublisher } from './price-sheet/price-sheet.publisher';

export interface PricingModuleOptions extends PricingOptions {
  /** Where tenant overrides live (default 'memory'). */
  store?: 'memory' | 'postgres';
}

@Module({})
export class PricingModule {
  static forRoot(options: PricingModuleOptions = {}): DynamicModule {
    const pg = options.store === 'postgres';
    const fromDb = (provide: symbol, make: (db: DataSource) => unknown, memory: () => unknown): Provider =>
      pg ? { provide, inject: [DataSource], useFactory: make } : { provide, useFactory: memory };
    const stores: Provider[] = [
      fromDb(
        OVERRIDE_STORE,
        (db) => new PostgresOverrideStore(db),
        () => new InMemoryOverrideStore(),
      ),
      fromDb(
        CATALOG_STORE,
        (db) => new PostgresCatalogStore(db),
        () => new InMemoryCatalogStore(),
      ),
      fromDb(
        REPRICE_SOURCE,
        (db) => new UsageViewRepriceSource(db),
        () => new NoRepriceSource(),
      ),
      fromDb(
        REPRICE_RUNS,
        (db) => new PostgresRepriceRuns(db),
        () => new InMemoryRepriceRuns(),
      ),
    ];
    return {
      module: PricingModule,
      providers: [
        {
          provide: PRICING_OPTIONS,
          useValue: { overridesReloadMs: options.store === 'postgres' ? 5000 : 0, ...options },
        },
        { provide: PricingEngine, useFactory: () => new PricingEngine(loadBuiltinCatalog()) },
        ...stores,
        UnpricedTracker,
        RepricingService,
        PricingService,
        PricingConsumer,
        { provide: PRICE_SHEET_OPTIONS, useValue: {} },
        PriceSheetPublisher,
      ],
      exports: [PricingService, PricingEngine, RepricingService],
    };
  }
}
