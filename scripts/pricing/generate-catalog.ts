// Rebuilds the committed price catalog (apps/pricing/catalog/catalog.json) from shared/pricing-reference.
//
//   node scripts/pricing/run-ts.js scripts/pricing/generate-catalog.ts [--ref DIR] [--out FILE] [--manual FILE]
//
// Then run `npx jest apps/pricing`, review `git diff apps/pricing/catalog`, and commit.
import { execFileSync } from 'node:child_process';
import { CATALOG_PATH, writeCatalog } from '../../apps/pricing/src/catalog/generate';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

try {
  const out = arg('--out') ?? CATALOG_PATH();
  const message = writeCatalog({ refDir: arg('--ref'), out, manualPath: arg('--manual') });
  // The repository's formatter has the last word on layout; the test compares content, not bytes.
  execFileSync(process.execPath, [require.resolve('prettier/bin/prettier.cjs'), '--write', out], {
    stdio: 'ignore',
  });
  process.stdout.write(message + '\n');
} catch (err) {
  process.stderr.write(`generate-catalog: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
