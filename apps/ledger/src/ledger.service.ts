// The write side: appends UsageRecorded, RequestDenied and UsageRepriced events (idempotently). Consumer-path
// appends (usage, denials, receipts) are group-committed by an AppendBatcher, re-pricings by a RepricingBatcher
// (one read of the streams and one append per batch).
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { CostFields, RequestDeniedV1, UsagePricedV1 } from '@spendops/contracts';
import { EventStore, type NewEvent } from '@spendops/event-store';
import { AppendBatcher } from './append-batcher';
import { RepricingBatcher, type BatchOutcome } from './repricing-batcher';
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

interface RepricingRequest {
  requestId: string;
  newCost: CostFields;
  reason: string;
  actor: string;
  runId?: string;
}

/** What a batch needs of a stream: its recorded cost, its current one and how many re-pricings it holds. */
interface CostState {
  recorded: CostFields | null;
  last: CostFields | null;
  repricings: number;
  /** The pricing runs whose re-pricing the stream holds (metadata.run_id). */
  runs: Set<string>;
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
  /** Re-pricings delivered together are applied together. */
  private readonly repricer: RepricingBatcher<RepricingRequest, RepricingResult>;

  constructor(
    private readonly store: EventStore,
    private readonly dataSource: DataSource,
  ) {
    this.batcher = new AppendBatcher((events) => this.store.append(events));
    this.repricer = new RepricingBatcher((requests) => this.applyRepricings(requests));
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
   * Nothing is appended when the cost is unchanged; repeating the same call appends once. With `runId` (the
   * pricing run), nothing is appended either when the stream already holds that run's re-pricing: a run changes
   * a request once, so that is a redelivery, even one arriving after a later run changed the cost again.
   * Rejects with LedgerNotFoundError when the request has no UsageRecorded.
   */
  appendRepricing(
    requestId: string,
    newCost: CostFields,
    reason: string,
    actor: string,
    runId?: string,
  ): Promise<RepricingResult> {
    return this.repricer.add({ requestId, newCost, reason, actor, runId });
  }

  /**
   * A batch of re-pricings, in order: the streams' costs in one read, each decided against the stream as read
   * plus the batch's earlier re-pricings (a request twice in a batch is decided twice, in order), then one
   * append of the changed ones. Event ids are what appending them one by one would give.
   */
  private async applyRepricings(requests: RepricingRequest[]): Promise<BatchOutcome<RepricingResult>[]> {
    const states = await this.costStates([...new Set(requests.map((r) => r.requestId))]);
    const events: NewEvent[] = [];
    const outcomes = requests.map((request): BatchOutcome<RepricingResult> => {
      const { requestId, newCost, reason, actor, runId } = request;
      const state = states.get(requestId);
      if (!state?.recorded) return { error: new LedgerNotFoundError(requestId) };
      const previous = state.last ?? state.recorded;
      const cost = costsOf(newCost);
      if (sameCosts(previous, cost) || (runId !== undefined && state.runs.has(runId)))
        return { ok: { changed: false, event_id: null, previous, cost } };
      const eventId = deterministicEventId(
        LedgerEventTypes.usageRepriced,
        requestId,
        String(state.repricings),
        JSON.stringify(cost),
      );
      const data: UsageRepricedData = { request_id: requestId, previous, cost, reason, actor };
      events.push({
        event_id: eventId,
        stream_id: requestId,
        type: LedgerEventTypes.usageRepriced,
        data,
        metadata: runId === undefined ? { actor } : { actor, run_id: runId },
      });
      state.last = cost;
      state.repricings++;
      if (runId !== undefined) state.runs.add(runId);
      return { ok: { changed: true, event_id: eventId, previous, cost } };
    });
    await this.store.append(events);
    return outcomes;
  }

  /** Per request id: the first recording's cost, the last re-pricing's cost and the number of re-pricings. */
  private async costStates(requestIds: string[]): Promise<Map<string, CostState>> {
    const streams = await this.store.readStreams(requestIds, [
      LedgerEventTypes.usageRecorded,
      LedgerEventTypes.usageRepriced,
    ]);
    const states = new Map<string, CostState>();
    for (const id of requestIds) {
      const state: CostState = { recorded: null, last: null, repricings: 0, runs: new Set() };
      for (const event of streams.get(id) ?? []) {
        if (event.type === LedgerEventTypes.usageRepriced) {
          state.last = (event.data as UsageRepricedData).cost;
          state.repricings++;
          const runId = (event.metadata as { run_id?: unknown } | null)?.run_id;
          if (typeof runId === 'string') state.runs.add(runId);
        } else if (!state.recorded) {
          state.recorded = costsOf((event.data as UsageRecordedData).cost);
        }
      }
      states.set(id, state);
    }
    return states;
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
