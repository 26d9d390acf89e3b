import type { EntityManager } from 'typeorm';
import type { Projection, StoredEvent } from '@spendops/event-store';
import { LedgerEventTypes } from '../ledger.events';

export class DenialsProjection implements Projection {
  readonly name = 'denials_view';
  readonly types = [LedgerEventTypes.requestDenied];
  readonly batchSize = 500;

  async handle(events: StoredEvent[], manager: EntityManager): Promise<void> {
    await manager.query(
      `INSERT INTO denials_view
       SELECT r.request_id, r.ts, r.type, r.reason, r.http_status, coalesce(r.tenant_id, ''), coalesce(r.api_key_id, ''),
         coalesce(r.provider, ''), coalesce(r.path, ''), coalesce(r.dims, '{}'::jsonb)
       FROM jsonb_populate_recordset(null::denials_view, $1::jsonb) AS r
       ON CONFLICT (request_id) DO NOTHING`,
      [JSON.stringify(events.map((e) => e.data))],
    );
  }

  /** DELETE keeps readers on the old rows during an online rebuild (TRUNCATE would block them). */
  async reset(manager: EntityManager): Promise<void> {
    await manager.query('DELETE FROM denials_view');
  }
}
