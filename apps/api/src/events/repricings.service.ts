// A request's re-pricing history, read from its event stream (the history is the stream itself): every
// `UsageRepriced` after its `UsageRecorded`, oldest first, with who did it, why, and the costs before and after.
import { HttpStatus, Injectable } from '@nestjs/common';
import type { CostFields } from '@spendops/contracts';
import { EventStore } from '@spendops/event-store';
import { DataSource } from 'typeorm';
import { ApiError } from '../common/api-error';

/** The ledger's event types this reads (apps/ledger/src/ledger.events.ts; the api does not import the ledger). */
const USAGE_RECORDED = 'UsageRecorded';
const USAGE_REPRICED = 'UsageRepriced';

interface UsageRepricedData {
  previous: CostFields;
  cost: CostFields;
  reason: string;
  actor: string;
}

export interface RepricingView {
  at: string;
  actor: string;
  reason: string;
  previous_total_cost_usd: string | null;
  total_cost_usd: string | null;
  previous: CostFields;
  cost: CostFields;
}

@Injectable()
export class RepricingsService {
  private readonly store: EventStore;

  constructor(dataSource: DataSource) {
    this.store = new EventStore(dataSource);
  }

  /** 404 when no usage event has this request id. */
  async history(requestId: string): Promise<RepricingView[]> {
    const stream = await this.store.readStream(requestId);
    if (!stream.some((e) => e.type === USAGE_RECORDED))
      throw new ApiError(HttpStatus.NOT_FOUND, `no usage event with request id ${requestId.slice(0, 200)}`);
    return stream
      .filter((e) => e.type === USAGE_REPRICED)
      .map((e) => {
        const d = e.data as UsageRepricedData;
        return {
          at: new Date(e.recorded_at).toISOString(),
          actor: d.actor,
          reason: d.reason,
          previous_total_cost_usd: d.previous?.total_cost_usd ?? null,
          total_cost_usd: d.cost?.total_cost_usd ?? null,
          previous: d.previous,
          cost: d.cost,
        };
      });
  }
}
