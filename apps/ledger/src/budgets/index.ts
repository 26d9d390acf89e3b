export * from './budgets.module';
export * from './budget.service';
export * from './budget.errors';
export * from './budget-view';
export * from './budgets.migration';
export { BUDGETS_PROJECTION, BudgetsProjection, crossingEventId, currentPeriod } from './budgets.projection';
