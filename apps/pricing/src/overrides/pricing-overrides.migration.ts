// Tenant price overrides: rows are never deleted (deleted_at marks them), and every change bumps the set's
// version so events show which override set priced them (`pricing_version` "+ov<N>").
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PricingCatalogVersions1767225600100 } from '../catalog-store/catalog-versions.migration';
import { PricingRepriceRunProgress1767225600200 } from '../repricing/reprice-runs.migration';

export class PricingOverrides1767225600000 implements MigrationInterface {
  name = 'PricingOverrides1767225600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS pricing_overrides (
        id          bigserial PRIMARY KEY,
        tenant_id   text NOT NULL,
        provider    text NOT NULL DEFAULT '',
        model       text NOT NULL,
        rates       jsonb,
        markup_pct  text,
        note        text NOT NULL DEFAULT '',
        created_at  timestamptz NOT NULL DEFAULT now(),
        deleted_at  timestamptz
      )`);
    await q.query(`
      CREATE TABLE IF NOT EXISTS pricing_override_versions (
        version     bigserial PRIMARY KEY,
        change      text NOT NULL,
        override_id bigint NOT NULL REFERENCES pricing_overrides (id),
        changed_at  timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS pricing_override_versions');
    await q.query('DROP TABLE IF EXISTS pricing_overrides');
  }
}

/** Every migration of the pricing service, oldest first. */
export const PRICING_MIGRATIONS = [
  PricingOverrides1767225600000,
  PricingCatalogVersions1767225600100,
  PricingRepriceRunProgress1767225600200,
];
