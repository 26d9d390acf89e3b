// Package ledger is the SQLite usage ledger: one row per usage event and per
// denial, written in batches by the pipeline, idempotent on request id, and
// queried by the admin API with filters and keyset pagination.
package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/spendops/spendops/internal/store"
	"github.com/spendops/spendops/internal/usage"
)

// Ledger stores usage and denial events in SQLite. It is safe for concurrent
// use.
type Ledger struct {
	db  *sql.DB
	log *slog.Logger
}

// Open runs the ledger's migrations on db (from [store.Open]) and returns
// the ledger. The caller keeps ownership of db. logger receives the HTTP
// handler's errors; nil discards them.
func Open(ctx context.Context, db *sql.DB, logger *slog.Logger) (*Ledger, error) {
	if db == nil {
		return nil, errors.New("ledger: nil db")
	}
	if err := store.Migrate(ctx, db, Component, migrations); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Ledger{db: db, log: logger}, nil
}

// DB returns the database handle, for components that read the ledger
// tables directly (budgets, dashboards).
func (l *Ledger) DB() *sql.DB { return l.db }

var insertEventSQL = func() string {
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(eventColumns)), ", ")
	return "INSERT INTO usage_events (" + eventColumnList("") + ") VALUES (" + ph +
		") ON CONFLICT(request_id) DO NOTHING"
}()

const (
	insertEventDimSQL  = `INSERT INTO event_dims (key, value, ts, request_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`
	insertDenialDimSQL = `INSERT INTO denial_dims (key, value, ts, request_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`
)

var insertDenialSQL = "INSERT INTO denial_events (" + strings.Join(denialColumnNames, ", ") + ") VALUES (" +
	strings.TrimSuffix(strings.Repeat("?, ", len(denialColumnNames)), ", ") + ") ON CONFLICT(request_id) DO NOTHING"

// InsertEvents writes the events in one transaction. An event whose
// request_id is already stored is skipped (the first write wins), so
// replaying a batch after a crash or a retry never duplicates. Events
// without a request id are rejected, and the whole batch with them.
func (l *Ledger) InsertEvents(ctx context.Context, events []usage.Event) error {
	if len(events) == 0 {
		return nil
	}
	for i := range events {
		if events[i].RequestID == "" {
			return fmt.Errorf("insert events: event %d has no request_id", i)
		}
	}
	return l.inTx(ctx, "insert events", func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, insertEventSQL)
		if err != nil {
			return err
		}
		defer ins.Close()
		dim, err := tx.PrepareContext(ctx, insertEventDimSQL)
		if err != nil {
			return err
		}
		defer dim.Close()
		args := make([]any, len(eventColumns))
		for i := range events {
			e := &events[i]
			for j, c := range eventColumns {
				args[j] = c.get(e)
			}
			res, err := ins.ExecContext(ctx, args...)
			if err != nil {
				return fmt.Errorf("event %s: %w", e.RequestID, err)
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				continue // already stored: its dims are too
			}
			if err := insertDims(ctx, dim, e.Dims, formatTS(e.TS), e.RequestID); err != nil {
				return err
			}
		}
		return nil
	})
}

// InsertDenials writes the denials in one transaction, skipping request ids
// already stored, like [Ledger.InsertEvents].
func (l *Ledger) InsertDenials(ctx context.Context, denials []usage.Denial) error {
	if len(denials) == 0 {
		return nil
	}
	for i := range denials {
		if denials[i].RequestID == "" {
			return fmt.Errorf("insert denials: denial %d has no request_id", i)
		}
	}
	return l.inTx(ctx, "insert denials", func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, insertDenialSQL)
		if err != nil {
			return err
		}
		defer ins.Close()
		dim, err := tx.PrepareContext(ctx, insertDenialDimSQL)
		if err != nil {
			return err
		}
		defer dim.Close()
		for i := range denials {
			d := &denials[i]
			res, err := ins.ExecContext(ctx, denialValues(d)...)
			if err != nil {
				return fmt.Errorf("denial %s: %w", d.RequestID, err)
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				continue
			}
			if err := insertDims(ctx, dim, d.Dims, formatTS(d.TS), d.RequestID); err != nil {
				return err
			}
		}
		return nil
	})
}

func insertDims(ctx context.Context, stmt *sql.Stmt, dims map[string]string, ts, id string) error {
	for k, v := range dims {
		if _, err := stmt.ExecContext(ctx, k, v, ts, id); err != nil {
			return fmt.Errorf("dims of %s: %w", id, err)
		}
	}
	return nil
}

func (l *Ledger) inTx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}

