export * from './definitions';
export * from './registry';
export * from './route';
export * from './headers';
export * from './inject';
export * from './strip';
export * from './end-marker';
