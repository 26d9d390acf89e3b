// SQL of the key tables. Every change writes the key row and its audit row in one transaction.
import type { KeyPolicy, KeyRecord, KeyStatus, KeyView } from '@spendops/contracts';
import type { DataSource, EntityManager } from 'typeorm';

interface KeyRow {
  id: string;
  name: string;
  tenant_id: string;
  status: KeyStatus;
  secret_hash: string;
  previous_secret_hash: string | null;
  previous_valid_until: Date | null;
  policy: KeyPolicy;
  version: string;
  created_at: Date;
  updated_at: Date;
  last_used_at: Date | null;
}

export interface AuditEntry {
  seq: number;
  ts: string;
  key_id: string;
  action: string;
  actor: string;
  detail: Record<string, unknown>;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toRecord(r: KeyRow): KeyRecord {
  return {
    id: r.id,
    name: r.name,
    tenant_id: r.tenant_id,
    status: r.status,
    secret_hash: r.secret_hash,
    previous_secret_hash: r.previous_secret_hash,
    previous_valid_until: iso(r.previous_valid_until),
    policy: r.policy,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
    version: Number(r.version),
  };
}

function toView(r: KeyRow): KeyView {
  return {
    id: r.id,
    name: r.name,
    tenant: r.tenant_id,
    status: r.status,
    policy: r.policy,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
    last_used_at: iso(r.last_used_at),
  };
}

export interface StoredKey {
  record: KeyRecord;
  view: KeyView;
}

const stored = (r: KeyRow): StoredKey => ({ record: toRecord(r), view: toView(r) });

export class KeyRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(fn: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  async insert(tx: EntityManager, r: KeyRecord): Promise<StoredKey> {
    const rows: KeyRow[] = await tx.query(
      `INSERT INTO api_keys (id, name, tenant_id, status, secret_hash, policy, version, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING *`,
      [r.id, r.name, r.tenant_id, r.status, r.secret_hash, JSON.stringify(r.policy), r.created_at],
    );
    return stored(rows[0]);
  }

  /** Locks the key row for a change; undefined when unknown. */
  async lock(tx: EntityManager, id: string): Promise<KeyRecord | undefined> {
    const rows: KeyRow[] = await tx.query(`SELECT * FROM api_keys WHERE id = $1 FOR UPDATE`, [id]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** Writes the changed fields and bumps the version. */
  async update(
    tx: EntityManager,
    id: string,
    change: Partial<
      Pick<KeyRecord, 'status' | 'secret_hash' | 'previous_secret_hash' | 'previous_valid_until' | 'policy'>
    >,
    now: string,
  ): Promise<StoredKey> {
    const sets: string[] = [];
    const args: unknown[] = [id, now];
    for (const [col, value] of Object.entries(change)) {
      args.push(col === 'policy' ? JSON.stringify(value) : value);
      sets.push(`${col} = $${args.length}`);
    }
    if (change.status === 'revoked') sets.push('revoked_at = $2');
    if (change.status === 'active') sets.push('revoked_at = NULL');
    // TypeORM answers an UPDATE … RETURNING with [rows, affected].
    const [rows]: [KeyRow[], number] = await tx.query(
      `UPDATE api_keys SET ${sets.join(', ')}, updated_at = $2, version = version + 1 WHERE id = $1 RETURNING *`,
      args,
    );
    return stored(rows[0]);
  }

  async audit(
    tx: EntityManager,
    now: string,
    keyId: string,
    action: string,
    actor: string,
    detail: object,
  ): Promise<void> {
    await tx.query(
      `INSERT INTO key_audit_log (ts, key_id, action, actor, detail) VALUES ($1, $2, $3, $4, $5)`,
      [now, keyId, action, actor, JSON.stringify(detail)],
    );
  }

  async get(id: string): Promise<StoredKey | undefined> {
    const rows: KeyRow[] = await this.db.query(`SELECT * FROM api_keys WHERE id = $1`, [id]);
    return rows[0] ? stored(rows[0]) : undefined;
  }

  async list(tenant?: string): Promise<StoredKey[]> {
    const rows: KeyRow[] = tenant
      ? await this.db.query(`SELECT * FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id`, [tenant])
      : await this.db.query(`SELECT * FROM api_keys ORDER BY created_at, id`);
    return rows.map(stored);
  }

  async auditLog(keyId?: string): Promise<AuditEntry[]> {
    const rows: Array<Omit<AuditEntry, 'ts' | 'seq'> & { ts: Date; seq: string }> = keyId
      ? await this.db.query(`SELECT * FROM key_audit_log WHERE key_id = $1 ORDER BY seq`, [keyId])
      : await this.db.query(`SELECT * FROM key_audit_log ORDER BY seq`);
    return rows.map((r) => ({ ...r, seq: Number(r.seq), ts: r.ts.toISOString() }));
  }
}
