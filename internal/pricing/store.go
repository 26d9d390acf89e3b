package pricing

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"github.com/spendops/spendops/internal/store"
)

// ErrNotFound is returned for an unknown catalog version or override.
var ErrNotFound = errors.New("not found")

var migrations = []store.Migration{{Version: 1, SQL: `
CREATE TABLE pricing_catalog_versions (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	version      TEXT NOT NULL UNIQUE,
	source       TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	catalog_json BLOB NOT NULL
);
CREATE TABLE pricing_active (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	version TEXT NOT NULL
);
CREATE TABLE pricing_override_versions (
	version INTEGER PRIMARY KEY AUTOINCREMENT,
	at      TEXT NOT NULL,
	change  TEXT NOT NULL
);
CREATE TABLE pricing_overrides (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant_id       TEXT NOT NULL,
	provider        TEXT NOT NULL DEFAULT '',
	model           TEXT NOT NULL,
	rates_json      TEXT,
	markup_pct      TEXT,
	note            TEXT NOT NULL DEFAULT '',
	created_at      TEXT NOT NULL,
	created_version INTEGER NOT NULL,
	deleted_at      TEXT,
	deleted_version INTEGER
);
CREATE TABLE pricing_reprice_audit (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	request_id  TEXT NOT NULL,
	old_cost    TEXT,
	new_cost    TEXT,
	old_source  TEXT NOT NULL,
	new_source  TEXT NOT NULL,
	old_version TEXT NOT NULL,
	new_version TEXT NOT NULL,
	at          TEXT NOT NULL
);
CREATE INDEX pricing_reprice_audit_request ON pricing_reprice_audit(request_id);
`}}

// Store persists catalog versions, tenant overrides (every change is a new
// override-set version; deleted rows are kept) and the re-price audit in
// the "pricing" component's SQLite tables.
type Store struct {
	db  *sql.DB
	now func() time.Time
}

// OpenStore migrates the pricing tables and returns the store.
func OpenStore(ctx context.Context, db *sql.DB) (*Store, error) {
	if err := store.Migrate(ctx, db, "pricing", migrations); err != nil {
		return nil, err
	}
	return &Store{db: db, now: func() time.Time { return time.Now().UTC() }}, nil
}

const tsLayout = "2006-01-02T15:04:05.000Z07:00"

// VersionInfo describes a stored catalog version.
type VersionInfo struct {
	Version string    `json:"version"`
	Source  string    `json:"source"`
	Created time.Time `json:"created_at"`
	Active  bool      `json:"active"`
}

type storedCatalog struct {
	Version string         `json:"version"`
	Source  string         `json:"source"`
	Created time.Time      `json:"created_at"`
	Files   []ProviderFile `json:"providers"`
}

