export * from './proxy.handler';
export * from './proxy.module';
export * from './proxy.options';
export * from './proxy.metrics';
export * from './errors';
export * from './proxy.server';
