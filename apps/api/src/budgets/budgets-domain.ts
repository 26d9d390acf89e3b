// The budget rules of libs/budgets. tsconfig.json has no `@spendops/budgets` path yet (this helper may not edit
// it): once it exists, replace the line below with `export * from '@spendops/budgets';`.
// eslint-disable-next-line no-restricted-imports
export * from '../../../../libs/budgets/src';
