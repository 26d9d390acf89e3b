// Stored catalog versions (imports), the active one, the audit of catalog changes, and the re-pricing runs.
// Append-only by use: versions, audit rows and runs are only inserted (a run row is completed once).
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class PricingCatalogVersions1767225600100 implements MigrationInterface {
  name = 'PricingCatalogVersions1767225600100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS pricing_catalog_versions (
        seq          bigserial PRIMARY KEY,
        version      text NOT NULL UNIQUE,
        source       text NOT NULL,
        base_version text NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        created_by   text NOT NULL,
        catalog_json text NOT NULL -- text, not jsonb: the exact providers JSON the version's hash was taken of
      )`);
    await q.query(`
      CREATE TABLE IF NOT EXISTS pricing_catalog_audit (
        id          bigserial PRIMARY KEY,
        action      text NOT NULL CHECK (action IN ('import', 'activate')),
        version     text NOT NULL,
        previous    text NOT NULL,
        actor       text NOT NULL,
        at          timestamptz NOT NULL DEFAULT now(),
        added       int NOT NULL DEFAULT 0,
        removed     int NOT NULL DEFAULT 0,
        changed     int NOT NULL DEFAULT 0,
        detail      text NOT NULL DEFAULT ''
      )`);
    await q.query(`
      CREATE TABLE IF NOT EXISTS pricing_reprice_runs (
        id                bigserial PRIMARY KEY,
        claim             text UNIQUE, -- automatic runs: one per price change across instances
        trigger           text NOT NULL,
        actor             text NOT NULL,
        selection         jsonb NOT NULL,
        catalog_version   text NOT NULL,
        overrides_version bigint NOT NULL,
        started_at        timestamptz NOT NULL DEFAULT now(),
        finished_at       timestamptz,
        examined          int,
        changed           int,
        before_usd        numeric,
        after_usd         numeric,
        error             text
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS pricing_reprice_runs');
    await q.query('DROP TABLE IF EXISTS pricing_catalog_audit');
    await q.query('DROP TABLE IF EXISTS pricing_catalog_versions');
  }
}
