// The reservation price sheet: per model the most a token can cost (input and output side) and the per-request
// fee, as upper bounds over everything the engine could apply, so a proxy can reserve a request's maximum cost
// without pricing it (docs/budgets-enforcement.md, "Price sheet").
import type {
  PriceSheetOverride,
  PriceSheetProvider,
  PriceSheetV1,
  ReservationPrice,
} from '@spendops/contracts';
import { Decimal, formatDecimal, parseDecimal, ZERO } from '@spendops/money';
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

/** Input and output maxima per million tokens and the fee maximum, exact (divided once, on the wire). */
type Bound = [Decimal, Decimal, Decimal];
const NONE: Bound = [ZERO, ZERO, ZERO];
const ONE = new Decimal(1);

/** The larger of two (compared, never copied: a sheet compares a few hundred thousand rates). */
const larger = (a: Decimal, b: Decimal | undefined): Decimal => (b !== undefined && b.gt(a) ? b : a);

/** Element-wise maximum. */
function maxBound(a: Bound, b: Bound): Bound {
  return [larger(a[0], b[0]), larger(a[1], b[1]), larger(a[2], b[2])];
}

function wire(b: Bound): ReservationPrice {
  return [
    formatDecimal(b[0].dividedBy(PER_TOKEN)),
    formatDecimal(b[1].dividedBy(PER_TOKEN)),
    formatDecimal(b[2]),
  ];
}

/** The upper bounds of one rate set (USD per million tokens, USD per request). */
function boundOfRates(r: DecimalRates): Bound {
  let input = larger(ZERO, r.input_mchars);
  for (const f of INPUT_FIELDS) input = larger(input, r[f]);
  let output = ZERO;
  for (const f of OUTPUT_FIELDS) output = larger(output, r[f]);
  return [input, output, larger(ZERO, r.request)];
}

/** The upper bounds of one rate set, as the sheet carries them. */
export function priceOfRates(r: DecimalRates): ReservationPrice {
  return wire(boundOfRates(r));
}

/** Every rate set a request could be billed under in this period, times the largest service-tier multiplier. */
function boundOfPeriod(p: CompiledPeriod, providerTiers: Map<string, CompiledServiceTier>): Bound {
  let bound = boundOfRates(p.rates);
  const sets: DecimalRates[] = [...p.windows.map((w) => w.rates), ...p.tiers.map((t) => t.rates)];
  let factor = ONE;
  for (const st of [...p.serviceTiers.values(), ...providerTiers.values()]) {
    factor = larger(factor, st.multiplier);
    sets.push(st.rates, ...st.tiers.map((t) => t.rates));
  }
  for (const r of sets) bound = maxBound(bound, boundOfRates(r));
  // Per-image prices (image generation endpoints) count as a per-request fee for one image.
  for (const image of p.images) bound = maxBound(bound, [ZERO, ZERO, image.price]);
  return factor === ONE ? bound : [bound[0].times(factor), bound[1].times(factor), bound[2].times(factor)];
}

/** The most the model can cost per unit now or later: every period in force at `now` or after it. */
export function priceOfModel(
  model: CatalogModel,
  providerTiers: Map<string, CompiledServiceTier>,
  now: Date,
): ReservationPrice {
  return wire(boundOfModel(model, providerTiers, now));
}

function boundOfModel(
  model: CatalogModel,
  providerTiers: Map<string, CompiledServiceTier>,
  now: Date,
): Bound {
  const day = now.toISOString().slice(0, 10);
  const periods = compileModel(model).periods;
  let current = 0;
  periods.forEach((p, i) => {
    if (p.effectiveFrom === '' || p.effectiveFrom <= day) current = i;
  });
  let bound = NONE;
  for (const p of periods.slice(current)) bound = maxBound(bound, boundOfPeriod(p, providerTiers));
  return bound;
}

interface CatalogPart {
  day: string;
  providers: Record<string, PriceSheetProvider>;
  fallback: ReservationPrice;
}
/** The catalog's part of the sheet by catalog and UTC day: an override change rebuilds only the overrides. */
const catalogParts = new WeakMap<Catalog, CatalogPart>();

/** The sheet of a catalog and an override set, as of `now`. */
export function buildPriceSheet(catalog: Catalog, overrides: OverrideSet, now = new Date()): PriceSheetV1 {
  const day = now.toISOString().slice(0, 10);
  let part = catalogParts.get(catalog);
  if (part?.day !== day) {
    part = { day, ...catalogPart(catalog, now) };
    catalogParts.set(catalog, part);
  }
  return {
    version: `${catalog.version}+ov${overrides.version}`,
    generated_at: now.toISOString(),
    provider_aliases: { ...PROVIDER_ALIASES },
    providers: part.providers,
    overrides: overrides.items.map((o) => {
      const out: PriceSheetOverride = { tenant_id: o.tenant_id, provider: o.provider ?? '', model: o.model };
      const rates = compileRates(o.rates);
      if (Object.keys(rates).length > 0) out.price = priceOfRates(rates);
      if (o.markup_pct !== undefined) {
        out.factor = formatDecimal(new Decimal(1).plus(parseDecimal(o.markup_pct).dividedBy(100)));
      }
      return out;
    }),
    fallback: part.fallback,
  };
}

function catalogPart(catalog: Catalog, now: Date): Omit<CatalogPart, 'day'> {
  const providers: Record<string, PriceSheetProvider> = {};
  let fallback = NONE;
  for (const pf of catalog.providers) {
    const tiers = compileServiceTiers(pf.service_tiers);
    const sheet: PriceSheetProvider = {
      models: {},
      prefixes: [],
      patterns: [],
      name_prefixes: [...(PROVIDER_MODEL_PREFIXES[pf.provider] ?? [])],
      fallback: wire(NONE),
    };
    let providerMax = NONE;
    for (const m of pf.models) {
      const bound = boundOfModel(m, tiers, now);
      const price = wire(bound);
      for (const name of [m.id, ...(m.aliases ?? [])]) {
        const k = name.toLowerCase();
        if (!(k in sheet.models)) sheet.models[k] = price;
      }
      for (const p of m.prefixes ?? []) sheet.prefixes.push([p.toLowerCase(), price]);
      for (const p of m.patterns ?? []) sheet.patterns.push([p, price]);
      providerMax = maxBound(providerMax, bound);
    }
    sheet.prefixes.sort((a, b) => b[0].length - a[0].length);
    sheet.fallback = wire(providerMax);
    providers[pf.provider] = sheet;
    fallback = maxBound(fallback, providerMax);
  }
  return { providers, fallback: wire(fallback) };
}
