// The auth service's tables: keys (current state, one row per key) and the append-only key audit log.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AuthKeys1733000000200 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_keys (
        id                    text PRIMARY KEY,
        name                  text NOT NULL,
        tenant_id             text NOT NULL,
        status                text NOT NULL CHECK (status IN ('active', 'revoked')),
        secret_hash           text NOT NULL,
        previous_secret_hash  text,
        previous_valid_until  timestamptz,
        policy                jsonb NOT NULL,
        version               bigint NOT NULL,
        created_at            timestamptz NOT NULL,
        updated_at            timestamptz NOT NULL,
        last_used_at          timestamptz,
        revoked_at            timestamptz
      )`);
    await q.query(`CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at, id)`);
    await q.query(`
      CREATE TABLE key_audit_log (
        seq     bigserial PRIMARY KEY,
        ts      timestamptz NOT NULL,
        key_id  text NOT NULL,
        action  text NOT NULL,
        actor   text NOT NULL,
        detail  jsonb NOT NULL
      )`);
    await q.query(`CREATE INDEX key_audit_log_key ON key_audit_log (key_id, seq)`);
    // Append-only: the audit log is evidence, so the database refuses to change or remove a row.
    await q.query(`
      CREATE FUNCTION key_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'key_audit_log is append-only';
      END $$`);
    await q.query(`
      CREATE TRIGGER key_audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON key_audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION key_audit_log_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE key_audit_log`);
    await q.query(`DROP FUNCTION key_audit_log_append_only()`);
    await q.query(`DROP TABLE api_keys`);
  }
}

export const AUTH_MIGRATIONS = [AuthKeys1733000000200];
