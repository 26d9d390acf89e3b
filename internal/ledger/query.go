package ledger

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spendops/spendops/internal/usage"
)

// Page sizes of [Filter.Limit].
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Filter selects events or denials. Zero fields do not filter; set fields
// are ANDed.
type Filter struct {
	RequestID string
	Provider  string
	// Model matches the model the request named (the event's model field).
	// Denials have no model: a Model filter on denials is an error.
	Model    string
	KeyID    string
	TenantID string
	// CostSource filters events by cost_source (re-pricing uses "none").
	// Not valid for denials.
	CostSource string
	// From is inclusive and To exclusive; zero means unbounded.
	From, To time.Time
	// Dims must all match exactly (dim.team=search&dim.app=web).
	Dims map[string]string
	// Limit is the page size: 0 means DefaultLimit, above MaxLimit means
	// MaxLimit.
	Limit int
	// After is the next cursor of the previous page, or "" for the first.
	After string
	// Ascending returns oldest first; the default is newest first. A
	// cursor only continues a query of the same order.
	Ascending bool
}

// FilterError is a filter the ledger cannot apply; Param names the query
// parameter at fault so the API can say which.
type FilterError struct {
	Param string
	Msg   string
}

func (e *FilterError) Error() string {
	if e.Param == "" {
		return "invalid query: " + e.Msg
	}
	return fmt.Sprintf("invalid %s: %s", e.Param, e.Msg)
}

func (f *Filter) pageSize() int {
	switch {
	case f.Limit <= 0:
		return DefaultLimit
	case f.Limit > MaxLimit:
		return MaxLimit
	}
	return f.Limit
}

// Cursors are opaque to clients: base64url of "v1", the order, and the
// (ts, request_id) of the last row returned. Keyset pagination on that
// pair is stable under concurrent inserts: a page never repeats or skips a
// row that existed when the walk began, and no OFFSET scan grows with depth.
const cursorVersion = "v1"

func encodeCursor(asc bool, ts, id string) string {
	order := "d"
	if asc {
		order = "a"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(cursorVersion + "\x00" + order + "\x00" + ts + "\x00" + id))
}

func decodeCursor(s string, asc bool) (ts, id string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", "", &FilterError{"next", "malformed cursor"}
	}
	parts := strings.SplitN(string(b), "\x00", 4)
	if len(parts) != 4 || parts[0] != cursorVersion || (parts[1] != "a" && parts[1] != "d") {
		return "", "", &FilterError{"next", "malformed cursor"}
	}
	if (parts[1] == "a") != asc {
		return "", "", &FilterError{"next", "cursor belongs to a query of the other order"}
	}
	if _, err := parseTS(parts[2]); err != nil {
		return "", "", &FilterError{"next", "malformed cursor"}
	}
	return parts[2], parts[3], nil
}

type tableSpec struct {
	name, dims, cols string
	events           bool
}

var (
	eventsTable  = tableSpec{"usage_events", "event_dims", eventColumnList("e"), true}
	denialsTable = tableSpec{"denial_events", "denial_dims", "e." + strings.Join(denialColumnNames, ", e."), false}
)

