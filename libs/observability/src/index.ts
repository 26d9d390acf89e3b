export * from './metrics';
export * from './logger';
export * from './readiness';
export * from './ops.module';
export * from './nest-logger';
export * from './hot-metrics';
