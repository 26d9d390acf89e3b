import { Global, Module } from '@nestjs/common';
import { OpsController } from './ops.controller';
import { ReadinessRegistry } from './readiness';

/** Mounted by every process: health, readiness and metrics. */
@Global()
@Module({ controllers: [OpsController], providers: [ReadinessRegistry], exports: [ReadinessRegistry] })
export class OpsModule {}
