#!/usr/bin/env node
// Runs a TypeScript entry point of this repository with plain node: each .ts file is transpiled in memory by the
// TypeScript compiler (no type check: `npm run typecheck` does that) and `@spendops/<lib>` resolves to
// libs/<lib>/src. Usage: node scripts/pricing/run-ts.js scripts/pricing/generate-catalog.ts [args]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const ts = require('typescript');

const root = path.resolve(__dirname, '..', '..');
const originalResolve = Module._resolveFilename;
Module._resolveFilename = function resolveAlias(request, ...rest) {
  if (request.startsWith('@spendops/')) {
    const [lib, ...sub] = request.slice('@spendops/'.length).split('/');
    request = path.join(root, 'libs', lib, 'src', ...(sub.length ? sub : ['index']));
  }
  return originalResolve.call(this, request, ...rest);
};
require.extensions['.ts'] = (module, filename) => {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
    },
  });
  module._compile(outputText, filename);
};

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: node scripts/pricing/run-ts.js FILE.ts [args]\n');
  process.exit(2);
}
process.argv = [process.argv[0], path.resolve(entry), ...args];
require(path.resolve(entry));
