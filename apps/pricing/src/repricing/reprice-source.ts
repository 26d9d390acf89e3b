// What re-pricing reads: stored events with their usage and current cost. The ledger owns the events; pricing
// reads its read model (the query side, as the admin API does) and never writes it — changes go back to the
// ledger as `usage.repriced.v1` messages.
import type { CostFields, ExtractedUsage, UnpricedModelView } from '@spendops/contracts';
import type { PricingMeta } from '../engine/pricing-engine';

/** Which stored events to re-price. Absent fields do not filter. */
export interface RepriceSelection {
  unpricedOnly: boolean;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
  /** Request or response model. */
  model?: string;
  provider?: string;
}

/** One stored event as pricing needs it. */
export interface StoredUsage {
  request_id: string;
  meta: PricingMeta;
  usage: ExtractedUsage;
  cost: CostFields;
}

export interface RepriceEventSource {
  /** Whether the ledger's read model can be read here (false: no database, or no ledger tables yet). */
  available(): Promise<boolean>;
  /** The selected events, oldest first, in pages. */
  pages(selection: RepriceSelection, pageSize?: number): AsyncIterable<StoredUsage[]>;
  /** Models of stored events that found no price (busiest first). */
  unpricedModels(): Promise<UnpricedModelView[]>;
}

/** Nest injection token of the pricing service's RepriceEventSource. */
export const REPRICE_SOURCE = Symbol('PRICING_REPRICE_SOURCE');

/** No stored events (runs without a database): re-pricing finds nothing, the unpriced list is in memory. */
export class NoRepriceSource implements RepriceEventSource {
  async available(): Promise<boolean> {
    return false;
  }

  async *pages(): AsyncIterable<StoredUsage[]> {
    // nothing stored
  }

  async unpricedModels(): Promise<UnpricedModelView[]> {
    return [];
  }
}
