// The admin REST API under /api/v1/, behind the admin bearer token. Needs from the process (global providers):
// USAGE_READ_MODEL, MESSAGE_BUS (auth, pricing and ledger budget commands) and a TypeORM DataSource migrated with API_MIGRATIONS.
import { Module, type DynamicModule } from '@nestjs/common';
import { AdminAuthGuard } from './admin-token/admin-auth.guard';
import { AdminTokenSchema1733000100000 } from './admin-token/admin-token.migration';
import { AdminTokenService } from './admin-token/admin-token.service';
import { AnalyticsController } from './analytics/analytics.controller';
import { AnalyticsService } from './analytics/analytics.service';
import { BudgetCommands } from './budgets/budget-commands';
import { BudgetsController } from './budgets/budgets.controller';
import { BudgetsService } from './budgets/budgets.service';
import { API_OPTIONS, type ApiOptions } from './api.options';
import { CommandClient } from './common/command-client';
import { DashboardModule } from './dashboard/dashboard.module';
import { EventsController } from './events/events.controller';
import { EventsService } from './events/events.service';
import { RepricingsController } from './events/repricings.controller';
import { RepricingsService } from './events/repricings.service';
import { KeysController } from './keys/keys.controller';
import { KeysService } from './keys/keys.service';
import { OpenApiController } from './openapi/openapi.controller';
import { PricingController } from './pricing/pricing.controller';
import { PricingGateway } from './pricing/pricing.service';

/** The api app's migrations, for PersistenceModule.forRoot({ migrations }). */
export const API_MIGRATIONS = [AdminTokenSchema1733000100000];

@Module({})
export class ApiModule {
  static forRoot(options: ApiOptions): DynamicModule {
    return {
      module: ApiModule,
      imports: [DashboardModule],
      controllers: [
        EventsController,
        AnalyticsController,
        KeysController,
        PricingController,
        OpenApiController,
        BudgetsController,
        RepricingsController,
      ],
      providers: [
        { provide: API_OPTIONS, useValue: options },
        AdminTokenService,
        AdminAuthGuard,
        CommandClient,
        EventsService,
        AnalyticsService,
        KeysService,
        PricingGateway,
        BudgetCommands,
        BudgetsService,
        RepricingsService,
      ],
      exports: [AdminTokenService],
    };
  }
}
