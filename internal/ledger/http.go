package ledger

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// NewHandler serves the ledger's admin API; the caller mounts it behind
// admin authentication:
//
//	GET /api/v1/events          {"events":[EVENT...],"next":"cursor"|null}
//	GET /api/v1/denials         {"denials":[DENIAL...],"next":"cursor"|null}
//	GET /api/v1/unpriced-models {"models":[...]}
//
// Query parameters of events and denials: request_id, provider, model
// (events only), key_id, tenant_id, cost_source (events only), from and to
// (RFC 3339, e.g. 2026-11-01T00:00:00Z; from inclusive, to exclusive; an
// unescaped "+" of an offset, decoded as a space, is read as "+"), dim.<key>=<value> (several are
// ANDed), limit (default 100, max 1000: larger values are capped), next (the
// cursor of the previous page), order (desc, the default, newest first; or
// asc), format (json, the default; ndjson; csv).
//
// format=ndjson and format=csv stream every matching row, page by page,
// flushing as they go, without holding the result in memory; there limit,
// when given, caps the total row count, and there is no next cursor. CSV
// has a header row of the JSON field names, empty cells for null, and dims
// and raw_usage as JSON in one cell each (a fixed column set, so the export
// needs no first pass to learn the dimension keys).
//
// A bad or unknown parameter, or one given twice, is a 400 with
// {"error":"...","param":"<name>"}.
func NewHandler(l *Ledger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/events", l.serveEvents)
	mux.HandleFunc("GET /api/v1/denials", l.serveDenials)
	mux.HandleFunc("GET /api/v1/unpriced-models", l.serveUnpriced)
	return mux
}

type format int

const (
	formatJSON format = iota
	formatNDJSON
	formatCSV
)

type request struct {
	filter   Filter
	format   format
	maxTotal int // exports: 0 = all rows
}

var knownParams = map[string]bool{
	"request_id": true, "provider": true, "model": true, "key_id": true, "tenant_id": true,
	"cost_source": true, "from": true, "to": true, "limit": true, "next": true, "order": true, "format": true,
}

func parseRequest(q url.Values) (request, *FilterError) {
	var r request
	for name, vs := range q {
		if name == "" {
			return r, &FilterError{"", "empty parameter name"}
		}
		if !knownParams[name] && !strings.HasPrefix(name, "dim.") {
			return r, &FilterError{name, "unknown parameter"}
		}
		if len(vs) > 1 {
			return r, &FilterError{name, "given more than once"}
		}
	}
	f := &r.filter
	f.RequestID = q.Get("request_id")
	f.Provider = q.Get("provider")
	f.Model = q.Get("model")
	f.KeyID = q.Get("key_id")
	f.TenantID = q.Get("tenant_id")
	f.CostSource = q.Get("cost_source")
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			// An unescaped "+01:00" offset arrives as " 01:00"; take it as meant.
			t, err := time.Parse(time.RFC3339Nano, strings.ReplaceAll(v, " ", "+"))
			if err != nil {
				return r, &FilterError{p.name, "want an RFC 3339 time such as 2026-01-02T15:04:05Z"}
			}
			*p.t = t
		}
	}
	for name := range q {
		if key, ok := strings.CutPrefix(name, "dim."); ok {
			if key == "" {
				return r, &FilterError{name, "empty dimension key"}
			}
			if f.Dims == nil {
				f.Dims = map[string]string{}
			}
			f.Dims[key] = q.Get(name)
		}
	}
	switch q.Get("format") {
	case "", "json":
		r.format = formatJSON
	case "ndjson":
		r.format = formatNDJSON
	case "csv":
		r.format = formatCSV
	default:
		return r, &FilterError{"format", "want json, ndjson or csv"}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return r, &FilterError{"limit", "want a positive integer"}
		}
		if r.format == formatJSON {
			f.Limit = n
		} else {
			r.maxTotal = n
		}
	}
	switch q.Get("order") {
	case "", "desc":
	case "asc":
		f.Ascending = true
	default:
		return r, &FilterError{"order", "want asc or desc"}
	}
	f.After = q.Get("next")
	if f.After != "" {
		if _, _, err := decodeCursor(f.After, f.Ascending); err != nil {
			var fe *FilterError
			errors.As(err, &fe)
			return r, fe
		}
	}
	return r, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type errorBody struct {
	Error string `json:"error"`
	Param string `json:"param,omitempty"`
}

func (l *Ledger) fail(w http.ResponseWriter, r *http.Request, err error) {
	var fe *FilterError
	if errors.As(err, &fe) {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: fe.Error(), Param: fe.Param})
		return
	}
	l.log.Error("ledger api", "path", r.URL.Path, "err", err)
	writeJSON(w, http.StatusInternalServerError, errorBody{Error: "internal error"})
}

