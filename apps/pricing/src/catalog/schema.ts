// The catalog file format (apps/pricing/catalog/catalog.json), docs/pricing.md §2. Every price is a decimal
// string; token rates are USD per 1,000,000 tokens, the others say their unit.

export const RATE_FIELDS = [
  'input',
  'cache_read',
  'cache_write',
  'cache_write_1h',
  'output',
  'reasoning',
  'input_audio',
  'output_audio',
  'input_image',
  'output_image',
  'web_search',
  'request',
  'audio_second',
  'input_mchars',
] as const;
export type RateField = (typeof RATE_FIELDS)[number];

/** An absent rate means "no separate price": a token subset falls back to its parent, a fee costs nothing. */
export type Rates = Partial<Record<RateField, string>>;

/** Long-context cliff: above this many input tokens (uncached + cache read + write) the whole request uses these rates. */
export interface Tier {
  above_input_tokens: number;
  rates: Rates;
}

/** Batch / flex / priority: standard rates × multiplier, then these rates and tiers replace fields. */
export interface ServiceTier {
  multiplier?: string;
  rates?: Rates;
  tiers?: Tier[];
}

/** Daily UTC window ("HH:MM[:SS]") with its own rates; end before start wraps past midnight. */
export interface TimeWindow {
  start: string;
  end: string;
  rates: Rates;
}

/** Price of one generated image; empty size or quality matches any. */
export interface ImagePrice {
  size?: string;
  quality?: string;
  price: string;
}

/** Prices in force from a UTC date (absent = since always) until the next period. */
export interface Period {
  effective_from?: string;
  rates: Rates;
  tiers?: Tier[];
  time_windows?: TimeWindow[];
  service_tiers?: Record<string, ServiceTier>;
  images?: ImagePrice[];
}

export type ModelKind = 'chat' | 'embedding' | 'image' | 'audio' | 'moderation' | 'other';

export interface CatalogModel {
  id: string;
  kind?: string;
  aliases?: string[];
  prefixes?: string[];
  /** Regular expressions, compared case-insensitively; anchored by their author. */
  patterns?: string[];
  /** genai-prices, litellm, manual, or a "+"-joined combination. */
  source: string;
  provenance?: string;
  prices: Period[];
}

export interface ProviderFile {
  provider: string;
  service_tiers?: Record<string, ServiceTier>;
  models: CatalogModel[];
}

export interface CatalogDocument {
  schema_version: 1;
  /** How to rebuild it; the file is generated, never edited by hand. */
  generated_by: string;
  providers: ProviderFile[];
}
