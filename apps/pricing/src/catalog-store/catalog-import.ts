// Merges a pricing dataset into a new catalog based on the one in force (docs/pricing.md, "Import"):
//  - a model new to the base is added with the imported prices;
//  - a model whose imported prices differ from its current ones gets a new period effective from today (UTC), so
//    history is kept; fields the dataset does not know (e.g. manual per-image prices) carry over;
//  - models the dataset lacks are kept (datasets are partial).
import { Catalog } from '../catalog/catalog';
import { findExact, keepModels } from '../catalog/build-catalog';
import { convertGenAI } from '../catalog/convert-genai';
import { convertLiteLLM } from '../catalog/convert-litellm';
import type { Period, ProviderFile } from '../catalog/schema';
import { diffCatalogs, samePeriod, type CatalogDiff } from './catalog-diff';

export const IMPORT_FORMATS = ['litellm', 'genai-prices'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export class UnknownImportFormatError extends Error {
  constructor(format: string) {
    super(`unknown pricing dataset format ${JSON.stringify(format)} (litellm or genai-prices)`);
    this.name = 'UnknownImportFormatError';
  }
}

export interface ImportResult {
  /** The merged catalog, version "import-<hash>" until stored. */
  catalog: Catalog;
  /** Base → merged, at the import time. */
  diff: CatalogDiff;
}

export function importCatalog(format: string, text: string, base: Catalog, now = new Date()): ImportResult {
  let files: ProviderFile[];
  if (format === 'litellm') files = convertLiteLLM(text);
  else if (format === 'genai-prices')
    files = convertGenAI(text).map((pf) => ({ ...pf, models: keepModels(pf.provider, pf.models) }));
  else throw new UnknownImportFormatError(format);
  const today = now.toISOString().slice(0, 10);
  const merged = new Map<string, ProviderFile>(
    structuredClone([...base.providers]).map((pf) => [pf.provider, pf]),
  );
  for (const incoming of files) {
    let pf = merged.get(incoming.provider);
    if (!pf) merged.set(incoming.provider, (pf = { provider: incoming.provider, models: [] }));
    for (const im of incoming.models) {
      const cur = findExact(pf, im.id);
      if (!cur) {
        pf.models.push({ ...im, source: format });
        continue;
      }
      if (cur.id.toLowerCase() !== im.id.toLowerCase()) continue; // an alias: the model's own entry decides
      const last = cur.prices[cur.prices.length - 1];
      const next = mergePeriod(last, im.prices[im.prices.length - 1]);
      if (samePeriod(last, next)) continue;
      next.effective_from = today;
      if ((last.effective_from ?? '') >= today) cur.prices[cur.prices.length - 1] = next;
      else cur.prices.push(next);
      cur.provenance = `${cur.provenance ?? ''}; import ${format} ${today}`;
    }
  }
  const hash = Catalog.fromProviders([...merged.values()]).version.slice('builtin-'.length);
  const catalog = Catalog.fromProviders([...merged.values()], `import-${hash}`);
  return { catalog, diff: diffCatalogs(base, catalog, now) };
}

/**
 * Lays an imported period over the current one: imported rates win field by field; tiers, windows and images
 * are replaced when the import has them; service tiers are merged by name.
 */
function mergePeriod(cur: Period, incoming: Period): Period {
  const out: Period = structuredClone(cur);
  out.rates = { ...cur.rates, ...defined(incoming.rates) };
  if (incoming.tiers?.length) out.tiers = structuredClone(incoming.tiers);
  if (incoming.time_windows?.length) out.time_windows = structuredClone(incoming.time_windows);
  if (incoming.service_tiers && Object.keys(incoming.service_tiers).length > 0)
    out.service_tiers = { ...cur.service_tiers, ...structuredClone(incoming.service_tiers) };
  if (incoming.images?.length) out.images = structuredClone(incoming.images);
  return out;
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
