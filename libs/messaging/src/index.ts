export * from './bus';
export * from './errors';
export * from './dead-letter';
export * from './topic-pattern';
export * from './in-process/in-process-bus';
export * from './rabbitmq/rabbitmq-bus';
export { DEFAULT_EXCHANGE } from './rabbitmq/topology';
export * from './outbound/spooling-outbound-queue';
