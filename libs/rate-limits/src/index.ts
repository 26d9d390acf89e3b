export * from './window-counter';
export * from './compiled-limits';
export * from './headers';
export * from './sync-message';
export * from './rate-limiter';
export * from './rate-limit.guard';
export * from './rate-limit-sync';
export * from './rate-limits.module';
