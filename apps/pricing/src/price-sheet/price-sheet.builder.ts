// The reservation price sheet: per model the most a token can cost (input and output side) and the per-request
// fee, as upper bounds over everything the engine could apply, so a proxy can reserve a request's maximum cost
// without pricing it (docs/budgets-enforcement.md, "Price sheet").
import type {
  PriceSheetOverride,
  PriceSheetProvider,
  PriceSheetV1,
  ReservationPrice,
} from '@spendops/contracts';
import type { Decimal } from '@spendops/money';
import type { Catalog } from '../catalog/catalog';
import {
  compileModel,
  compileRates,
  compileServiceTiers,
  type CompiledPeriod,
  type CompiledServiceTier,
  type DecimalRates,
} from '../catalog/compiled';
import { PROVIDER_ALIASES, PROVIDER_MODEL_PREFIXES } from '../catalog/provider-names';
import type { CatalogModel } from '../catalog/schema';
import type { OverrideSet } from '../engine/overrides';

const PER_TOKEN = 1_000_000;
/** Rates that bill prompt-side tokens (`input_mchars` is per million characters: a byte is at most one). */
const INPUT_FIELDS = [
  'input',
  'cache_read',
  'cache_write',
  'cache_write_1h',
  'input_audio',
  'input_image',
] as const;
const OUTPUT_FIELDS = ['output', 'reasoning', 'output_audio', 'output_image'] as const;

/** Element-wise maximum. */
export function maxPrice(a: ReservationPrice, b: ReservationPrice): ReservationPrice {
  return [Math.max(a[0], b[0]), Math.max(a[1], b[1]), Math.max(a[2], b[2])];
}

const num = (d: Decimal | undefined): number => (d === undefined ? 0 : d.toNumber());

/** The upper bounds of one rate set (USD per token, USD per request). */
export function priceOfRates(r: DecimalRates): ReservationPrice {
  let input = num(r.input_mchars);
  for (const f of INPUT_FIELDS) input = Math.max(input, num(r[f]));
  let output = 0;
  for (const f of OUTPUT_FIELDS) output = Math.max(output, num(r[f]));
  return [input / PER_TOKEN, output / PER_TOKEN, num(r.request)];
}

/** Every rate set a request could be billed under in this period, times the largest service-tier multiplier. */
function priceOfPeriod(p: CompiledPeriod, providerTiers: Map<string, CompiledServiceTier>): ReservationPrice {
  let price = priceOfRates(p.rates);
  const sets: DecimalRates[] = [...p.windows.map((w) => w.rates), ...p.tiers.map((t) => t.rates)];
  let factor = 1;
  for (const st of [...p.serviceTiers.values(), ...providerTiers.values()]) {
    if (st.multiplier) factor = Math.max(factor, st.multiplier.toNumber());
    sets.push(st.rates, ...st.tiers.map((t) => t.rates));
  }
  for (const r of sets) price = maxPrice(price, priceOfRates(r));
  // Per-image prices (image generation endpoints) count as a per-request fee for one image.
  for (const image of p.images) price = maxPrice(price, [0, 0, image.price.toNumber()]);
  return [price[0] * factor, price[1] * factor, price[2] * factor];
}

/** The most the model can cost per unit now or later: every period in force at `now` or after it. */
export function priceOfModel(
  model: CatalogModel,
  providerTiers: Map<string, CompiledServiceTier>,
  now: Date,
): ReservationPrice {
  const day = now.toISOString().slice(0, 10);
  const periods = compileModel(model).periods;
  let current = 0;
  periods.forEach((p, i) => {
    if (p.effectiveFrom === '' || p.effectiveFrom <= day) current = i;
  });
  let price: ReservationPrice = [0, 0, 0];
  for (const p of periods.slice(current)) price = maxPrice(price, priceOfPeriod(p, providerTiers));
  return price;
}

/** The sheet of a catalog and an override set, as of `now`. */
export function buildPriceSheet(catalog: Catalog, overrides: OverrideSet, now = new Date()): PriceSheetV1 {
  const providers: Record<string, PriceSheetProvider> = {};
  let fallback: ReservationPrice = [0, 0, 0];
  for (const pf of catalog.providers) {
    const tiers = compileServiceTiers(pf.service_tiers);
    const sheet: PriceSheetProvider = {
      models: {},
      prefixes: [],
      patterns: [],
      name_prefixes: [...(PROVIDER_MODEL_PREFIXES[pf.provider] ?? [])],
      fallback: [0, 0, 0],
    };
    for (const m of pf.models) {
      const price = priceOfModel(m, tiers, now);
      for (const name of [m.id, ...(m.aliases ?? [])]) {
        const k = name.toLowerCase();
        if (!(k in sheet.models)) sheet.models[k] = price;
      }
      for (const p of m.prefixes ?? []) sheet.prefixes.push([p.toLowerCase(), price]);
      for (const p of m.patterns ?? []) sheet.patterns.push([p, price]);
      sheet.fallback = maxPrice(sheet.fallback, price);
    }
    sheet.prefixes.sort((a, b) => b[0].length - a[0].length);
    providers[pf.provider] = sheet;
    fallback = maxPrice(fallback, sheet.fallback);
  }
  return {
    version: `${catalog.version}+ov${overrides.version}`,
    generated_at: now.toISOString(),
    provider_aliases: { ...PROVIDER_ALIASES },
    providers,
    overrides: overrides.items.map((o) => {
      const out: PriceSheetOverride = { tenant_id: o.tenant_id, provider: o.provider ?? '', model: o.model };
      const rates = compileRates(o.rates);
      if (Object.keys(rates).length > 0) out.price = priceOfRates(rates);
      if (o.markup_pct !== undefined) out.factor = 1 + Number(o.markup_pct) / 100;
      return out;
    }),
    fallback,
  };
}
