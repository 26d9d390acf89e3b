package store

import "testing"

func TestMigrateIdempotent(t *testing.T) {
	db, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms := []Migration{{1, `CREATE TABLE a(x INTEGER)`}, {2, `ALTER TABLE a ADD COLUMN y TEXT`}}
	for i := 0; i < 2; i++ {
		if err := Migrate(t.Context(), db, "test", ms); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	if err := Migrate(t.Context(), db, "bad", []Migration{{2, `SELECT 1`}}); err == nil {
		t.Fatal("want error for out-of-order version")
	}
}
