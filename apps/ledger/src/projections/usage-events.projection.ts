// usage_events_view (one row per request, current cost) and the aggregates, in one projection so the
// aggregates always agree with the rows they sum (same transaction, same checkpoint).
import type { EntityManager } from 'typeorm';
import type { Projection, StoredEvent } from '@spendops/event-store';
import { LedgerEventTypes, type UsageRecordedData, type UsageRepricedData } from '../ledger.events';
import { viewFromPriced } from '../usage-view.mapper';
import { AGGREGATE_TABLE_NAMES, aggregateCtes, insertViewRows } from './usage-aggregates.sql';

export class UsageEventsProjection implements Projection {
  readonly name = 'usage_events_view';
  readonly types = [LedgerEventTypes.usageRecorded, LedgerEventTypes.usageRepriced];
  readonly batchSize = 500;

  async handle(events: StoredEvent[], manager: EntityManager): Promise<void> {
    // Set-based: the batch's recordings in one statement, then its re-pricings in one more (a re-pricing run is
    // hundreds of them per batch; one statement each cost a planning and a round trip per event). The order
    // that matters is kept: a request's recording comes before its re-pricings (the ledger appends those only
    // after the recording committed), and of several re-pricings of a request only the last one's cost stays.
    let recorded: UsageRecordedData[] = [];
    let repriced = new Map<string, { data: UsageRepricedData; at: Date }>();
    const flushRecorded = async () => {
      if (recorded.length === 0) return;
      const rows = recorded.map(viewFromPriced);
      recorded = [];
      await insertViewRows(manager, JSON.stringify(rows));
    };
    const flushRepriced = async () => {
      if (repriced.size === 0) return;
      const latest = [...repriced.values()];
      repriced = new Map();
      await this.reprice(latest, manager);
    };
    for (const event of events) {
      if (event.type === LedgerEventTypes.usageRecorded) {
        const data = event.data as UsageRecordedData;
        // Never in practice (a re-pricing needs the recording stored first); if it were, keep the event order.
        if (repriced.has(data.request_id)) {
          await flushRecorded();
          await flushRepriced();
        }
        recorded.push(data);
        continue;
      }
      const data = event.data as UsageRepricedData;
      repriced.delete(data.request_id); // re-inserted last: the map's order stays the events' order
      repriced.set(data.request_id, { data, at: event.recorded_at });
    }
    await flushRecorded();
    await flushRepriced();
  }

  // DELETE, not TRUNCATE: a rebuild runs while serving, and TRUNCATE's exclusive lock would block every reader
  // until it commits; with DELETE they keep reading the old rows.
  async reset(manager: EntityManager): Promise<void> {
    for (const table of ['usage_events_view', ...AGGREGATE_TABLE_NAMES])
      await manager.query(`DELETE FROM ${table}`);
  }

  /**
   * "Remove the old rows, update them, add the new ones" in one statement for every request re-priced: counts
   * stay, costs move. A request not in the view (never recorded) matches nothing and changes nothing.
   */
  private async reprice(
    changes: { data: UsageRepricedData; at: Date }[],
    manager: EntityManager,
  ): Promise<void> {
    const rows = changes.map(({ data, at }) => ({
      request_id: data.request_id,
      provider_cost: data.cost.provider_cost,
      calculated_cost: data.cost.calculated_cost,
      total_cost_usd: data.cost.total_cost_usd,
      cost_source: data.cost.cost_source,
      pricing_matched: data.cost.pricing_matched,
      pricing_model: data.cost.pricing_model,
      pricing_version: data.cost.pricing_version,
      repriced_at: at,
    }));
    // `old` reads the statement's snapshot, so it sees the rows as they were before `upd` changed them. Both find
    // the rows by primary key from the id array (a join with the recordset, estimated at 100 rows whatever its
    // size, may be planned as a hash join over a scan of the whole view).
    await manager.query(
      `WITH r AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(request_id text, provider_cost numeric,
           calculated_cost numeric, total_cost_usd numeric, cost_source text, pricing_matched boolean,
           pricing_model text, pricing_version text, repriced_at timestamptz)),
       old AS (SELECT v.*, -1 AS sign FROM usage_events_view v WHERE v.request_id = ANY($2::text[])),
       upd AS (
         UPDATE usage_events_view v SET provider_cost = r.provider_cost, calculated_cost = r.calculated_cost,
           total_cost_usd = r.total_cost_usd, cost_source = r.cost_source, pricing_matched = r.pricing_matched,
           pricing_model = r.pricing_model, pricing_version = r.pricing_version, repriced_at = r.repriced_at
         FROM r WHERE v.request_id = ANY($2::text[]) AND v.request_id = r.request_id
         RETURNING v.*),
       src AS (SELECT * FROM old UNION ALL SELECT upd.*, 1 AS sign FROM upd),
       ${aggregateCtes('src')}
       SELECT 1`,
      [JSON.stringify(rows), rows.map((r) => r.request_id)],
    );
  }
}
