export * from './config';
export * from './budgets-config';
