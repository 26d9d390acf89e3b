export * from './event.types';
export * from './event-store';
export * from './event-store.migration';
export * from './projection';
export * from './projection-runner';
export * from './event-store.module';
export * from './projection-heartbeat.migration';
export * from './ordered-reader.migration';
