// Budget enforcement on the proxies: the reservation price sheet pricing publishes, the heartbeat the proxies
// share their headroom by, and the ledger's spend snapshot reply. docs/budgets-enforcement.md explains them.
import type { BudgetSpendV1 } from './budgets';

/**
 * A reservation price in USD (decimal strings): per input token, per output token, per request. Each is the
 * maximum over the model's periods in force now or later, its long-context tiers, time windows and service tiers
 * (priority included), so a reservation is an upper bound of what the request can cost at catalog prices.
 */
export type ReservationPrice = [input_per_token: string, output_per_token: string, per_request: string];

export interface PriceSheetProvider {
  /** Model ids and aliases, lower case. */
  models: Record<string, ReservationPrice>;
  /** Lower-case name prefixes, longest first (`gpt-4o-` → that model). */
  prefixes: [prefix: string, price: ReservationPrice][];
  /** Regular expressions (case-insensitive), in catalog order. */
  patterns: [pattern: string, price: ReservationPrice][];
  /** Prefixes naming the provider inside a model name (`openai/`), stripped before the lookup. */
  name_prefixes: string[];
  /** The most expensive of the provider's models: the price of a model the sheet does not name. */
  fallback: ReservationPrice;
}

/** A tenant price override as the proxies apply it (the pricing engine's precedence: most specific wins). */
export interface PriceSheetOverride {
  /** A tenant id or `*`. */
  tenant_id: string;
  /** A canonical provider, or '' for any. */
  provider: string;
  /** Exact model name or a pattern with `*` wildcards, case-insensitive. */
  model: string;
  /** Own rates (upper bounds as above); absent when the override only marks up. */
  price?: ReservationPrice;
  /** 1 + markup/100 (decimal string); absent without a markup. */
  factor?: string;
}

/** `pricing.price-sheet.v1` (Topics.priceSheet) and the reply of Commands.pricingPriceSheet. */
export interface PriceSheetV1 {
  /** `<catalog version>+ov<overrides version>`. */
  version: string;
  generated_at: string;
  /** Route aliases → canonical provider names (`google-ai-studio` → `google`). */
  provider_aliases: Record<string, string>;
  providers: Record<string, PriceSheetProvider>;
  overrides: PriceSheetOverride[];
  /** The most expensive model of the catalog: the price for a provider the catalog does not know. */
  fallback: ReservationPrice;
}

/**
 * `proxy.heartbeat.v1` (Topics.proxyHeartbeat, every proxy subscribes broadcast): a proxy is alive, and how much
 * it holds in reservations per enforcing budget. Each proxy admits only up to its share of a budget's headroom.
 */
export interface ProxyHeartbeatV1 {
  proxy_id: string;
  sent_at: string;
  /** The sender's heartbeat interval; it counts as gone after three intervals without one. */
  interval_ms: number;
  /** USD reserved per budget id (budgets with reservations only). */
  reserved: Record<string, number>;
  /** The proxy is shutting down: forget it now. */
  leaving?: boolean;
}

/** The reply of Commands.budgetsSpendSnapshot: every enforcing budget's current state. */
export interface BudgetsSpendSnapshotReply {
  budgets: BudgetSpendV1[];
}