// SaveCatalog stores a catalog as the next version ("v<N>-<hash>") and
// makes it active. It returns the catalog carrying its stored version.
func (s *Store) SaveCatalog(ctx context.Context, c *Catalog) (*Catalog, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("save catalog: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM pricing_catalog_versions`).Scan(&n); err != nil {
		return nil, fmt.Errorf("save catalog: %w", err)
	}
	created := c.Created()
	if created.IsZero() {
		created = s.now()
	}
	out := c.withVersion(fmt.Sprintf("v%d-%s", n+1, c.Hash()))
	out.created = created
	b, err := json.Marshal(storedCatalog{Version: out.version, Source: c.Source(), Created: created, Files: c.Files()})
	if err != nil {
		return nil, fmt.Errorf("save catalog: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO pricing_catalog_versions(version, source, created_at, catalog_json) VALUES(?,?,?,?)`,
		out.version, c.Source(), created.Format(tsLayout), b); err != nil {
		return nil, fmt.Errorf("save catalog: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO pricing_active(id, version) VALUES(1, ?) ON CONFLICT(id) DO UPDATE SET version=excluded.version`, out.version); err != nil {
		return nil, fmt.Errorf("save catalog: %w", err)
	}
	return out, tx.Commit()
}

// SetActive makes a stored version ("builtin" for the embedded catalog)
// the active one.
func (s *Store) SetActive(ctx context.Context, version string) error {
	if version == "builtin" || len(version) > 8 && version[:8] == "builtin-" {
		_, err := s.db.ExecContext(ctx, `DELETE FROM pricing_active`)
		return err
	}
	if _, err := s.LoadCatalog(ctx, version); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO pricing_active(id, version) VALUES(1, ?) ON CONFLICT(id) DO UPDATE SET version=excluded.version`, version)
	return err
}

// Versions lists stored catalog versions, oldest first.
func (s *Store) Versions(ctx context.Context) ([]VersionInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT v.version, v.source, v.created_at, a.version IS NOT NULL
		FROM pricing_catalog_versions v LEFT JOIN pricing_active a ON a.version = v.version ORDER BY v.seq`)
	if err != nil {
		return nil, fmt.Errorf("list versions: %w", err)
	}
	defer rows.Close()
	var out []VersionInfo
	for rows.Next() {
		var vi VersionInfo
		var ts string
		if err := rows.Scan(&vi.Version, &vi.Source, &ts, &vi.Active); err != nil {
			return nil, fmt.Errorf("list versions: %w", err)
		}
		vi.Created, _ = time.Parse(tsLayout, ts)
		out = append(out, vi)
	}
	return out, rows.Err()
}

// LoadCatalog reads a stored catalog version.
func (s *Store) LoadCatalog(ctx context.Context, version string) (*Catalog, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT catalog_json FROM pricing_catalog_versions WHERE version = ?`, version).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("catalog version %q: %w", version, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load catalog %s: %w", version, err)
	}
	var sc storedCatalog
	if err := json.Unmarshal(b, &sc); err != nil {
		return nil, fmt.Errorf("load catalog %s: %w", version, err)
	}
	c, err := NewCatalog(sc.Files, sc.Source, sc.Created)
	if err != nil {
		return nil, fmt.Errorf("load catalog %s: %w", version, err)
	}
	return c.withVersion(sc.Version), nil
}

// Current returns the active stored catalog, or the embedded one when no
// version was ever activated.
func (s *Store) Current(ctx context.Context) (*Catalog, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT version FROM pricing_active WHERE id = 1`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return Load()
	}
	if err != nil {
		return nil, fmt.Errorf("active catalog: %w", err)
	}
	return s.LoadCatalog(ctx, v)
}

// Catalog resolves a version name: "builtin" (or the embedded catalog's
// version) or a stored version.
func (s *Store) Catalog(ctx context.Context, version string) (*Catalog, error) {
	b, err := Load()
	if err != nil {
		return nil, err
	}
	if version == "builtin" || version == b.Version() {
		return b, nil
	}
	return s.LoadCatalog(ctx, version)
}

func (s *Store) bumpOverrides(ctx context.Context, tx *sql.Tx, change string) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO pricing_override_versions(at, change) VALUES(?, ?)`, s.now().Format(tsLayout), change)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// AddOverride validates and stores an override, making a new override-set
// version.
func (s *Store) AddOverride(ctx context.Context, o Override) (Override, error) {
	if err := o.Validate(); err != nil {
		return Override{}, fmt.Errorf("override: %w", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Override{}, fmt.Errorf("add override: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	v, err := s.bumpOverrides(ctx, tx, "add")
	if err != nil {
		return Override{}, fmt.Errorf("add override: %w", err)
	}
	var rates, pct any
	if o.Rates != nil {
		b, _ := json.Marshal(o.Rates)
		rates = string(b)
	}
	if o.MarkupPct != nil {
		pct = o.MarkupPct.String()
	}
	o.CreatedAt = s.now()
	res, err := tx.ExecContext(ctx, `INSERT INTO pricing_overrides(tenant_id, provider, model, rates_json, markup_pct, note, created_at, created_version)
		VALUES(?,?,?,?,?,?,?,?)`, o.TenantID, o.Provider, o.Model, rates, pct, o.Note, o.CreatedAt.Format(tsLayout), v)
	if err != nil {
		return Override{}, fmt.Errorf("add override: %w", err)
	}
	o.ID, _ = res.LastInsertId()
	return o, tx.Commit()
}

// DeleteOverride retires an override (kept for history), making a new
// override-set version.
func (s *Store) DeleteOverride(ctx context.Context, id int64) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete override: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	v, err := s.bumpOverrides(ctx, tx, fmt.Sprintf("delete %d", id))
	if err != nil {
		return fmt.Errorf("delete override: %w", err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE pricing_overrides SET deleted_at=?, deleted_version=? WHERE id=? AND deleted_at IS NULL`,
		s.now().Format(tsLayout), v, id)
	if err != nil {
		return fmt.Errorf("delete override: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("override %d: %w", id, ErrNotFound)
	}
	return tx.Commit()
}

