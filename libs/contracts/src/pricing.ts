// Request/reply shapes of the pricing service's bus commands (Commands.pricing*), used by the admin API.
// Prices are decimal strings; token rates are USD per 1,000,000 tokens (docs/pricing.md §2).

/** Rates by field: input, cache_read, cache_write, cache_write_1h, output, reasoning, input_audio, output_audio,
 * input_image, output_image (USD/1M tokens), web_search, request (USD each), audio_second, input_mchars. */
export type PriceRates = Partial<Record<string, string>>;

export interface PricePeriodView {
  effective_from?: string;
  rates: PriceRates;
  tiers?: { above_input_tokens: number; rates: PriceRates }[];
  time_windows?: { start: string; end: string; rates: PriceRates }[];
  service_tiers?: Record<
    string,
    { multiplier?: string; rates?: PriceRates; tiers?: { above_input_tokens: number; rates: PriceRates }[] }
  >;
  images?: { size?: string; quality?: string; price: string }[];
}

export interface PriceExpenseView {
  /** max(input, output) USD per 1M tokens. */
  cost_score: string;
  tier: '$' | '$$' | '$$$';
  warn: boolean;
}

export interface PricedModelView {
  provider: string;
  model: string;
  kind?: string;
  source: string;
  /** The period in force now. */
  current: PricePeriodView;
  expense?: PriceExpenseView;
  /** Only in `pricing.model.get`. */
  provenance?: string;
  aliases?: string[];
  prices?: PricePeriodView[];
}

/** `pricing.models.list` request. */
export interface PricingModelsListRequest {
  provider?: string;
}

export interface PricingModelsListResponse {
  version: string;
  overrides_version: number;
  expense_bounds: { budget_max: string; premium_min: string; warn_from: string; warn_factor: string };
  models: PricedModelView[];
}

/** `pricing.model.get` request: a model name as a request would send it. */
export interface PricingModelGetRequest {
  model: string;
  provider?: string;
}

/** `models` empty = no price for that name. */
export interface PricingModelGetResponse {
  version: string;
  models: PricedModelView[];
}

export interface UnpricedModelView {
  provider: string;
  model: string;
  events: number;
  /** Of those events, how many still had a cost (provider-reported). */
  cost_known: number;
  /** First and last event time (RFC 3339), when listed from the ledger's read model. */
  first_seen?: string;
  last_seen?: string;
}

/** `pricing.unpriced.list`: models seen without a price since the pricing service started, busiest first. */
export interface PricingUnpricedListResponse {
  models: UnpricedModelView[];
  /** `read_model`: every stored event (durable); `memory`: since this pricing instance started. */
  source?: 'read_model' | 'memory';
}

export interface PriceOverrideView {
  id: number;
  tenant_id: string;
  provider?: string;
  model: string;
  rates?: PriceRates;
  markup_pct?: string;
  note?: string;
  created_at: string;
}

/** `pricing.overrides.add` request (id and created_at are assigned). */
export type PricingOverrideAddRequest = Omit<PriceOverrideView, 'id' | 'created_at'> & {
  /** Who asks (audit of the re-pricing the change starts); not stored on the override. */
  actor?: string;
};

/** Reply of `pricing.overrides.list`, `.add` and `.delete` (`{ id }`): the override set after the command. */
export interface PricingOverridesResponse {
  version: number;
  overrides: PriceOverrideView[];
  /** After an add or delete: the re-pricing of unpriced events the change started. */
  repriced?: PricingRepriceResponse;
}

/**
 * `pricing.reprice` request: price stored events again with the prices in force now. `unpriced_only` selects
 * events without a cost (`from`/`to` optional); otherwise `from` and `to` are required.
 */
export interface PricingRepriceRequest {
  /** RFC 3339, inclusive. */
  from?: string;
  /** RFC 3339, exclusive. */
  to?: string;
  /** Request or response model. */
  model?: string;
  provider?: string;
  unpriced_only?: boolean;
  /** Who asks (audit). */
  actor?: string;
}

/** A re-pricing run: each changed event was published as `usage.repriced.v1`. Sums count null as 0. */
export interface PricingRepriceResponse {
  run_id: string;
  examined: number;
  changed: number;
  before_usd: string;
  after_usd: string;
  catalog_version: string;
  overrides_version: number;
}

export type RepriceRunStatus = 'running' | 'succeeded' | 'failed';

/**
 * A re-pricing run as recorded in `pricing_reprice_runs`. While it runs, the counts and sums are those of the
 * pages done so far and `heartbeat_at` moves; a run whose heartbeat stopped (its process died) is marked failed.
 */
export interface RepriceRunView {
  id: string;
  status: RepriceRunStatus;
  /** Why it ran: `manual`, `cli reprice`, `override added`, ... */
  trigger: string;
  actor: string;
  /** The request's selection (`from`/`to` as RFC 3339; absent fields did not filter). */
  selection: { unpriced_only: boolean; from?: string; to?: string; model?: string; provider?: string };
  catalog_version: string;
  overrides_version: number;
  started_at: string;
  /** When it succeeded or failed; null while running. */
  finished_at: string | null;
  /** Last sign of life of the process running it. */
  heartbeat_at: string;
  examined: number;
  changed: number;
  before_usd: string;
  after_usd: string;
  /** Why it failed; null otherwise. */
  error: string | null;
}

/** `pricing.reprice-runs.get` request. */
export interface RepriceRunGetRequest {
  id: string;
}

/** `pricing.reprice-runs.list` request (limit 1..200, default 50). */
export interface RepriceRunsListRequest {
  limit?: number;
}

/** Reply of `pricing.reprice-runs.list`: newest first. */
export interface RepriceRunsListResponse {
  runs: RepriceRunView[];
}
