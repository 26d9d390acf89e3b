// The write side: appends UsageRecorded, RequestDenied and UsageRepriced events (idempotently). Consumer-path
// appends (usage, denials, receipts) are group-committed by an AppendBatcher; re-pricings are appended alone.
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { CostFields, RequestDeniedV1, UsagePricedV1 } from '@spendops/contracts';
import { EventStore } from '@spendops/event-store';
import { AppendBatcher } from './append-batcher';
import {
  LedgerEventTypes,
  deterministicEventId,
  type UsageIngestedData,
  type UsageRecordedData,
  type UsageRepricedData,
} from './ledger.events';

export class LedgerNotFoundError extends Error {
  constructor(readonly requestId: string) {
    super(`no usage event with request_id ${requestId}`);
    this.name = 'LedgerNotFoundError';
  }
}

export interface RepricingResult {
  /** False when the new cost equals the current one (nothing appended). */
  changed: boolean;
  event_id: string | null;
  previous: CostFields;
  cost: CostFields;
}

const COST_KEYS: (keyof CostFields)[] = [
  'provider_cost',
  'calculated_cost',
  'total_cost_usd',
  'cost_source',
  'pricing_matched',
  'pricing_model',
  'pricing_version',
];

function costsOf(source: CostFields): CostFields {
  return Object.fromEntries(COST_KEYS.map((k) => [k, source[k]])) as unknown as CostFields;
}

function sameCosts(a: CostFields, b: CostFields): boolean {
  return COST_KEYS.every((k) =>
    k.endsWith('_cost') || k === 'total_cost_usd' ? sameDecimal(a[k], b[k]) : a[k] === b[k],
  );
}

function sameDecimal(a: unknown, b: unknown): boolean {
  if (a === null || b === null) return a === b;
  const norm = (s: unknown) =>
    String(s)
      .replace(/(\.\d*?)0+$/, '$1')
      .replace(/\.$/, '');
  return norm(a) === norm(b);
}

@Injectable()
export class LedgerService {
  /** Consumer-path appends (usage, denials, receipts) share transactions with those arriving alongside. */
  private readonly batcher: AppendBatcher;

  constructor(
    private readonly store: EventStore,
    private readonly dataSource: DataSource,
  ) {
    this.batcher = new AppendBatcher((events) => this.store.append(events));
  }

  /** Append a priced usage as `UsageRecorded`; false when this request id is already recorded. */
  async recordUsage(priced: UsagePricedV1): Promise<boolean> {
    if (!priced?.request_id) throw new Error('usage without request_id');
    return this.batcher.add({
      event_id: deterministicEventId(LedgerEventTypes.usageRecorded, priced.request_id),
      stream_id: priced.request_id,
      type: LedgerEventTypes.usageRecorded,
      data: priced satisfies UsageRecordedData,
      // Ingested usage stays an ordinary EVENT; only the metadata says where it came from.
      metadata: { source: await this.originOf(priced), topic: 'usage.priced.v1' },
    });
  }

  /**
   * Keep a trusted producer's `usage.ingest.v1` as `UsageIngested` in the request's stream (metadata
   * `source: ingest`): the receipt of what it sent, whatever pricing makes of it. False when already kept.
   */
  async recordIngestReceipt(message: UsageIngestedData): Promise<boolean> {
    if (!message?.request_id) throw new Error('ingested usage without request_id');
    return this.batcher.add({
      event_id: deterministicEventId(LedgerEventTypes.usageIngested, message.request_id),
      stream_id: message.request_id,
      type: LedgerEventTypes.usageIngested,
      data: message,
      metadata: { source: 'ingest', topic: 'usage.ingest.v1' },
    });
  }

  /**
   * Pricing's `origin` when it set one; otherwise 'ingest' if the stream holds the producer's receipt (kept
   * before pricing answered, which is the usual order but not a promise), else 'proxy'.
   */
  private async originOf(priced: UsagePricedV1): Promise<'proxy' | 'ingest'> {
    if (priced.origin === 'ingest' || priced.origin === 'proxy') return priced.origin;
    const [row] = await this.dataSource.query(
      'SELECT EXISTS (SELECT 1 FROM events WHERE stream_id = $1 AND type = $2) AS ingested',
      [priced.request_id, LedgerEventTypes.usageIngested],
    );
    return row.ingested === true ? 'ingest' : 'proxy';
  }

  /** Append a denial as `RequestDenied`; false when already recorded. */
  async recordDenial(denial: RequestDeniedV1): Promise<boolean> {
    if (!denial?.request_id) throw new Error('denial without request_id');
    return this.batcher.add({
      event_id: deterministicEventId(LedgerEventTypes.requestDenied, denial.request_id),
      stream_id: denial.request_id,
      type: LedgerEventTypes.requestDenied,
      data: denial,
      metadata: { source: 'proxy', topic: 'request.denied.v1' },
    });
  }

  /**
   * Record a new cost for a stored usage event as a `UsageRepriced` event (the old cost stays in the stream).
   * Nothing is appended when the cost is unchanged; repeating the same call appends once.
   */
  async appendRepricing(
    requestId: string,
    newCost: CostFields,
    reason: string,
    actor: string,
  ): Promise<RepricingResult> {
    const stream = await this.store.readStream(requestId);
    const recorded = stream.find((e) => e.type === LedgerEventTypes.usageRecorded);
    if (!recorded) throw new LedgerNotFoundError(requestId);
    const repricings = stream.filter((e) => e.type === LedgerEventTypes.usageRepriced);
    const previous = repricings.length
      ? (repricings[repricings.length - 1].data as UsageRepricedData).cost
      : costsOf((recorded.data as UsageRecordedData).cost);
    const cost = costsOf(newCost);
    if (sameCosts(previous, cost)) return { changed: false, event_id: null, previous, cost };
    const eventId = deterministicEventId(
      LedgerEventTypes.usageRepriced,
      requestId,
      String(repricings.length),
      JSON.stringify(cost),
    );
    const data: UsageRepricedData = { request_id: requestId, previous, cost, reason, actor };
    await this.store.append([
      {
        event_id: eventId,
        stream_id: requestId,
        type: LedgerEventTypes.usageRepriced,
        data,
        metadata: { actor },
      },
    ]);
    return { changed: true, event_id: eventId, previous, cost };
  }

  /** The cost history of a request: the recorded cost, then each re-pricing, oldest first. */
  async costHistory(
    requestId: string,
  ): Promise<{ at: string; cost: CostFields; reason: string | null; actor: string | null }[]> {
    const out: { at: string; cost: CostFields; reason: string | null; actor: string | null }[] = [];
    for (const e of await this.store.readStream(requestId)) {
      if (e.type === LedgerEventTypes.usageRecorded) {
        out.push({
          at: e.recorded_at.toISOString(),
          cost: costsOf((e.data as UsageRecordedData).cost),
          reason: null,
          actor: null,
        });
      } else if (e.type === LedgerEventTypes.usageRepriced) {
        const d = e.data as UsageRepricedData;
        out.push({ at: e.recorded_at.toISOString(), cost: d.cost, reason: d.reason, actor: d.actor });
      }
    }
    return out;
  }

  /** For tests and tools: the DataSource the ledger writes through. */
  get db(): DataSource {
    return this.dataSource;
  }
}
