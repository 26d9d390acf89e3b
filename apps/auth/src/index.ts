export * from './auth.module';
export * from './auth.migration';
export * from './key.service';
export * from './key.errors';
export { KeyRepository, type AuditEntry } from './key.repository';
