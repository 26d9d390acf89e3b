export * from './usage';
export * from './keys';
export * from './topics';
