export * from './key-format';
export * from './policy-defaults';
export * from './denial';
export * from './dims';
export * from './providers';
export * from './validate-policy';
export * from './evaluate';
export { type ModelRequest, type FoundModels, requestModels } from './request-models';
export { DEFAULT_MAX_DECODED_BYTES } from './body-decode';
