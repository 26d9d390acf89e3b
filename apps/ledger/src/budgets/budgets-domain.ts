// The budget domain (libs/budgets). tsconfig.json has no `@spendops/budgets` path yet and this helper may not edit
// it: once the path exists, replace the line below with `export * from '@spendops/budgets';`.
// eslint-disable-next-line no-restricted-imports
export * from '../../../../libs/budgets/src';
