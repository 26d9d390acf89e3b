// Tenant price overrides (docs/pricing.md §6): own flat rates for models matching a pattern, a markup or
// discount percent, or both. Immutable, versioned sets; every change makes a new version.
import { Decimal, isDecimalString, parseDecimal } from '@spendops/money';
import { compileRates, type DecimalRates } from '../catalog/compiled';
import { RATE_FIELDS, type Rates } from '../catalog/schema';

export interface PriceOverride {
  id: number;
  /** The tenant it applies to; "*" = every tenant. */
  tenant_id: string;
  /** One provider, or '' / undefined for any. */
  provider?: string;
  /** Exact model name or a pattern with "*" wildcards ("gpt-4o*", "*"), case-insensitive. */
  model: string;
  rates?: Rates;
  /** "10" = +10 %, "-15" = 15 % discount; above -100. */
  markup_pct?: string;
  note?: string;
  created_at: string;
}

/** Why an override cannot be stored, or null when it is valid. */
export function overrideProblem(o: Partial<PriceOverride>): string | null {
  if (typeof o.tenant_id !== 'string' || o.tenant_id.trim() === '')
    return 'tenant_id is required (use "*" for all tenants)';
  if (typeof o.model !== 'string' || o.model.trim() === '')
    return 'model is required (use "*" for all models)';
  if (o.provider !== undefined && typeof o.provider !== 'string') return 'provider must be a string';
  const rates = o.rates ?? {};
  if (typeof rates !== 'object' || rates === null || Array.isArray(rates)) return 'rates must be an object';
  for (const [k, v] of Object.entries(rates)) {
    if (!(RATE_FIELDS as readonly string[]).includes(k)) return `rates.${k} is not a rate`;
    if (typeof v !== 'string' || !isDecimalString(v)) return `rates.${k} must be a decimal string`;
    if (parseDecimal(v).isNegative()) return `rates.${k} is negative`;
  }
  const hasRates = Object.keys(rates).length > 0;
  if (!hasRates && o.markup_pct === undefined) return 'an override needs rates, markup_pct or both';
  if (o.markup_pct !== undefined) {
    if (typeof o.markup_pct !== 'string' || !isDecimalString(o.markup_pct))
      return 'markup_pct must be a decimal string';
    if (parseDecimal(o.markup_pct).lessThanOrEqualTo(-100)) return 'markup_pct must be above -100';
  }
  return null;
}

export interface CompiledOverride {
  override: PriceOverride;
  /** Own rates, undefined when the override only marks up. */
  rates?: DecimalRates;
  /** 1 + markup/100, undefined without a markup. */
  factor?: Decimal;
  re: RegExp;
  specificity: number;
}

function compile(o: PriceOverride): CompiledOverride {
  const pattern = o.model
    .toLowerCase()
    .split('*')
    .map((p) => p.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&'))
    .join('.*');
  const rates = compileRates(o.rates);
  // A named tenant beats "*", a named provider beats any, an exact model beats a pattern, longer beats shorter.
  let specificity = o.model.length;
  if (o.tenant_id !== '*') specificity += 1 << 20;
  if (o.provider) specificity += 1 << 19;
  if (!o.model.includes('*')) specificity += 1 << 18;
  return {
    override: o,
    rates: Object.keys(rates).length > 0 ? rates : undefined,
    factor:
      o.markup_pct !== undefined ? new Decimal(1).plus(parseDecimal(o.markup_pct).dividedBy(100)) : undefined,
    re: new RegExp(`^${pattern}$`, 's'),
    specificity,
  };
}

export class OverrideSet {
  static readonly EMPTY = new OverrideSet(0, []);
  private readonly compiled: CompiledOverride[];

  /** `version` 0 = no override ever stored. */
  constructor(
    readonly version: number,
    readonly items: readonly PriceOverride[],
  ) {
    this.compiled = items.map(compile);
  }

  /** The most specific override for a tenant, a (canonical) provider and any of the model names. */
  match(tenant: string, provider: string, models: readonly string[]): CompiledOverride | undefined {
    let best: CompiledOverride | undefined;
    for (const c of this.compiled) {
      const o = c.override;
      if (o.tenant_id !== '*' && o.tenant_id !== tenant) continue;
      if (o.provider && o.provider !== provider) continue;
      if (!models.some((m) => m !== '' && c.re.test(m.toLowerCase()))) continue;
      if (!best || c.specificity > best.specificity) best = c;
    }
    return best;
  }
}
