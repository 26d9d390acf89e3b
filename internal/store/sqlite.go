// Package store opens the embedded SQLite database and runs each
// component's schema migrations. Components (keys, ledger, pricing, audit)
// own their tables and migrations; this package only provides the database
// handle and the migration runner, so a PostgreSQL backend can slot in
// behind the same component interfaces later.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go, no cgo)
)

// DBFile is the database file name inside the data dir.
const DBFile = "spendops.db"

// Open opens (creating if needed) the SQLite database in dataDir with WAL
// journaling, a busy timeout so concurrent CLI and server processes wait
// for each other instead of failing, and foreign keys on.
func Open(dataDir string) (*sql.DB, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	dsn := "file:" + filepath.Join(dataDir, DBFile) +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	if err := db.Ping(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	return db, nil
}

// Migration is one schema step of a component.
type Migration struct {
	Version int
	SQL     string
}

// Migrate applies the component's migrations above its recorded version, in
// order, each in its own transaction. Versions must be 1, 2, 3, ...
func Migrate(ctx context.Context, db *sql.DB, component string, ms []Migration) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		component TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
		PRIMARY KEY (component, version))`); err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	for i, m := range ms {
		if m.Version != i+1 {
			return fmt.Errorf("migrate %s: migration %d has version %d", component, i+1, m.Version)
		}
		if err := applyOne(ctx, db, component, m); err != nil {
			return fmt.Errorf("migrate %s to %d: %w", component, m.Version, err)
		}
	}
	return nil
}

func applyOne(ctx context.Context, db *sql.DB, component string, m Migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE component=? AND version=?`, component, m.Version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(component, version) VALUES(?, ?)`, component, m.Version); err != nil {
		return err
	}
	return tx.Commit()
}
