// PricingModule.forRoot(): the pricing service. Needs MESSAGE_BUS from the process; overrides are kept in
// PostgreSQL when `store: 'postgres'` (PersistenceModule's DataSource, migrations PRICING_MIGRATIONS), else in
// memory.
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { loadBuiltinCatalog } from './catalog/load';
import { PricingEngine } from './engine/pricing-engine';
import { InMemoryOverrideStore, OVERRIDE_STORE } from './overrides/override-store';
import { PostgresOverrideStore } from './overrides/postgres-override-store';
import { PricingConsumer } from './pricing.consumer';
import { PRICING_OPTIONS, PricingService, type PricingOptions } from './pricing.service';
import { UnpricedTracker } from './unpriced/unpriced-tracker';

export interface PricingModuleOptions extends PricingOptions {
  /** Where tenant overrides live (default 'memory'). */
  store?: 'memory' | 'postgres';
}

@Module({})
export class PricingModule {
  static forRoot(options: PricingModuleOptions = {}): DynamicModule {
    const store: Provider =
      options.store === 'postgres'
        ? {
            provide: OVERRIDE_STORE,
            inject: [DataSource],
            useFactory: (db: DataSource) => new PostgresOverrideStore(db),
          }
        : { provide: OVERRIDE_STORE, useValue: new InMemoryOverrideStore() };
    return {
      module: PricingModule,
      providers: [
        {
          provide: PRICING_OPTIONS,
          useValue: { overridesReloadMs: options.store === 'postgres' ? 5000 : 0, ...options },
        },
        { provide: PricingEngine, useFactory: () => new PricingEngine(loadBuiltinCatalog()) },
        store,
        UnpricedTracker,
        PricingService,
        PricingConsumer,
      ],
      exports: [PricingService, PricingEngine],
    };
  }
}
