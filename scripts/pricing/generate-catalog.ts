// Rebuilds the committed price catalog (apps/pricing/catalog/catalog.json) from shared/pricing-reference.
//
//   node scripts/pricing/run-ts.js scripts/pricing/generate-catalog.ts [--ref DIR] [--out FILE] [--manual FILE]
//
// Then run `npx jest apps/pricing`, review `git diff apps/pricing/catalog`, and commit.
import { writeCatalog } from '../../apps/pricing/src/catalog/generate';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

try {
  const message = writeCatalog({ refDir: arg('--ref'), out: arg('--out'), manualPath: arg('--manual') });
  process.stdout.write(message + '\n');
} catch (err) {
  process.stderr.write(`generate-catalog: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