// buildQuery returns the SELECT for one page (limit+1 rows, to know whether
// another page follows). With dim filters it drives from the first dim's
// (key, value, ts, request_id) primary key, whose order is the page order,
// so SQLite needs no sort; without, from the (ts, request_id) index or a
// (column, ts, request_id) index of the filtered column.
func buildQuery(t tableSpec, f *Filter) (string, []any, error) {
	if !t.events && f.Model != "" {
		return "", nil, &FilterError{"model", "denials have no model"}
	}
	if !t.events && f.CostSource != "" {
		return "", nil, &FilterError{"cost_source", "denials have no cost"}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return "", nil, &FilterError{"to", "must be after from"}
	}
	for k := range f.Dims {
		if k == "" {
			return "", nil, &FilterError{"dim.", "empty dimension key"}
		}
	}
	var (
		src   = "FROM " + t.name + " e"
		conds []string
		args  []any
		pos   = "e"
	)
	keys := sortedKeys(f.Dims)
	if len(keys) > 0 {
		pos = "d0"
		src = "FROM " + t.dims + " d0 JOIN " + t.name + " e ON e.request_id = d0.request_id"
		conds = append(conds, "d0.key = ? AND d0.value = ?")
		args = append(args, keys[0], f.Dims[keys[0]])
		for _, k := range keys[1:] {
			conds = append(conds, "EXISTS (SELECT 1 FROM "+t.dims+" dn WHERE dn.key = ? AND dn.value = ? AND dn.ts = d0.ts AND dn.request_id = d0.request_id)")
			args = append(args, k, f.Dims[k])
		}
	}
	eq := func(col, v string) {
		if v != "" {
			conds = append(conds, "e."+col+" = ?")
			args = append(args, v)
		}
	}
	eq("request_id", f.RequestID)
	eq("provider", f.Provider)
	eq("model", f.Model)
	eq("api_key_id", f.KeyID)
	eq("tenant_id", f.TenantID)
	eq("cost_source", f.CostSource)
	var from, to string
	if !f.From.IsZero() {
		from = formatTS(f.From)
	}
	if !f.To.IsZero() {
		to = formatTS(f.To)
	}
	cmp, dir := "<", "DESC"
	if f.Ascending {
		cmp, dir = ">", "ASC"
	}
	if f.After != "" {
		ts, id, err := decodeCursor(f.After, f.Ascending)
		if err != nil {
			return "", nil, err
		}
		conds = append(conds, "("+pos+".ts, "+pos+".request_id) "+cmp+" (?, ?)")
		args = append(args, ts, id)
		// Also bound ts alone by the cursor, tighter than from/to, so the
		// index range starts at the cursor: SQLite seeks on one ts bound
		// per side and would otherwise start at from and filter its way
		// to the cursor, page after page.
		if f.Ascending && ts > from {
			from = ts
		}
		if !f.Ascending && (to == "" || ts < to) {
			conds = append(conds, pos+".ts <= ?")
			args = append(args, ts)
			to = ""
		}
	}
	if from != "" {
		conds = append(conds, pos+".ts >= ?")
		args = append(args, from)
	}
	if to != "" {
		conds = append(conds, pos+".ts < ?")
		args = append(args, to)
	}
	q := "SELECT " + t.cols + " " + src
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY " + pos + ".ts " + dir + ", " + pos + ".request_id " + dir + " LIMIT ?"
	args = append(args, f.pageSize()+1)
	return q, args, nil
}

// QueryEvents returns one page of events matching f and the cursor of the
// next page, "" when this page is the last.
func (l *Ledger) QueryEvents(ctx context.Context, f Filter) ([]usage.Event, string, error) {
	events := []usage.Event{}
	next, err := l.query(ctx, eventsTable, &f, func(rows *sql.Rows) (string, string, error) {
		e, err := scanEvent(rows)
		if err != nil {
			return "", "", err
		}
		events = append(events, e)
		return formatTS(e.TS), e.RequestID, nil
	})
	if err != nil {
		return nil, "", err
	}
	return events, next, nil
}

// QueryDenials returns one page of denials matching f (which must not set
// Model or CostSource) and the cursor of the next page.
func (l *Ledger) QueryDenials(ctx context.Context, f Filter) ([]usage.Denial, string, error) {
	denials := []usage.Denial{}
	next, err := l.query(ctx, denialsTable, &f, func(rows *sql.Rows) (string, string, error) {
		d, err := scanDenial(rows)
		if err != nil {
			return "", "", err
		}
		denials = append(denials, d)
		return formatTS(d.TS), d.RequestID, nil
	})
	if err != nil {
		return nil, "", err
	}
	return denials, next, nil
}

// query runs one page; scan appends a row and returns its key. The extra
// (limit+1)th row is read only to learn that a next page exists: it is
// counted, not kept.
func (l *Ledger) query(ctx context.Context, t tableSpec, f *Filter, scan func(*sql.Rows) (string, string, error)) (string, error) {
	q, args, err := buildQuery(t, f)
	if err != nil {
		return "", err
	}
	rows, err := l.db.QueryContext(ctx, q, args...)
	if err != nil {
		return "", fmt.Errorf("query %s: %w", t.name, err)
	}
	defer rows.Close()
	limit := f.pageSize()
	var n int
	var lastTS, lastID string
	more := false
	for rows.Next() {
		if n == limit {
			more = true
			break
		}
		lastTS, lastID, err = scan(rows)
		if err != nil {
			return "", err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("query %s: %w", t.name, err)
	}
	if !more {
		return "", nil
	}
	return encodeCursor(f.Ascending, lastTS, lastID), nil
}

// IsFilterError reports whether err is a bad filter (a client error).
func IsFilterError(err error) bool {
	var fe *FilterError
	return errors.As(err, &fe)
}
