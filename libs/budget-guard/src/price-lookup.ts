// A model's reservation price from the price sheet pricing publishes: the catalog's name resolution (exact id or
// alias, pattern, longest prefix, then without a date or version suffix), the provider's most expensive model for
// a name it does not know, and the tenant's most specific override on top, as the pricing engine applies them.
import type {
  PriceSheetOverride,
  PriceSheetProvider,
  PriceSheetV1,
  ReservationPrice,
} from '@spendops/contracts';

/** USD per input token, per output token, per request, as numbers: the reservation is an estimate. */
export type UsdPrice = [input: number, output: number, request: number];

const toNumbers = (p: ReservationPrice): UsdPrice => [
  Number(p[0]) || 0,
  Number(p[1]) || 0,
  Number(p[2]) || 0,
];

const DATE_SUFFIX = /(-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-latest|-\d{3,4}|-v\d+(:\d+)?)$/i;
const CACHE_LIMIT = 20_000;

interface CompiledProvider {
  sheet: PriceSheetProvider;
  patterns: { re: RegExp; price: ReservationPrice }[];
}

interface CompiledOverride {
  o: PriceSheetOverride;
  re: RegExp;
  specificity: number;
}

function compileOverride(o: PriceSheetOverride): CompiledOverride {
  const pattern = o.model
    .toLowerCase()
    .split('*')
    .map((p) => p.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&'))
    .join('.*');
  // The pricing engine's order: a named tenant, then a named provider, then an exact model, then the longer.
  let specificity = o.model.length;
  if (o.tenant_id !== '*') specificity += 1 << 20;
  if (o.provider) specificity += 1 << 19;
  if (!o.model.includes('*')) specificity += 1 << 18;
  return { o, re: new RegExp(`^${pattern}$`, 's'), specificity };
}

export class PriceLookup {
  private readonly providers = new Map<string, CompiledProvider>();
  private readonly overrides: CompiledOverride[];
  private readonly cache = new Map<string, UsdPrice>();

  constructor(readonly sheet: PriceSheetV1) {
    for (const [name, p] of Object.entries(sheet.providers)) {
      const patterns: CompiledProvider['patterns'] = [];
      for (const [source, price] of p.patterns) {
        try {
          patterns.push({ re: new RegExp(source, 'i'), price });
        } catch {
          // a pattern this runtime cannot compile: its names fall back to the provider's maximum
        }
      }
      this.providers.set(name, { sheet: p, patterns });
    }
    this.overrides = sheet.overrides.map(compileOverride);
  }

  get version(): string {
    return this.sheet.version;
  }

  /** USD per input token, per output token, per request: an upper bound for this tenant, provider and model. */
  priceFor(tenant: string, provider: string, model: string): UsdPrice {
    const key = `${tenant}\u0000${provider}\u0000${model}`;
    let price = this.cache.get(key);
    if (price === undefined) {
      price = this.compute(tenant, provider, model);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(key, price);
    }
    return price;
  }

  private compute(tenant: string, provider: string, model: string): UsdPrice {
    const canonical = this.sheet.provider_aliases[provider] ?? provider;
    const p = this.providers.get(canonical);
    const o = this.override(tenant, canonical, model);
    const price = toNumbers(
      o?.o.price ?? (p && resolve(p, model)) ?? p?.sheet.fallback ?? this.sheet.fallback,
    );
    const f = o?.o.factor === undefined ? 1 : Number(o.o.factor);
    return f === 1 || !Number.isFinite(f) ? price : [price[0] * f, price[1] * f, price[2] * f];
  }

  private override(tenant: string, provider: string, model: string): CompiledOverride | undefined {
    if (model === '') return undefined;
    const name = model.toLowerCase();
    let best: CompiledOverride | undefined;
    for (const c of this.overrides) {
      if (c.o.tenant_id !== '*' && c.o.tenant_id !== tenant) continue;
      if (c.o.provider && c.o.provider !== provider) continue;
      if (!c.re.test(name)) continue;
      if (!best || c.specificity > best.specificity) best = c;
    }
    return best;
  }
}

function resolve(p: CompiledProvider, model: string): ReservationPrice | undefined {
  const name = model.trim().toLowerCase();
  if (name === '') return undefined;
  const cands = [name];
  if (name.startsWith('models/')) cands.push(name.slice('models/'.length));
  for (const prefix of p.sheet.name_prefixes) {
    for (const c of [...cands])
      if (c.startsWith(prefix) && c.length > prefix.length) cands.push(c.slice(prefix.length));
  }
  for (const c of cands) {
    const hit = match(p, c);
    if (hit) return hit;
  }
  for (const c of cands) {
    const s = c.replace(DATE_SUFFIX, '');
    if (s !== c && s !== '') {
      const hit = match(p, s);
      if (hit) return hit;
    }
  }
  return undefined;
}

function match(p: CompiledProvider, name: string): ReservationPrice | undefined {
  const exact = Object.prototype.hasOwnProperty.call(p.sheet.models, name) ? p.sheet.models[name] : undefined;
  if (exact) return exact;
  for (const { re, price } of p.patterns) if (re.test(name)) return price;
  for (const [prefix, price] of p.sheet.prefixes) if (name.startsWith(prefix)) return price;
  return undefined;
}
