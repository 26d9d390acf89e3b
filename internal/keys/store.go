package keys

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spendops/spendops/internal/store"
)

// Key is one stored API key. The key string itself is never stored: only
// its HMAC under the server secret.
type Key struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	TenantID   string     `json:"tenant"`
	Active     bool       `json:"active"`
	Policy     Policy     `json:"policy"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	// PrevHashExpires is set during a rotation grace period: until then the
	// previous secret still authenticates.
	PrevHashExpires *time.Time `json:"previous_secret_valid_until,omitempty"`

	hash     []byte
	prevHash []byte
}

// Sentinel errors of the key store.
var (
	ErrNotFound = errors.New("key not found")
	ErrInactive = errors.New("key is inactive")
	ErrUnknown  = errors.New("unknown key")
)

// DefaultTenant is the tenant of keys created without one.
const DefaultTenant = "default"

var migrations = []store.Migration{
	{Version: 1, SQL: `
CREATE TABLE api_keys (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	tenant_id TEXT NOT NULL,
	hash BLOB NOT NULL,
	prev_hash BLOB,
	prev_hash_expires_ms INTEGER,
	active INTEGER NOT NULL DEFAULT 1,
	policy TEXT NOT NULL DEFAULT '{}',
	created_ms INTEGER NOT NULL,
	updated_ms INTEGER NOT NULL,
	last_used_ms INTEGER,
	revoked_ms INTEGER
);
CREATE TABLE key_audit (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	ts_ms INTEGER NOT NULL,
	key_id TEXT NOT NULL,
	action TEXT NOT NULL,
	actor TEXT NOT NULL,
	detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX key_audit_key ON key_audit(key_id, seq);
CREATE TABLE keys_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
INSERT INTO keys_version(id, version) VALUES (1, 0);
`},
}

// Store persists keys in SQLite. Every mutation bumps keys_version in the
// same transaction, which is how running servers notice CLI changes.
type Store struct {
	db     *sql.DB
	secret []byte
	now    func() time.Time
}

// NewStore migrates the key tables and returns a store that hashes keys
// under serverSecret.
func NewStore(ctx context.Context, db *sql.DB, serverSecret []byte) (*Store, error) {
	if len(serverSecret) < 32 {
		return nil, errors.New("server secret must be at least 32 bytes")
	}
	if err := store.Migrate(ctx, db, "keys", migrations); err != nil {
		return nil, err
	}
	return &Store{db: db, secret: serverSecret, now: time.Now}, nil
}

// CreateInput describes a new key.
type CreateInput struct {
	Name     string
	TenantID string
	Policy   Policy
	Actor    string
}

// Validate checks the input.
func (in *CreateInput) Validate() error {
	if in.Name == "" || len(in.Name) > 200 {
		return errors.New("name: required, at most 200 characters")
	}
	if len(in.TenantID) > 200 {
		return errors.New("tenant: at most 200 characters")
	}
	return nil
}

// Create stores a new key and returns it with the full key string, which is
// shown once and never again.
func (s *Store) Create(ctx context.Context, in CreateInput) (*Key, string, error) {
	if err := in.Validate(); err != nil {
		return nil, "", err
	}
	if in.TenantID == "" {
		in.TenantID = DefaultTenant
	}
	id, full, err := Generate()
	if err != nil {
		return nil, "", err
	}
	pol, err := json.Marshal(in.Policy)
	if err != nil {
		return nil, "", err
	}
	now := s.now().UTC()
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO api_keys(id, name, tenant_id, hash, policy, created_ms, updated_ms) VALUES (?,?,?,?,?,?,?)`,
			id, in.Name, in.TenantID, Hash(s.secret, full), string(pol), now.UnixMilli(), now.UnixMilli()); err != nil {
			return err
		}
		return audit(ctx, tx, now, id, "create", in.Actor, map[string]any{"name": in.Name, "tenant": in.TenantID, "policy": in.Policy})
	})
	if err != nil {
		return nil, "", fmt.Errorf("create key: %w", err)
	}
	k, err := s.Get(ctx, id)
	return k, full, err
}

// Get returns one key.
func (s *Store) Get(ctx context.Context, id string) (*Key, error) {
	ks, err := s.query(ctx, `WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(ks) == 0 {
		return nil, ErrNotFound
	}
	return ks[0], nil
}

// List returns all keys, oldest first.
func (s *Store) List(ctx context.Context) ([]*Key, error) {
	return s.query(ctx, `ORDER BY created_ms, id`)
}

// SetActive deactivates (revokes) or reactivates a key.
func (s *Store) SetActive(ctx context.Context, id string, active bool, actor string) error {
	now := s.now().UTC()
	action, revoked := "reactivate", sql.NullInt64{}
	if !active {
		action, revoked = "deactivate", sql.NullInt64{Int64: now.UnixMilli(), Valid: true}
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET active = ?, revoked_ms = ?, updated_ms = ? WHERE id = ?`, active, revoked, now.UnixMilli(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return audit(ctx, tx, now, id, action, actor, nil)
	})
}

