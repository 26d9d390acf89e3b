export * from './mock-provider';
export * from './postgres';
export * from './rabbitmq';
export * from './scripted-upstream';
export * from './bus-capture';
export * from './priced-usage';
export * from './postgres-module';
export * from './test-database';
