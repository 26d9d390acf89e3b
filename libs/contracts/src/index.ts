export * from './usage';
export * from './keys';
export * from './topics';
export * from './authorizer';
