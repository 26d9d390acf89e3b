// Resolves the `@spendops/<lib>` path aliases of tsconfig.json in the compiled output (dist/), so the built
// CLI runs with plain `node` and no bundler. Imported first by every entry point.
import Module from 'node:module';
import * as path from 'node:path';

const distRoot = path.resolve(__dirname, '..', '..', '..');
type Resolve = (request: string, ...rest: unknown[]) => string;
const moduleWithResolver = Module as unknown as { _resolveFilename: Resolve };
const original = moduleWithResolver._resolveFilename;

moduleWithResolver._resolveFilename = function resolveAlias(request: string, ...rest: unknown[]): string {
  if (request.startsWith('@spendops/')) {
    const [lib, ...sub] = request.slice('@spendops/'.length).split('/');
    request = path.join(distRoot, 'libs', lib, 'src', ...(sub.length ? sub : ['index']));
  }
  return original.call(this, request, ...rest);
};