// UpdateCosts writes the cost fields of already stored events (matched by
// request_id): provider_cost, calculated_cost, total_cost_usd, cost_source,
// pricing_matched, pricing_model and pricing_version. Other fields are
// ignored, so re-pricing cannot rewrite what was observed. Before each
// change the previous costs are copied to event_cost_history, the audit
// trail of re-pricing. Events whose costs are unchanged are not touched. It
// returns how many events changed; unknown request ids are skipped.
func (l *Ledger) UpdateCosts(ctx context.Context, events []usage.Event) (int64, error) {
	var changed int64
	err := l.inTx(ctx, "update costs", func(tx *sql.Tx) error {
		hist, err := tx.PrepareContext(ctx, `INSERT INTO event_cost_history
			(request_id, provider_cost, calculated_cost, total_cost_usd, cost_source, pricing_matched, pricing_model, pricing_version)
			SELECT request_id, provider_cost, calculated_cost, total_cost_usd, cost_source, pricing_matched, pricing_model, pricing_version
			FROM usage_events WHERE request_id = ?1 AND NOT (
				provider_cost IS ?2 AND calculated_cost IS ?3 AND total_cost_usd IS ?4 AND cost_source = ?5
				AND pricing_matched = ?6 AND pricing_model = ?7 AND pricing_version = ?8)`)
		if err != nil {
			return err
		}
		defer hist.Close()
		upd, err := tx.PrepareContext(ctx, `UPDATE usage_events SET provider_cost = ?2, calculated_cost = ?3,
			total_cost_usd = ?4, cost_source = ?5, pricing_matched = ?6, pricing_model = ?7, pricing_version = ?8,
			costs_updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
			WHERE request_id = ?1 AND NOT (
				provider_cost IS ?2 AND calculated_cost IS ?3 AND total_cost_usd IS ?4 AND cost_source = ?5
				AND pricing_matched = ?6 AND pricing_model = ?7 AND pricing_version = ?8)`)
		if err != nil {
			return err
		}
		defer upd.Close()
		for i := range events {
			e := &events[i]
			args := []any{e.RequestID, decimalPtrValue(e.ProviderCost), decimalPtrValue(e.CalculatedCost),
				decimalPtrValue(e.TotalCost), string(e.CostSource), e.PricingMatched, e.PricingModel, e.PricingVersion}
			if _, err := hist.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("history of %s: %w", e.RequestID, err)
			}
			res, err := upd.ExecContext(ctx, args...)
			if err != nil {
				return fmt.Errorf("event %s: %w", e.RequestID, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			changed += n
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return changed, nil
}

// CostChange is one entry of an event's re-pricing history: the costs it
// had before a change made by [Ledger.UpdateCosts].
type CostChange struct {
	ChangedAt      string
	ProviderCost   *string
	CalculatedCost *string
	TotalCost      *string
	CostSource     string
	PricingMatched bool
	PricingModel   string
	PricingVersion string
}

// CostHistory returns an event's earlier costs, oldest first.
func (l *Ledger) CostHistory(ctx context.Context, requestID string) ([]CostChange, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT changed_at, provider_cost, calculated_cost, total_cost_usd,
		cost_source, pricing_matched, pricing_model, pricing_version
		FROM event_cost_history WHERE request_id = ? ORDER BY changed_at, rowid`, requestID)
	if err != nil {
		return nil, fmt.Errorf("cost history: %w", err)
	}
	defer rows.Close()
	var out []CostChange
	for rows.Next() {
		var c CostChange
		if err := rows.Scan(&c.ChangedAt, &c.ProviderCost, &c.CalculatedCost, &c.TotalCost,
			&c.CostSource, &c.PricingMatched, &c.PricingModel, &c.PricingVersion); err != nil {
			return nil, fmt.Errorf("cost history: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cost history: %w", err)
	}
	return out, nil
}

// UnpricedModel is a provider/model whose events found no price
// (cost_source "none" and pricing_matched false), with what they used.
type UnpricedModel struct {
	Provider         string `json:"provider"`
	Model            string `json:"model"`
	Requests         int64  `json:"requests"`
	PromptTokens     int64  `json:"prompt_tokens"`
	CompletionTokens int64  `json:"completion_tokens"`
	CacheReadTokens  int64  `json:"cache_read_tokens"`
	CacheWriteTokens int64  `json:"cache_write_tokens"`
	FirstSeen        string `json:"first_seen"`
	LastSeen         string `json:"last_seen"`
}

// UnpricedModels lists the models with unpriced events, most requests first.
// Re-pricing fetches their events with a [Filter] on Provider, Model and
// CostSource "none", prices them and calls [Ledger.UpdateCosts].
func (l *Ledger) UnpricedModels(ctx context.Context) ([]UnpricedModel, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT provider, model, count(*),
		coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0),
		coalesce(sum(cache_read_tokens), 0), coalesce(sum(cache_write_tokens), 0), min(ts), max(ts)
		FROM usage_events
		WHERE cost_source = 'none' AND pricing_matched = 0
		GROUP BY provider, model ORDER BY count(*) DESC, provider, model`)
	if err != nil {
		return nil, fmt.Errorf("unpriced models: %w", err)
	}
	defer rows.Close()
	out := []UnpricedModel{}
	for rows.Next() {
		var m UnpricedModel
		if err := rows.Scan(&m.Provider, &m.Model, &m.Requests, &m.PromptTokens, &m.CompletionTokens,
			&m.CacheReadTokens, &m.CacheWriteTokens, &m.FirstSeen, &m.LastSeen); err != nil {
			return nil, fmt.Errorf("unpriced models: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("unpriced models: %w", err)
	}
	return out, nil
}

// sortedKeys gives map keys in a fixed order so generated SQL is stable.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
