// The pipeline services (capture → extraction → pricing → ledger): CPU-heavy, not on the request path. All-in-one
// runs them on a worker thread (pipeline-worker.ts) unless `--pipeline-thread=false`; this list is shared by both
// compositions so they cannot drift.
import { DynamicModule, Type } from '@nestjs/common';
import { EventStoreModule } from '@spendops/event-store';
import { ExtractionModule } from '../../../extraction/src';
import { LedgerModule } from '../../../ledger/src';
import { PricingModule } from '../../../pricing/src';

export const PIPELINE_SERVICES = ['extraction', 'pricing', 'ledger'] as const;

export function isPipelineService(service: string): boolean {
  return (PIPELINE_SERVICES as readonly string[]).includes(service);
}

/** The root modules of the pipeline services among `services`. */
export function pipelineModules(services: ReadonlySet<string>): Array<DynamicModule | Type> {
  const imports: Array<DynamicModule | Type> = [];
  if (services.has('extraction')) imports.push(ExtractionModule);
  if (services.has('pricing')) imports.push(PricingModule.forRoot({ store: 'postgres' }));
  if (services.has('ledger')) imports.push(EventStoreModule.forRoot(), LedgerModule);
  return imports;
}
