export * from './ids';
export * from './scope';
export * from './zoned-time';
export * from './period';
export * from './thresholds';
export * from './forecast';
export * from './validate';
