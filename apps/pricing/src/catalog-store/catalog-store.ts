// Stored catalog versions: an import is saved as "v<N>-<hash>" and becomes the active catalog; `activate` makes
// any stored version (or "builtin", the committed catalog) active. Nothing is updated or deleted: the active
// version is the one named by the newest audit row.
import type { DataSource } from 'typeorm';
import { Catalog } from '../catalog/catalog';
import { loadBuiltinCatalog } from '../catalog/load';
import type { ProviderFile } from '../catalog/schema';
import { diffCounts, type CatalogDiff } from './catalog-diff';

export interface CatalogVersionInfo {
  version: string;
  source: string;
  base_version: string;
  created_at: string;
  created_by: string;
  active: boolean;
}

export interface CatalogAuditEntry {
  id: number;
  action: 'import' | 'activate';
  version: string;
  previous: string;
  actor: string;
  at: string;
  added: number;
  removed: number;
  changed: number;
  detail: string;
}

export interface SaveCatalogInput {
  catalog: Catalog;
  /** e.g. "import:litellm". */
  source: string;
  base: Catalog;
  diff: CatalogDiff;
  actor: string;
  /** Free text for the audit row (the file imported). */
  detail?: string;
}

export class CatalogVersionNotFoundError extends Error {
  constructor(version: string) {
    super(`no catalog version ${JSON.stringify(version)} (see \`spendops pricing versions\`)`);
    this.name = 'CatalogVersionNotFoundError';
  }
}

export interface CatalogStore {
  /** The active catalog: the newest imported or activated version, else the built-in one. */
  current(): Promise<Catalog>;
  /** "builtin" (or the built-in catalog's own version) or a stored version. */
  catalog(version: string): Promise<Catalog>;
  /** Stores an imported catalog as the next version and activates it; resolves to it under its stored name. */
  save(input: SaveCatalogInput): Promise<Catalog>;
  activate(version: string, actor: string): Promise<Catalog>;
  versions(): Promise<CatalogVersionInfo[]>;
  audit(): Promise<CatalogAuditEntry[]>;
  /** Id of the newest import or activation (0: none): tells apart two activations of the same version. */
  activation(): Promise<number>;
}

export const CATALOG_STORE = Symbol('PRICING_CATALOG_STORE');

const BUILTIN = 'builtin';

function isBuiltinName(version: string): boolean {
  return version === BUILTIN || version === loadBuiltinCatalog().version;
}

/** "v<N>-<12 hex of the SHA-256 of the providers' JSON>". */
function storedName(seq: number, providers: readonly ProviderFile[]): string {
  return `v${seq}-${Catalog.fromProviders([...providers]).version.slice('builtin-'.length)}`;
}

export class PostgresCatalogStore implements CatalogStore {
  private readonly cache = new Map<string, Catalog>();

  constructor(private readonly db: DataSource) {}

  async current(): Promise<Catalog> {
    const rows: { version: string }[] = await this.db.query(
      'SELECT version FROM pricing_catalog_audit ORDER BY id DESC LIMIT 1',
    );
    return rows.length ? this.catalog(rows[0].version) : loadBuiltinCatalog();
  }

  async catalog(version: string): Promise<Catalog> {
    if (isBuiltinName(version)) return loadBuiltinCatalog();
    const hit = this.cache.get(version);
    if (hit) return hit;
    const rows: { catalog_json: string }[] = await this.db.query(
      'SELECT catalog_json FROM pricing_catalog_versions WHERE version = $1',
      [version],
    );
    if (rows.length === 0) throw new CatalogVersionNotFoundError(version);
    const c = Catalog.fromProviders(JSON.parse(rows[0].catalog_json) as ProviderFile[], version);
    this.cache.set(version, c);
    return c;
  }

  async save(input: SaveCatalogInput): Promise<Catalog> {
    const { added, removed, changed } = diffCounts(input.diff);
    const version = await this.db.transaction(async (tx) => {
      // One writer at a time: version numbers are dense and ordered.
      await tx.query('LOCK TABLE pricing_catalog_versions IN SHARE ROW EXCLUSIVE MODE');
      const [{ n }]: { n: string }[] = await tx.query(
        'SELECT COALESCE(max(seq), 0) + 1 AS n FROM pricing_catalog_versions',
      );
      const name = storedName(Number(n), input.catalog.providers);
      await tx.query(
        `INSERT INTO pricing_catalog_versions (version, source, base_version, created_by, catalog_json)
         VALUES ($1, $2, $3, $4, $5)`,
        [name, input.source, input.base.version, input.actor, JSON.stringify(input.catalog.providers)],
      );
      await tx.query(
        `INSERT INTO pricing_catalog_audit (action, version, previous, actor, added, removed, changed, detail)
         VALUES ('import', $1, $2, $3, $4, $5, $6, $7)`,
        [name, input.base.version, input.actor, added, removed, changed, input.detail ?? input.source],
      );
      return name;
    });
    const saved = input.catalog.withVersion(version);
    this.cache.set(version, saved);
    return saved;
  }

