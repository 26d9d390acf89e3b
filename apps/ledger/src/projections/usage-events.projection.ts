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
    // Consecutive recordings are inserted together; a re-pricing is applied in its place in the order.
    let recorded: UsageRecordedData[] = [];
    const flush = async () => {
      if (recorded.length === 0) return;
      const rows = recorded.map(viewFromPriced);
      recorded = [];
      await insertViewRows(manager, JSON.stringify(rows));
    };
    for (const event of events) {
      if (event.type === LedgerEventTypes.usageRecorded) {
        recorded.push(event.data as UsageRecordedData);
        continue;
      }
      await flush();
      await this.reprice(event.data as UsageRepricedData, event.recorded_at, manager);
    }
    await flush();
  }

  // DELETE, not TRUNCATE: a rebuild runs while serving, and TRUNCATE's exclusive lock would block every reader
  // until it commits; with DELETE they keep reading the old rows.
  async reset(manager: EntityManager): Promise<void> {
    for (const table of ['usage_events_view', ...AGGREGATE_TABLE_NAMES])
      await manager.query(`DELETE FROM ${table}`);
  }

  /** "Remove the old row, update it, add the new one" in one statement: counts stay, costs move. */
  private async reprice(data: UsageRepricedData, at: Date, manager: EntityManager): Promise<void> {
    const c = data.cost;
    await manager.query(
      `WITH old AS (SELECT v.*, -1 AS sign FROM usage_events_view v WHERE v.request_id = $1),
       upd AS (
         UPDATE usage_events_view SET provider_cost = $2, calculated_cost = $3, total_cost_usd = $4,
           cost_source = $5, pricing_matched = $6, pricing_model = $7, pricing_version = $8, repriced_at = $9
         WHERE request_id = $1
         RETURNING *),
       src AS (SELECT * FROM old UNION ALL SELECT upd.*, 1 AS sign FROM upd),
       ${aggregateCtes('src')}
       SELECT 1`,
      [
        data.request_id,
        c.provider_cost,
        c.calculated_cost,
        c.total_cost_usd,
        c.cost_source,
        c.pricing_matched,
        c.pricing_model,
        c.pricing_version,
        at,
      ],
    );
  }
}
