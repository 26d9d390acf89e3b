export * from './ledger.module';
export * from './ledger.service';
export * from './ledger.queries';
export * from './ledger.consumer';
export * from './ledger.events';
export * from './ledger-projections';
export * from './ledger.migration';
export * from './aggregate-rollups.migration';
export { formatCost, viewFromPriced, viewFromRow, denialFromRow } from './usage-view.mapper';
