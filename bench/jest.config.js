// The bench runner's own unit specs (test/bench/**/*.spec.ts): `npx jest -c bench/jest.config.js`.
// The root jest.config.js's unit project matches apps/ and libs/ only.
const { join } = require('node:path');
const { compilerOptions } = require('../tsconfig.json');

const root = join(__dirname, '..');
module.exports = {
  rootDir: root,
  displayName: 'bench',
  testMatch: ['<rootDir>/test/bench/**/*.spec.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
  moduleNameMapper: Object.fromEntries(
    Object.entries(compilerOptions.paths).map(([alias, [target]]) => [`^${alias}$`, `<rootDir>/${target}`]),
  ),
  testEnvironment: 'node',
};
