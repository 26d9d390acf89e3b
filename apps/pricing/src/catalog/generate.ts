// Rebuilds apps/pricing/catalog/catalog.json from the public pricing references (scripts/pricing/generate-catalog.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildCatalog, serializeCatalog, type ManualEntries } from './build-catalog';
import { repoRoot } from './load';

export const GENERATED_BY =
  'scripts/pricing/generate-catalog.ts from shared/pricing-reference (genai-prices v2 data.json, LiteLLM model_prices_and_context_window.json) + apps/pricing/catalog/manual.json; do not edit by hand';

export interface GenerateOptions {
  /** The pricing-reference directory; default $SPENDOPS_SHARED_DIR/pricing-reference or ../shared/pricing-reference. */
  refDir?: string;
  manualPath?: string;
}

export function defaultRefDir(): string {
  const shared = process.env.SPENDOPS_SHARED_DIR ?? path.join(repoRoot(), '..', 'shared');
  return path.join(shared, 'pricing-reference');
}

export const CATALOG_PATH = (): string => path.join(repoRoot(), 'apps', 'pricing', 'catalog', 'catalog.json');
export const MANUAL_PATH = (): string => path.join(repoRoot(), 'apps', 'pricing', 'catalog', 'manual.json');

/** The catalog text the generator makes from the references (what catalog.json must contain). */
export function generateCatalogText(options: GenerateOptions = {}): {
  text: string;
  providers: number;
  models: number;
} {
  const ref = options.refDir ?? defaultRefDir();
  const genai = readFileSync(path.join(ref, 'genai-prices', 'prices', 'new_data', 'v2', 'data.json'), 'utf8');
  const litellm = readFileSync(path.join(ref, 'litellm', 'model_prices_and_context_window.json'), 'utf8');
  const manual = JSON.parse(readFileSync(options.manualPath ?? MANUAL_PATH(), 'utf8')) as ManualEntries;
  const providers = buildCatalog(genai, litellm, manual);
  return {
    text: serializeCatalog(providers, GENERATED_BY),
    providers: providers.length,
    models: providers.reduce((n, p) => n + p.models.length, 0),
  };
}

export function writeCatalog(options: GenerateOptions & { out?: string } = {}): string {
  const { text, providers, models } = generateCatalogText(options);
  const out = options.out ?? CATALOG_PATH();
  writeFileSync(out, text);
  return `wrote ${providers} providers, ${models} models to ${out}`;
}
