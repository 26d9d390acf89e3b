// The pipeline services (capture → extraction → pricing → ledger): CPU-heavy, not on the request path. All-in-one
// runs them on a worker thread (pipeline-worker.ts) unless `--pipeline-thread=false`; this list is shared by both
// compositions so they cannot drift.
import { DynamicModule, Type } from '@nestjs/common';
import { EventStoreModule } from '@spendops/event-store';
import { ExtractionModule } from '../../../extraction/src';
import { SpendOpsConfig } from '@spendops/config';
import { BudgetAlertsOptions, LedgerModule } from '../../../ledger/src';
import { PricingModule } from '../../../pricing/src';

export const PIPELINE_SERVICES = ['extraction', 'pricing', 'ledger'] as const;

export function isPipelineService(service: string): boolean {
  return (PIPELINE_SERVICES as readonly string[]).includes(service);
}

/** What the pipeline services take from the configuration (structured-cloneable: it crosses to the worker). */
export interface PipelineSettings {
  budgetAlerts: BudgetAlertsOptions;
}

export function pipelineSettings(config: SpendOpsConfig): PipelineSettings {
  const { smtp, max_attempts, retry_base_ms, timeout_ms } = config.budget_alerts;
  return {
    budgetAlerts: {
      maxAttempts: max_attempts,
      backoffBaseMs: retry_base_ms,
      timeoutMs: timeout_ms,
      ...(smtp.host
        ? {
            smtp: {
              host: smtp.host,
              port: smtp.port,
              from: smtp.from,
              secure: smtp.secure,
              requireTLS: smtp.require_tls,
              ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.password } } : {}),
            },
          }
        : {}),
    },
  };
}

/** The root modules of the pipeline services among `services`. */
export function pipelineModules(
  services: ReadonlySet<string>,
  settings: PipelineSettings,
): Array<DynamicModule | Type> {
  const imports: Array<DynamicModule | Type> = [];
  if (services.has('extraction')) imports.push(ExtractionModule);
  if (services.has('pricing')) imports.push(PricingModule.forRoot({ store: 'postgres' }));
  if (services.has('ledger')) {
    imports.push(EventStoreModule.forRoot(), LedgerModule.forRoot({ budgetAlerts: settings.budgetAlerts }));
  }
  return imports;
}