  async activate(version: string, actor: string): Promise<Catalog> {
    const target = await this.catalog(version);
    const previous = await this.current();
    await this.db.query(
      `INSERT INTO pricing_catalog_audit (action, version, previous, actor) VALUES ('activate', $1, $2, $3)`,
      [isBuiltinName(version) ? BUILTIN : version, previous.version, actor],
    );
    return target;
  }

  async versions(): Promise<CatalogVersionInfo[]> {
    const active = (await this.current()).version;
    const rows: {
      version: string;
      source: string;
      base_version: string;
      created_at: Date;
      created_by: string;
    }[] = await this.db.query(
      'SELECT version, source, base_version, created_at, created_by FROM pricing_catalog_versions ORDER BY seq',
    );
    return rows.map((r) => ({
      version: r.version,
      source: r.source,
      base_version: r.base_version,
      created_at: new Date(r.created_at).toISOString(),
      created_by: r.created_by,
      active: r.version === active,
    }));
  }

  async activation(): Promise<number> {
    const [{ id }]: { id: string }[] = await this.db.query(
      'SELECT COALESCE(max(id), 0) AS id FROM pricing_catalog_audit',
    );
    return Number(id);
  }

  async audit(): Promise<CatalogAuditEntry[]> {
    const rows: (Omit<CatalogAuditEntry, 'id' | 'at'> & { id: string; at: Date })[] = await this.db.query(
      `SELECT id, action, version, previous, actor, at, added, removed, changed, detail
       FROM pricing_catalog_audit ORDER BY id`,
    );
    return rows.map((r) => ({ ...r, id: Number(r.id), at: new Date(r.at).toISOString() }));
  }
}

/** Versions in memory (runs without a database): the same rules, lost at exit. */
export class InMemoryCatalogStore implements CatalogStore {
  private readonly stored: (CatalogVersionInfo & { catalog: Catalog })[] = [];
  private readonly log: CatalogAuditEntry[] = [];

  async current(): Promise<Catalog> {
    const last = this.log[this.log.length - 1];
    return last ? this.catalog(last.version) : loadBuiltinCatalog();
  }

  async catalog(version: string): Promise<Catalog> {
    if (isBuiltinName(version)) return loadBuiltinCatalog();
    const hit = this.stored.find((s) => s.version === version);
    if (!hit) throw new CatalogVersionNotFoundError(version);
    return hit.catalog;
  }

  async save(input: SaveCatalogInput): Promise<Catalog> {
    const version = storedName(this.stored.length + 1, input.catalog.providers);
    const catalog = input.catalog.withVersion(version);
    const at = new Date().toISOString();
    this.stored.push({
      version,
      source: input.source,
      base_version: input.base.version,
      created_at: at,
      created_by: input.actor,
      active: false,
      catalog,
    });
    this.push('import', version, input.base.version, input.actor, input.detail ?? input.source, input.diff);
    return catalog;
  }

  async activate(version: string, actor: string): Promise<Catalog> {
    const target = await this.catalog(version);
    const previous = (await this.current()).version;
    this.push('activate', isBuiltinName(version) ? BUILTIN : version, previous, actor, '');
    return target;
  }

  async versions(): Promise<CatalogVersionInfo[]> {
    const active = (await this.current()).version;
    return this.stored.map(({ catalog: _c, ...v }) => ({ ...v, active: v.version === active }));
  }

  async audit(): Promise<CatalogAuditEntry[]> {
    return this.log.map((e) => ({ ...e }));
  }

  async activation(): Promise<number> {
    return this.log.length;
  }

  private push(
    action: CatalogAuditEntry['action'],
    version: string,
    previous: string,
    actor: string,
    detail: string,
    diff?: CatalogDiff,
  ): void {
    const counts = diff ? diffCounts(diff) : { added: 0, removed: 0, changed: 0 };
    this.log.push({
      id: this.log.length + 1,
      action,
      version,
      previous,
      actor,
      at: new Date().toISOString(),
      ...counts,
      detail,
    });
  }
}
