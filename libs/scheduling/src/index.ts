export * from './background-priority';