type eventsPage struct {
	Events []WireEvent `json:"events"`
	Next   *string     `json:"next"`
}

type denialsPage struct {
	Denials []WireDenial `json:"denials"`
	Next    *string      `json:"next"`
}

func (l *Ledger) serveEvents(w http.ResponseWriter, r *http.Request) {
	req, ferr := parseRequest(r.URL.Query())
	if ferr != nil {
		l.fail(w, r, ferr)
		return
	}
	page := func(f Filter) ([]any, string, error) {
		evs, next, err := l.QueryEvents(r.Context(), f)
		out := make([]any, len(evs))
		for i := range evs {
			out[i] = ToWire(&evs[i])
		}
		return out, next, err
	}
	if req.format == formatJSON {
		evs, next, err := l.QueryEvents(r.Context(), req.filter)
		if err != nil {
			l.fail(w, r, err)
			return
		}
		body := eventsPage{Events: make([]WireEvent, len(evs)), Next: optString(next)}
		for i := range evs {
			body.Events[i] = ToWire(&evs[i])
		}
		writeJSON(w, http.StatusOK, body)
		return
	}
	l.export(w, r, req, "events", eventCSV, page)
}

func (l *Ledger) serveDenials(w http.ResponseWriter, r *http.Request) {
	req, ferr := parseRequest(r.URL.Query())
	if ferr != nil {
		l.fail(w, r, ferr)
		return
	}
	page := func(f Filter) ([]any, string, error) {
		ds, next, err := l.QueryDenials(r.Context(), f)
		out := make([]any, len(ds))
		for i := range ds {
			out[i] = DenialToWire(&ds[i])
		}
		return out, next, err
	}
	if req.format == formatJSON {
		ds, next, err := l.QueryDenials(r.Context(), req.filter)
		if err != nil {
			l.fail(w, r, err)
			return
		}
		body := denialsPage{Denials: make([]WireDenial, len(ds)), Next: optString(next)}
		for i := range ds {
			body.Denials[i] = DenialToWire(&ds[i])
		}
		writeJSON(w, http.StatusOK, body)
		return
	}
	l.export(w, r, req, "denials", denialCSV, page)
}

// export streams all rows of a filter page by page (MaxLimit rows each, by
// keyset, so no read transaction stays open across the whole export).
// Errors before the first byte are ordinary error responses; after it, the
// response is aborted so the client sees a truncated transfer, not a
// silently short file.
func (l *Ledger) export(w http.ResponseWriter, r *http.Request, req request, name string, layout csvLayout,
	page func(Filter) ([]any, string, error)) {
	f := req.filter
	f.Limit = MaxLimit
	rc := http.NewResponseController(w)
	started := false
	var cw *csv.Writer
	enc := json.NewEncoder(w)
	var rec []string
	total := 0
	for {
		if req.maxTotal > 0 && req.maxTotal-total < f.Limit {
			f.Limit = req.maxTotal - total
		}
		rows, next, err := page(f)
		if err != nil {
			if !started {
				l.fail(w, r, err)
				return
			}
			l.log.Error("ledger export aborted", "path", r.URL.Path, "rows", total, "err", err)
			panic(http.ErrAbortHandler)
		}
		if !started {
			started = true
			if req.format == formatCSV {
				w.Header().Set("Content-Type", "text/csv; charset=utf-8")
				w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
				cw = csv.NewWriter(w)
				_ = cw.Write(layout.header)
			} else {
				w.Header().Set("Content-Type", "application/x-ndjson")
			}
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusOK)
		}
		for _, row := range rows {
			if cw != nil {
				rec, err = layout.record(reflect.ValueOf(row), rec)
				if err == nil {
					err = cw.Write(rec)
				}
			} else {
				err = enc.Encode(row)
			}
			if err != nil {
				l.log.Warn("ledger export stopped", "path", r.URL.Path, "rows", total, "err", err)
				panic(http.ErrAbortHandler)
			}
		}
		total += len(rows)
		if cw != nil {
			cw.Flush()
			if err := cw.Error(); err != nil {
				panic(http.ErrAbortHandler)
			}
		}
		_ = rc.Flush()
		if next == "" || (req.maxTotal > 0 && total >= req.maxTotal) {
			return
		}
		f.After = next
	}
}

func (l *Ledger) serveUnpriced(w http.ResponseWriter, r *http.Request) {
	ms, err := l.UnpricedModels(r.Context())
	if err != nil {
		l.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": ms})
}
