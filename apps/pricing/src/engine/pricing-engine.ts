// Prices one usage event: pure, given a catalog and an override set (docs/pricing.md §1, precedence).
import type { CostFields, CostSource, EndpointClass, ExtractedUsage, RequestMeta } from '@spendops/contracts';
import { Decimal, formatDecimal, isDecimalString, parseDecimal, roundCost, ZERO } from '@spendops/money';
import type { Catalog, ModelPrice } from '../catalog/catalog';
import { canonicalProvider } from '../catalog/provider-names';
import { computeCost, ratesFor, type BillableUsage, type Breakdown } from './cost';
import { OverrideSet, type CompiledOverride } from './overrides';

/** Token counting, model lists and batch creation/polls cost nothing by definition. */
export const NOT_BILLED_CLASSES: ReadonlySet<EndpointClass> = new Set(['count_tokens', 'models', 'batch']);

/** The request facts pricing reads. */
export type PricingMeta = Pick<RequestMeta, 'tenant_id' | 'provider' | 'http_status' | 'started_at_ms'> &
  Partial<Pick<RequestMeta, 'request_model'>>;

/** The full result of pricing one event (`price` returns its wire form). */
export interface Quote {
  notBilled: boolean;
  matched: boolean;
  pricingModel: string;
  pricingVersion: string;
  override?: CompiledOverride;
  breakdown: Breakdown;
  provider: Decimal | null;
  calculated: Decimal | null;
  total: Decimal | null;
  source: CostSource;
}

export class PricingEngine {
  constructor(
    private catalogInUse: Catalog,
    private overridesInUse: OverrideSet = OverrideSet.EMPTY,
  ) {}

  get catalog(): Catalog {
    return this.catalogInUse;
  }

  get overrides(): OverrideSet {
    return this.overridesInUse;
  }

  /** Swaps the catalog: events priced afterwards carry its version. */
  setCatalog(catalog: Catalog): void {
    this.catalogInUse = catalog;
  }

  setOverrides(overrides: OverrideSet): void {
    this.overridesInUse = overrides;
  }

  /** The cost fields of an event (exact decimal strings; null = unknown, never "0"). */
  price(meta: PricingMeta, usage: ExtractedUsage, overrides: OverrideSet = this.overridesInUse): CostFields {
    const q = this.quote(meta, usage, overrides);
    const str = (d: Decimal | null): string | null => (d === null ? null : formatDecimal(d));
    return {
      provider_cost: q.provider === null ? null : usage.provider_cost,
      calculated_cost: str(q.calculated),
      total_cost_usd: str(q.total),
      cost_source: q.source,
      pricing_matched: q.matched,
      pricing_model: q.pricingModel,
      pricing_version: q.pricingVersion,
    };
  }

  /**
   * Precedence of the total: (1) not-billed endpoints → 0; (2) a tenant override with its own rates (custom);
   * (3) the provider-reported cost (provider); (4) the catalog (standard); (5) unknown → null, none. A markup
   * applies to whichever of 2–4 gave the total and makes the source custom. The calculated cost is always
   * SpendOps' own figure, kept beside a provider cost.
   */
  quote(meta: PricingMeta, usage: ExtractedUsage, overrides: OverrideSet = this.overridesInUse): Quote {
    const cat = this.catalogInUse;
    const provider = canonicalProvider(meta.provider);
    const names = [usage.response_model, usage.model || meta.request_model || ''];
    // An event without a start time is priced as of now.
    const at = new Date(meta.started_at_ms > 0 ? meta.started_at_ms : Date.now());
    const q: Quote = {
      notBilled: false,
      matched: false,
      pricingModel: '',
      pricingVersion: cat.version,
      breakdown: { lines: [], total: ZERO, unpriced: '' },
      provider: parseProviderCost(usage.provider_cost),
      calculated: null,
      total: null,
      source: 'none',
    };
    let mp: ModelPrice | undefined;
    for (const n of names) {
      if (n && (mp = cat.lookup(provider, n, at))) break;
    }
    if (mp) {
      q.matched = true;
      q.pricingModel = mp.provider === provider ? mp.model.id : `${mp.provider}/${mp.model.id}`;
    }
    if (usage.not_billed || NOT_BILLED_CLASSES.has(usage.endpoint_class)) {
      return { ...q, notBilled: true, calculated: ZERO, total: ZERO, source: 'not_billed' };
    }
    const u = billableUsage(meta, usage);
    const o = overrides.match(meta.tenant_id, provider, names);
    if (o) {
      q.override = o;
      q.pricingVersion = `${cat.version}+ov${overrides.version}`;
    }
    if (o?.rates) {
      q.breakdown = computeCost(o.rates, [], u);
      q.matched = true;
      if (q.pricingModel === '') q.pricingModel = `override:${o.override.model}`;
    } else if (mp) {
      q.breakdown = computeCost(ratesFor(mp, usage.service_tier, u.prompt, at), mp.period.images, u);
    }
    if (q.matched && q.breakdown.unpriced === '') q.calculated = q.breakdown.total;
    if (o?.rates) {
      q.total = q.calculated;
      q.source = 'custom';
    } else if (q.provider) {
      q.total = q.provider;
      q.source = 'provider';
    } else if (q.calculated) {
      q.total = q.calculated;
      q.source = 'standard';
    }
    if (o?.factor) {
      const f = o.factor;
      q.calculated = q.calculated && roundCost(q.calculated.times(f));
      q.total = q.source === 'provider' ? q.total && roundCost(q.total.times(f)) : q.calculated;
      if (q.total) q.source = 'custom';
    }
    if (!q.total) q.source = 'none';
    return q;
  }
}

function parseProviderCost(v: string | null): Decimal | null {
  if (v === null || v === undefined || v === '') return null;
  if (!isDecimalString(v)) return null;
  return parseDecimal(v);
}

const count = (n: number): number => (Number.isFinite(n) ? n : 0);

/** The billable quantities of an event; an error status (≥ 400) is not charged a per-request fee. */
export function billableUsage(meta: Pick<RequestMeta, 'http_status'>, u: ExtractedUsage): BillableUsage {
  return {
    prompt: count(u.prompt_tokens),
    completion: count(u.completion_tokens),
    cacheRead: count(u.cache_read_tokens),
    cacheWrite: Math.max(
      count(u.cache_write_tokens),
      count(u.cache_write_5m_tokens) + count(u.cache_write_1h_tokens),
    ),
    cacheWrite1h: count(u.cache_write_1h_tokens),
    reasoning: count(u.reasoning_tokens),
    promptAudio: count(u.prompt_audio_tokens),
    promptImage: count(u.prompt_image_tokens),
    completionAudio: count(u.completion_audio_tokens),
    completionImage: count(u.completion_image_tokens),
    webSearches: count(u.web_search_requests),
    requests: meta.http_status >= 400 ? 0 : 1,
    imageCount: count(u.image_count),
    imageSize: u.image_size ?? '',
    imageQuality: u.image_quality ?? '',
    audioSeconds: u.audio_seconds && isDecimalString(u.audio_seconds) ? parseDecimal(u.audio_seconds) : ZERO,
    inputCharacters: count(u.input_characters),
  };
}
