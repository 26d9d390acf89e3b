// Finds and reads the committed catalog (apps/pricing/catalog/catalog.json) from source or from dist/.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Catalog } from './catalog';
import type { CatalogDocument } from './schema';

const CATALOG_IN_REPO = path.join('apps', 'pricing', 'catalog', 'catalog.json');

/** The repository root: the nearest directory above this file holding apps/pricing/catalog/catalog.json. */
export function repoRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, CATALOG_IN_REPO))) return dir;
    if (path.dirname(dir) === dir)
      throw new Error(`pricing: ${CATALOG_IN_REPO} not found above ${__dirname}`);
  }
}

/** Path of the built-in catalog; SPENDOPS_PRICING_CATALOG overrides it. */
export function builtinCatalogPath(): string {
  return process.env.SPENDOPS_PRICING_CATALOG ?? path.join(repoRoot(), CATALOG_IN_REPO);
}

let builtin: Catalog | undefined;

/** The built-in catalog, read once; its version is "builtin-" + 12 hex of the SHA-256 of its price data. */
export function loadBuiltinCatalog(): Catalog {
  builtin ??= Catalog.fromDocument(JSON.parse(readFileSync(builtinCatalogPath(), 'utf8')) as CatalogDocument);
  return builtin;
}
