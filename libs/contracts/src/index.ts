export * from './usage';
export * from './keys';
export * from './topics';
export * from './authorizer';
export * from './pricing';
export * from './read-model';
export * from './fields';
