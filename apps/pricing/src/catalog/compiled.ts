// Catalog prices turned into Decimals once, at load, so pricing an event parses nothing.
import { Decimal, parseDecimal } from '@spendops/money';
import {
  RATE_FIELDS,
  type CatalogModel,
  type ImagePrice,
  type Period,
  type RateField,
  type Rates,
  type ServiceTier,
} from './schema';

export type DecimalRates = Partial<Record<RateField, Decimal>>;

export interface CompiledTier {
  above: number;
  rates: DecimalRates;
}

export interface CompiledServiceTier {
  multiplier?: Decimal;
  rates: DecimalRates;
  tiers: CompiledTier[];
}

export interface CompiledWindow {
  start: number;
  end: number;
  rates: DecimalRates;
}

export interface CompiledImage {
  size: string;
  quality: string;
  price: Decimal;
}

export interface CompiledPeriod {
  effectiveFrom: string;
  rates: DecimalRates;
  tiers: CompiledTier[];
  windows: CompiledWindow[];
  serviceTiers: Map<string, CompiledServiceTier>;
  images: CompiledImage[];
  source: Period;
}

export interface CompiledModel {
  model: CatalogModel;
  periods: CompiledPeriod[];
}

export function compileRates(r: Rates | undefined): DecimalRates {
  const out: DecimalRates = {};
  if (!r) return out;
  for (const f of RATE_FIELDS) {
    const v = r[f];
    if (v !== undefined) out[f] = parseDecimal(v);
  }
  return out;
}

export function compileServiceTiers(
  m: Record<string, ServiceTier> | undefined,
): Map<string, CompiledServiceTier> {
  const out = new Map<string, CompiledServiceTier>();
  for (const [name, st] of Object.entries(m ?? {})) {
    out.set(name, {
      multiplier: st.multiplier !== undefined ? parseDecimal(st.multiplier) : undefined,
      rates: compileRates(st.rates),
      tiers: (st.tiers ?? []).map((t) => ({ above: t.above_input_tokens, rates: compileRates(t.rates) })),
    });
  }
  return out;
}

export function compileImages(images: ImagePrice[] | undefined): CompiledImage[] {
  return (images ?? []).map((i) => ({
    size: i.size ?? '',
    quality: i.quality ?? '',
    price: parseDecimal(i.price),
  }));
}

/** "HH:MM" or "HH:MM:SS" (optionally with "Z") → seconds since midnight; undefined when malformed. */
export function clockSeconds(s: string): number | undefined {
  const m = /^(\d{2}):(\d{2})(?::(\d{2}))?Z?$/.exec(s);
  if (!m) return undefined;
  const [h, min, sec] = [Number(m[1]), Number(m[2]), Number(m[3] ?? '0')];
  if (h > 23 || min > 59 || sec > 59) return undefined;
  return h * 3600 + min * 60 + sec;
}

export function compileModel(model: CatalogModel): CompiledModel {
  return {
    model,
    periods: model.prices.map((p) => ({
      effectiveFrom: p.effective_from ?? '',
      rates: compileRates(p.rates),
      tiers: (p.tiers ?? []).map((t) => ({ above: t.above_input_tokens, rates: compileRates(t.rates) })),
      windows: (p.time_windows ?? []).map((w) => ({
        start: clockSeconds(w.start) ?? 0,
        end: clockSeconds(w.end) ?? 0,
        rates: compileRates(w.rates),
      })),
      serviceTiers: compileServiceTiers(p.service_tiers),
      images: compileImages(p.images),
      source: p,
    })),
  };
}
