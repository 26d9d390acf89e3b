// The projection reader as a function, so its plan can be pinned: a walk of events_tx_order in order that stops
// after `max_rows`. Left to itself the planner often took a bitmap scan of EVERY event after the checkpoint plus
// a top-N sort, which made each batch of a catch-up (or rebuild) cost the whole backlog: quadratic overall.
// SET clauses on a function apply only while it runs; nothing else in the transaction is affected.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class OrderedEventReader1733000000120 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION events_read_after(after_tx xid8, after_pos bigint, max_rows int, only_types text[])
      RETURNS SETOF events LANGUAGE sql STABLE
      SET enable_bitmapscan = off SET enable_seqscan = off SET enable_sort = off
      AS $$
        SELECT * FROM events e
        WHERE e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          AND (e.transaction_id, e.global_position) > (after_tx, after_pos)
          AND (only_types IS NULL OR e.type = ANY (only_types))
        ORDER BY e.transaction_id, e.global_position
        LIMIT max_rows
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION events_read_after');
  }
}
