// A persisted heartbeat per projection: when a runner holding the projection's lock last completed a pass, so
// `spendops projections status` (another process) can tell a stuck or absent runner from an idle one.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ProjectionHeartbeat1733000000110 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE projection_checkpoints ADD COLUMN heartbeat_at timestamptz');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE projection_checkpoints DROP COLUMN heartbeat_at');
  }
}
