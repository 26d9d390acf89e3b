// Overrides in PostgreSQL (tables of PricingOverrides1767225600000). Raw SQL on the shared DataSource.
import type { PricingOverrideAddRequest } from '@spendops/contracts';
import type { DataSource } from 'typeorm';
import type { PriceOverride } from '../engine/overrides';
import type { OverrideStore, StoredOverrides } from './override-store';

interface OverrideRow {
  id: string;
  tenant_id: string;
  provider: string;
  model: string;
  rates: PriceOverride['rates'] | null;
  markup_pct: string | null;
  note: string;
  created_at: Date;
}

export class PostgresOverrideStore implements OverrideStore {
  constructor(private readonly db: DataSource) {}

  async load(): Promise<StoredOverrides> {
    const rows: OverrideRow[] = await this.db.query(
      'SELECT id, tenant_id, provider, model, rates, markup_pct, note, created_at FROM pricing_overrides WHERE deleted_at IS NULL ORDER BY id',
    );
    const [{ version }]: { version: string }[] = await this.db.query(
      'SELECT COALESCE(max(version), 0) AS version FROM pricing_override_versions',
    );
    return { version: Number(version), items: rows.map(fromRow) };
  }

  async add(o: PricingOverrideAddRequest): Promise<StoredOverrides> {
    await this.db.transaction(async (tx) => {
      const [{ id }]: { id: string }[] = await tx.query(
        `INSERT INTO pricing_overrides (tenant_id, provider, model, rates, markup_pct, note)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        [
          o.tenant_id,
          o.provider ?? '',
          o.model,
          o.rates ? JSON.stringify(o.rates) : null,
          o.markup_pct ?? null,
          o.note ?? '',
        ],
      );
      await tx.query(`INSERT INTO pricing_override_versions (change, override_id) VALUES ('add', $1)`, [id]);
    });
    return this.load();
  }

  async remove(id: number): Promise<StoredOverrides | null> {
    const removed = await this.db.transaction(async (tx) => {
      const rows: { id: string }[] = await tx.query(
        // a SELECT around the UPDATE: TypeORM answers a bare UPDATE with [rows, count], not rows
        'WITH d AS (UPDATE pricing_overrides SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING id) SELECT id FROM d',
        [id],
      );
      if (rows.length === 0) return false;
      await tx.query(`INSERT INTO pricing_override_versions (change, override_id) VALUES ('delete', $1)`, [
        id,
      ]);
      return true;
    });
    return removed ? this.load() : null;
  }
}

function fromRow(r: OverrideRow): PriceOverride {
  const o: PriceOverride = {
    id: Number(r.id),
    tenant_id: r.tenant_id,
    model: r.model,
    created_at: new Date(r.created_at).toISOString(),
  };
  if (r.provider) o.provider = r.provider;
  if (r.rates) o.rates = r.rates;
  if (r.markup_pct !== null) o.markup_pct = r.markup_pct;
  if (r.note) o.note = r.note;
  return o;
}
