// The admission guards the proxy runs after policy (budgets, rate limits), in order. Each feature contributes
// its module and its guard class here; the proxy receives them as one ADMISSION_GUARDS array.
import { DynamicModule, Module, Provider, Type } from '@nestjs/common';
import { ADMISSION_GUARDS, AdmissionGuard } from '@spendops/contracts';
import { SpendOpsConfig } from '@spendops/config';

interface GuardEntry {
  module: DynamicModule | Type;
  guard: Type<AdmissionGuard>;
}

/** The guards for this configuration (features add theirs here). */
function guardEntries(config: SpendOpsConfig): GuardEntry[] {
  void config;
  return [];
}

@Module({})
export class AdmissionGuardsModule {
  static forRoot(config: SpendOpsConfig): DynamicModule {
    const entries = guardEntries(config);
    const provider: Provider = {
      provide: ADMISSION_GUARDS,
      inject: entries.map((e) => e.guard),
      useFactory: (...guards: AdmissionGuard[]) => guards,
    };
    return {
      module: AdmissionGuardsModule,
      global: true,
      imports: entries.map((e) => e.module),
      providers: [provider],
      exports: [ADMISSION_GUARDS],
    };
  }
}