// Overrides returns the current override set (latest version).
func (s *Store) Overrides(ctx context.Context) (*OverrideSet, error) {
	var v int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM pricing_override_versions`).Scan(&v); err != nil {
		return nil, fmt.Errorf("overrides: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, tenant_id, provider, model, rates_json, markup_pct, note, created_at
		FROM pricing_overrides WHERE deleted_at IS NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("overrides: %w", err)
	}
	defer rows.Close()
	var items []Override
	for rows.Next() {
		var o Override
		var rates, pct sql.NullString
		var ts string
		if err := rows.Scan(&o.ID, &o.TenantID, &o.Provider, &o.Model, &rates, &pct, &o.Note, &ts); err != nil {
			return nil, fmt.Errorf("overrides: %w", err)
		}
		o.CreatedAt, _ = time.Parse(tsLayout, ts)
		if rates.Valid {
			o.Rates = &Rates{}
			if err := json.Unmarshal([]byte(rates.String), o.Rates); err != nil {
				return nil, fmt.Errorf("override %d rates: %w", o.ID, err)
			}
		}
		if pct.Valid {
			d, err := decimal.NewFromString(pct.String)
			if err != nil {
				return nil, fmt.Errorf("override %d markup: %w", o.ID, err)
			}
			o.MarkupPct = &d
		}
		items = append(items, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("overrides: %w", err)
	}
	return NewOverrideSet(v, items), nil
}

// RepriceAudit is one re-priced event's before and after.
type RepriceAudit struct {
	RequestID  string           `json:"request_id"`
	OldCost    *decimal.Decimal `json:"old_cost"`
	NewCost    *decimal.Decimal `json:"new_cost"`
	OldSource  string           `json:"old_source"`
	NewSource  string           `json:"new_source"`
	OldVersion string           `json:"old_version"`
	NewVersion string           `json:"new_version"`
	At         time.Time        `json:"at"`
}

// RecordReprice appends audit rows in one transaction.
func (s *Store) RecordReprice(ctx context.Context, rows []RepriceAudit) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("reprice audit: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, a := range rows {
		if _, err := tx.ExecContext(ctx, `INSERT INTO pricing_reprice_audit(request_id, old_cost, new_cost, old_source, new_source, old_version, new_version, at)
			VALUES(?,?,?,?,?,?,?,?)`, a.RequestID, decString(a.OldCost), decString(a.NewCost), a.OldSource, a.NewSource,
			a.OldVersion, a.NewVersion, a.At.UTC().Format(tsLayout)); err != nil {
			return fmt.Errorf("reprice audit: %w", err)
		}
	}
	return tx.Commit()
}

// RepriceAudits returns the audit rows of a request (all when empty),
// oldest first.
func (s *Store) RepriceAudits(ctx context.Context, requestID string) ([]RepriceAudit, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT request_id, old_cost, new_cost, old_source, new_source, old_version, new_version, at
		FROM pricing_reprice_audit WHERE ? = '' OR request_id = ? ORDER BY id`, requestID, requestID)
	if err != nil {
		return nil, fmt.Errorf("reprice audits: %w", err)
	}
	defer rows.Close()
	var out []RepriceAudit
	for rows.Next() {
		var a RepriceAudit
		var oc, nc sql.NullString
		var ts string
		if err := rows.Scan(&a.RequestID, &oc, &nc, &a.OldSource, &a.NewSource, &a.OldVersion, &a.NewVersion, &ts); err != nil {
			return nil, fmt.Errorf("reprice audits: %w", err)
		}
		a.OldCost, a.NewCost = parseDec(oc), parseDec(nc)
		a.At, _ = time.Parse(tsLayout, ts)
		out = append(out, a)
	}
	return out, rows.Err()
}

func decString(d *decimal.Decimal) any {
	if d == nil {
		return nil
	}
	return d.String()
}

func parseDec(s sql.NullString) *decimal.Decimal {
	if !s.Valid {
		return nil
	}
	d, err := decimal.NewFromString(s.String)
	if err != nil {
		return nil
	}
	return &d
}

// Reload installs the store's active catalog and current overrides in the
// engine when they differ from the engine's. It reports whether anything
// changed.
func (s *Store) Reload(ctx context.Context, en *Engine) (bool, error) {
	cat, err := s.Current(ctx)
	if err != nil {
		return false, err
	}
	ov, err := s.Overrides(ctx)
	if err != nil {
		return false, err
	}
	changed := false
	if cat.Version() != en.Catalog().Version() {
		en.SetCatalog(cat)
		changed = true
	}
	if ov.Version() != en.Overrides().Version() {
		en.SetOverrides(ov)
		changed = true
	}
	return changed, nil
}