// SetPolicy replaces a key's policy.
func (s *Store) SetPolicy(ctx context.Context, id string, p Policy, actor string) error {
	pol, err := json.Marshal(p)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	return s.tx(ctx, func(tx *sql.Tx) error {
		var old string
		if err := tx.QueryRowContext(ctx, `SELECT policy FROM api_keys WHERE id = ?`, id).Scan(&old); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET policy = ?, updated_ms = ? WHERE id = ?`, string(pol), now.UnixMilli(), id); err != nil {
			return err
		}
		return audit(ctx, tx, now, id, "policy_change", actor, map[string]any{"old": json.RawMessage(old), "new": p})
	})
}

// Rotate gives a key a new secret (same id and policy). The old secret keeps
// working for grace (zero: not at all). It returns the new full key.
func (s *Store) Rotate(ctx context.Context, id string, grace time.Duration, actor string) (string, error) {
	_, full, err := Generate()
	if err != nil {
		return "", err
	}
	full = Prefix + id + full[len(Prefix)+idLen:]
	now := s.now().UTC()
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var oldHash []byte
		if err := tx.QueryRowContext(ctx, `SELECT hash FROM api_keys WHERE id = ?`, id).Scan(&oldHash); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		var prev any
		var until sql.NullInt64
		if grace > 0 {
			prev, until = oldHash, sql.NullInt64{Int64: now.Add(grace).UnixMilli(), Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET hash = ?, prev_hash = ?, prev_hash_expires_ms = ?, updated_ms = ? WHERE id = ?`,
			Hash(s.secret, full), prev, until, now.UnixMilli(), id); err != nil {
			return err
		}
		return audit(ctx, tx, now, id, "rotate", actor, map[string]any{"grace_seconds": int64(grace / time.Second)})
	})
	if err != nil {
		return "", fmt.Errorf("rotate key: %w", err)
	}
	return full, nil
}

// TouchLastUsed records last-use times in one transaction (called
// asynchronously, in batches). It does not bump the keys version: last-use
// is informational and must not make every server reload its cache.
func (s *Store) TouchLastUsed(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for id, t := range used {
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET last_used_ms = max(coalesce(last_used_ms, 0), ?) WHERE id = ?`, t.UnixMilli(), id); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Version returns the keys version, bumped by every key mutation.
func (s *Store) Version(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, `SELECT version FROM keys_version WHERE id = 1`).Scan(&v)
	return v, err
}

// AuditEntry is one key lifecycle or policy change.
type AuditEntry struct {
	Seq    int64           `json:"seq"`
	TS     time.Time       `json:"ts"`
	KeyID  string          `json:"key_id"`
	Action string          `json:"action"`
	Actor  string          `json:"actor"`
	Detail json.RawMessage `json:"detail"`
}

// Audit returns audit entries after seq (ascending), optionally for one key.
func (s *Store) Audit(ctx context.Context, keyID string, afterSeq int64, limit int) ([]AuditEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT seq, ts_ms, key_id, action, actor, detail FROM key_audit
		WHERE seq > ? AND (? = '' OR key_id = ?) ORDER BY seq LIMIT ?`, afterSeq, keyID, keyID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var ts int64
		var detail string
		if err := rows.Scan(&e.Seq, &ts, &e.KeyID, &e.Action, &e.Actor, &detail); err != nil {
			return nil, err
		}
		e.TS, e.Detail = time.UnixMilli(ts).UTC(), json.RawMessage(detail)
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE keys_version SET version = version + 1 WHERE id = 1`); err != nil {
		return err
	}
	return tx.Commit()
}

func audit(ctx context.Context, tx *sql.Tx, now time.Time, id, action, actor string, detail map[string]any) error {
	if actor == "" {
		actor = "unknown"
	}
	d := []byte("{}")
	if detail != nil {
		var err error
		if d, err = json.Marshal(detail); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO key_audit(ts_ms, key_id, action, actor, detail) VALUES (?,?,?,?,?)`, now.UnixMilli(), id, action, actor, string(d))
	return err
}

func (s *Store) query(ctx context.Context, where string, args ...any) ([]*Key, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, tenant_id, hash, prev_hash, prev_hash_expires_ms, active, policy,
		created_ms, updated_ms, last_used_ms, revoked_ms FROM api_keys `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("query keys: %w", err)
	}
	defer rows.Close()
	var out []*Key
	for rows.Next() {
		var k Key
		var pol string
		var created, updated int64
		var prevExp, lastUsed, revoked sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Name, &k.TenantID, &k.hash, &k.prevHash, &prevExp, &k.Active, &pol,
			&created, &updated, &lastUsed, &revoked); err != nil {
			return nil, fmt.Errorf("scan key: %w", err)
		}
		if err := json.Unmarshal([]byte(pol), &k.Policy); err != nil {
			return nil, fmt.Errorf("key %s: policy: %w", k.ID, err)
		}
		k.CreatedAt, k.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
		k.LastUsedAt, k.RevokedAt, k.PrevHashExpires = msPtr(lastUsed), msPtr(revoked), msPtr(prevExp)
		out = append(out, &k)
	}
	return out, rows.Err()
}

func msPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64).UTC()
	return &t
}
