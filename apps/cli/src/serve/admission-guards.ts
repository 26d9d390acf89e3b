// The admission guards the proxy runs after policy (budgets, rate limits), in order. Each feature contributes
// its module and its guard class here; the proxy receives them as one ADMISSION_GUARDS array.
import { DynamicModule, Module, Provider, Type } from '@nestjs/common';
import { ADMISSION_GUARDS, AdmissionGuard } from '@spendops/contracts';
import { SpendOpsConfig } from '@spendops/config';
import { BudgetGuard, BudgetGuardModule } from '@spendops/budget-guard';
import { RateLimitGuard, RateLimitsModule } from '@spendops/rate-limits';

interface GuardEntry {
  module: DynamicModule | Type;
  guard: Type<AdmissionGuard>;
}

/** The guards for this configuration (features add theirs here). */
function guardEntries(config: SpendOpsConfig): GuardEntry[] {
  const budgets = config.budget_enforcement;
  return [
    // Rate limits: a key without `rate_limits` passes at the cost of one lookup (docs/rate-limits.md).
    { module: RateLimitsModule.forRoot(), guard: RateLimitGuard },
    // Budgets last: a guard after it could deny a request it already reserved for (held until the timeout).
    {
      module: BudgetGuardModule.forRoot({
        failClosed: budgets.fail_closed,
        defaultMaxOutputTokens: budgets.default_max_output_tokens,
        promptBytesPerToken: budgets.prompt_bytes_per_token,
        settleTimeoutMs: budgets.settle_timeout_ms,
        heartbeatMs: budgets.heartbeat_interval_ms,
      }),
      guard: BudgetGuard,
    },
  ];
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
