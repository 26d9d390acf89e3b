export * from './bridge-link';
export * from './thread-bridge-bus';
