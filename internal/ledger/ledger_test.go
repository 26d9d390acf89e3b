package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/spendops/spendops/internal/store"
	"github.com/spendops/spendops/internal/usage"
)

func newLedger(t testing.TB) *Ledger {
	t.Helper()
	db, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	l, err := Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

var baseTS = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func dec(s string) *decimal.Decimal {
	d := decimal.RequireFromString(s)
	return &d
}

// fullEvent sets every field, so the round trip and the golden file cover
// them all.
func fullEvent() usage.Event {
	return usage.Event{
		RequestID:     "0b7c2f6e-8d1a-4c3e-9f00-000000000001",
		TS:            time.Date(2026, 11, 2, 9, 30, 15, 123456789, time.FixedZone("CET", 3600)),
		Env:           "prod",
		TenantID:      "default",
		APIKeyID:      "key_abc",
		Provider:      "anthropic",
		Method:        "POST",
		Endpoint:      "/v1/messages",
		EndpointClass: usage.EndpointMessages,
		Model:         "claude-sonnet-4-5",
		ResponseModel: "claude-sonnet-4-5-20250929",
		GenerationID:  "msg_01XYZ",
		ServiceTier:   "standard",
		Stream:        true,
		UsageInjected: false,
		Outcome:       usage.OutcomeCompleted,
		UsageSource:   usage.SourceProvider,
		HTTPStatus:    200,
		Dims:          map[string]string{"team": "search", "app": "web"},
		Tokens: usage.Tokens{
			Prompt: 1500, Completion: 320, Total: 1820, CacheRead: 1000, CacheWrite: 200,
			CacheWrite5m: 150, CacheWrite1h: 50, Reasoning: 64, PromptAudio: 3, PromptImage: 4,
			CompletionAudio: 5, CompletionImage: 6,
		},
		WebSearchRequests: 2,
		ImageCount:        1,
		ImageSize:         "1024x1024",
		ImageQuality:      "hd",
		AudioSeconds:      decimal.RequireFromString("12.50"),
		InputCharacters:   42,
		ProviderCost:      nil,
		CalculatedCost:    dec("0.0123456789012"),
		TotalCost:         dec("0.01234500"),
		CostSource:        usage.CostStandard,
		PricingMatched:    true,
		PricingModel:      "claude-sonnet-4-5",
		PricingVersion:    "2026-11-01.1",
		PromptChars:       6000,
		CompletionChars:   1280,
		CompletionBytes:   2048,
		StartedAtMs:       1793608215123,
		FirstByteAtMs:     1793608215456,
		EndedAtMs:         1793608217000,
		RawUsage: json.RawMessage(`{"message_start": {"input_tokens": 300, "cache_read_input_tokens": 1000},
 "message_delta": {"output_tokens": 320}}`),
	}
}

// eventJSON is a comparable form of an event: every field, values not
// representation (decimal scale is checked separately).
func eventJSON(t *testing.T, e usage.Event) string {
	t.Helper()
	e.TS = e.TS.UTC()
	if e.RawUsage != nil {
		e.RawUsage = json.RawMessage(string(e.RawUsage)) // keep bytes as they are
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRoundTripEveryField(t *testing.T) {
	l := newLedger(t)
	ctx := t.Context()
	in := fullEvent()
	if err := l.InsertEvents(ctx, []usage.Event{in}); err != nil {
		t.Fatal(err)
	}
	got, next, err := l.QueryEvents(ctx, Filter{RequestID: in.RequestID})
	if err != nil || next != "" || len(got) != 1 {
		t.Fatalf("query = %d events, next %q, %v", len(got), next, err)
	}
	if g, w := eventJSON(t, got[0]), eventJSON(t, in); g != w {
		t.Errorf("round trip differs\n got %s\nwant %s", g, w)
	}
	if string(got[0].RawUsage) != string(in.RawUsage) {
		t.Errorf("raw_usage not byte-exact: %q", got[0].RawUsage)
	}
	// Money is exact decimal text with its scale, never REAL.
	var typ, total, calc string
	if err := l.db.QueryRowContext(ctx, `SELECT typeof(total_cost_usd), total_cost_usd, calculated_cost FROM usage_events`).
		Scan(&typ, &total, &calc); err != nil {
		t.Fatal(err)
	}
	if typ != "text" || total != "0.01234500" || calc != "0.0123456789012" {
		t.Errorf("stored cost = %s %q %q", typ, total, calc)
	}
	var provCost any
	if err := l.db.QueryRowContext(ctx, `SELECT provider_cost FROM usage_events`).Scan(&provCost); err != nil || provCost != nil {
		t.Errorf("unknown provider_cost stored as %v (%v), want NULL", provCost, err)
	}
}

func mkEvent(i int) usage.Event {
	return usage.Event{
		RequestID:   fmt.Sprintf("req-%05d", i),
		TS:          baseTS.Add(time.Duration(i) * time.Second),
		TenantID:    "default",
		APIKeyID:    "key_a",
		Provider:    "openai",
		Model:       "gpt-4o",
		Outcome:     usage.OutcomeCompleted,
		UsageSource: usage.SourceProvider,
		HTTPStatus:  200,
		CostSource:  usage.CostStandard,
		Tokens:      usage.Tokens{Prompt: int64(i), Completion: 1, Total: int64(i) + 1},
		TotalCost:   dec("0.000001000"),
	}
}

func countRows(t *testing.T, l *Ledger, table string) int {
	t.Helper()
	var n int
	if err := l.db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestInsertIdempotent(t *testing.T) {
	l := newLedger(t)
	ctx := t.Context()
	var batch []usage.Event
	for i := range 10 {
		e := mkEvent(i)
		e.Dims = map[string]string{"team": "a"}
		batch = append(batch, e)
	}
	if err := l.InsertEvents(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// A replay of the same batch plus new events, one duplicated inside the
	// batch, and a replayed event whose fields changed: the first write wins.
	replay := slices.Clone(batch)
	replay[0].Model = "changed"
	replay[0].Dims = map[string]string{"team": "b"}
	for i := 10; i < 15; i++ {
		replay = append(replay, mkEvent(i))
	}
	replay = append(replay, mkEvent(14))
	if err := l.InsertEvents(ctx, replay); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, l, "usage_events"); n != 15 {
		t.Errorf("events = %d, want 15", n)
	}
	if n := countRows(t, l, "event_dims"); n != 10 {
		t.Errorf("dim rows = %d, want 10", n)
	}
	got, _, err := l.QueryEvents(ctx, Filter{RequestID: "req-00000"})
	if err != nil || len(got) != 1 || got[0].Model != "gpt-4o" || got[0].Dims["team"] != "a" {
		t.Errorf("replay overwrote the first write: %+v %v", got, err)
	}

	dn := []usage.Denial{
		{RequestID: "d1", TS: baseTS, Type: usage.DenialMissingKey, Reason: "Missing X-ASO-API-Key", HTTPStatus: 401, Path: "/v1/openai/chat/completions"},
		{RequestID: "d2", TS: baseTS, Type: usage.DenialDimensions, HTTPStatus: 400, TenantID: "t", APIKeyID: "k", Provider: "openai", Dims: map[string]string{"team": "x"}},
	}
	for range 2 {
		if err := l.InsertDenials(ctx, append(dn, dn[0])); err != nil {
			t.Fatal(err)
		}
	}
	if n := countRows(t, l, "denial_events"); n != 2 {
		t.Errorf("denials = %d, want 2", n)
	}
	if n := countRows(t, l, "denial_dims"); n != 1 {
		t.Errorf("denial dim rows = %d, want 1", n)
	}
	if err := l.InsertEvents(ctx, []usage.Event{{TS: baseTS}}); err == nil {
		t.Error("event without request_id accepted")
	}
}

func ids(evs []usage.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.RequestID
	}
	return out
}

func TestFilters(t *testing.T) {
	l := newLedger(t)
	ctx := t.Context()
	evs := []usage.Event{
		{RequestID: "a", Provider: "openai", Model: "gpt-4o", APIKeyID: "k1", TenantID: "t1", Dims: map[string]string{"team": "search", "app": "web"}},
		{RequestID: "b", Provider: "openai", Model: "gpt-4o-mini", APIKeyID: "k2", TenantID: "t1", Dims: map[string]string{"team": "search", "app": "cli"}},
		{RequestID: "c", Provider: "anthropic", Model: "claude-sonnet-4-5", APIKeyID: "k1", TenantID: "t2", Dims: map[string]string{"team": "ads"}},
		{RequestID: "d", Provider: "google", Model: "gemini-2.5-pro", APIKeyID: "k3", TenantID: "t2", CostSource: usage.CostNone},
		{RequestID: "e", Provider: "openai", Model: "gpt-4o", APIKeyID: "k1", TenantID: "t1", Dims: map[string]string{"team": "search", "env": ""}},
	}
	for i := range evs {
		evs[i].TS = baseTS.Add(time.Duration(i) * time.Hour)
		if evs[i].CostSource == "" {
			evs[i].CostSource = usage.CostStandard
		}
	}
	if err := l.InsertEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    Filter
		want []string // ascending
	}{
		{"none", Filter{}, []string{"a", "b", "c", "d", "e"}},
		{"request_id", Filter{RequestID: "c"}, []string{"c"}},
		{"unknown request_id", Filter{RequestID: "zz"}, []string{}},
		{"provider", Filter{Provider: "openai"}, []string{"a", "b", "e"}},
		{"model", Filter{Model: "gpt-4o"}, []string{"a", "e"}},
		{"provider and model", Filter{Provider: "anthropic", Model: "claude-sonnet-4-5"}, []string{"c"}},
		{"key", Filter{KeyID: "k1"}, []string{"a", "c", "e"}},
		{"tenant", Filter{TenantID: "t2"}, []string{"c", "d"}},
		{"cost_source", Filter{CostSource: "none"}, []string{"d"}},
		{"from inclusive", Filter{From: baseTS.Add(2 * time.Hour)}, []string{"c", "d", "e"}},
		{"to exclusive", Filter{To: baseTS.Add(2 * time.Hour)}, []string{"a", "b"}},
		{"from and to", Filter{From: baseTS.Add(time.Hour), To: baseTS.Add(3 * time.Hour)}, []string{"b", "c"}},
		{"from in other zone", Filter{From: baseTS.Add(3 * time.Hour).In(time.FixedZone("X", -5*3600))}, []string{"d", "e"}},
		{"dim", Filter{Dims: map[string]string{"team": "search"}}, []string{"a", "b", "e"}},
		{"two dims", Filter{Dims: map[string]string{"team": "search", "app": "cli"}}, []string{"b"}},
		{"empty dim value", Filter{Dims: map[string]string{"env": ""}}, []string{"e"}},
		{"dim and key", Filter{Dims: map[string]string{"team": "search"}, KeyID: "k1"}, []string{"a", "e"}},
		{"dim and time", Filter{Dims: map[string]string{"team": "search"}, From: baseTS.Add(time.Hour)}, []string{"b", "e"}},
		{"dim no match", Filter{Dims: map[string]string{"team": "nope"}}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, asc := range []bool{true, false} {
				f := tt.f
				f.Ascending = asc
				got, next, err := l.QueryEvents(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				want := slices.Clone(tt.want)
				if !asc {
					slices.Reverse(want)
				}
				if !slices.Equal(ids(got), want) || next != "" {
					t.Errorf("asc=%v: got %v next %q, want %v", asc, ids(got), next, want)
				}
			}
		})
	}

	bad := []struct {
		name  string
		f     Filter
		param string
	}{
		{"to before from", Filter{From: baseTS, To: baseTS}, "to"},
		{"garbage cursor", Filter{After: "!!"}, "next"},
		{"cursor of other order", Filter{After: encodeCursor(false, formatTS(baseTS), "a"), Ascending: true}, "next"},
	}
	for _, tt := range bad {
		_, _, err := l.QueryEvents(ctx, tt.f)
		var fe *FilterError
		if !asFilterError(err, &fe) || fe.Param != tt.param {
			t.Errorf("%s: err = %v, want FilterError on %s", tt.name, err, tt.param)
		}
	}
	if _, _, err := l.QueryDenials(ctx, Filter{Model: "x"}); !IsFilterError(err) {
		t.Errorf("denials with model filter: %v", err)
	}
}

func asFilterError(err error, fe **FilterError) bool {
	f, ok := err.(*FilterError)
	*fe = f
	return ok
}

// TestPagination walks 2,500 events (many sharing a timestamp, so the
// request_id tie-break matters) in pages, in both orders, while new events
// are inserted between pages; every original event comes back exactly once.
func TestPagination(t *testing.T) {
	l := newLedger(t)
	ctx := t.Context()
	const n = 2500
	var evs []usage.Event
	for i := range n {
		e := mkEvent(i)
		e.TS = baseTS.Add(time.Duration(i/7) * time.Millisecond) // 7 events per instant
		if i%2 == 0 {
			e.Dims = map[string]string{"team": "search"}
		}
		evs = append(evs, e)
	}
	if err := l.InsertEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	extra := 0
	for _, tc := range []struct {
		limit int
		asc   bool
		dims  map[string]string
		want  int
	}{
		{0, true, nil, n}, {1000, false, nil, n}, {5000, true, nil, n}, {333, false, nil, n},
		{97, true, map[string]string{"team": "search"}, n / 2}, {1000, false, map[string]string{"team": "search"}, n / 2},
	} {
		seen := map[string]int{}
		f := Filter{Limit: tc.limit, Ascending: tc.asc, Dims: tc.dims, To: baseTS.Add(time.Hour)}
		var last string
		pages := 0
		for {
			page, next, err := l.QueryEvents(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if max := f.pageSize(); len(page) > max {
				t.Fatalf("page of %d > %d", len(page), max)
			}
			for _, e := range page {
				k := formatTS(e.TS) + e.RequestID
				if last != "" && (tc.asc && k <= last || !tc.asc && k >= last) {
					t.Fatalf("out of order: %s after %s", k, last)
				}
				last = k
				seen[e.RequestID]++
			}
			// Concurrent writers: new events before, inside and after the
			// walked range must not disturb it.
			var ins []usage.Event
			for _, off := range []time.Duration{-time.Hour, 100 * time.Millisecond, 2 * time.Hour} {
				e := mkEvent(0)
				e.RequestID = fmt.Sprintf("extra-%05d", extra)
				e.TS = baseTS.Add(off)
				extra++
				ins = append(ins, e)
			}
			if err := l.InsertEvents(ctx, ins); err != nil {
				t.Fatal(err)
			}
			if next == "" {
				break
			}
			f.After = next
		}
		got := 0
		for id, c := range seen {
			if strings.HasPrefix(id, "extra-") {
				continue
			}
			if c != 1 {
				t.Fatalf("limit %d: %s seen %d times", tc.limit, id, c)
			}
			got++
		}
		if got != tc.want {
			t.Errorf("limit %d asc %v dims %v: %d distinct events in %d pages, want %d", tc.limit, tc.asc, tc.dims, got, pages, tc.want)
		}
	}
}

// TestQueryPlans checks that page queries walk an index in page order
// instead of sorting every match, which is what keeps a dim.team=search
// page fast on a large ledger.
func TestQueryPlans(t *testing.T) {
	l := newLedger(t)
	cur := encodeCursor(true, formatTS(baseTS), "x")
	for _, f := range []Filter{
		{},
		{Ascending: true, After: cur},
		{Dims: map[string]string{"team": "search"}},
		{Dims: map[string]string{"team": "search", "app": "web"}, From: baseTS, To: baseTS.Add(time.Hour), Ascending: true, After: cur},
		{KeyID: "k"},
		{Provider: "openai", From: baseTS},
		{Model: "gpt-4o"},
	} {
		q, args, err := buildQuery(eventsTable, &f)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := l.db.Query("EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if strings.Contains(p, "TEMP B-TREE") || strings.Contains(p, "SCAN e") && len(f.Dims) > 0 {
			t.Errorf("filter %+v: plan sorts or scans: %s", f, p)
		}
		if len(f.Dims) > 0 && !strings.Contains(p, "d0") {
			t.Errorf("dim filter not driven by event_dims: %s", p)
		}
	}
}

func TestUpdateCostsAndUnpriced(t *testing.T) {
	l := newLedger(t)
	ctx := t.Context()
	var evs []usage.Event
	for i := range 4 {
		e := mkEvent(i)
		e.Provider, e.Model = "openrouter", "new/model"
		e.CostSource, e.PricingMatched, e.TotalCost, e.CalculatedCost = usage.CostNone, false, nil, nil
		evs = append(evs, e)
	}
	other := mkEvent(9)
	other.Provider, other.Model, other.CostSource, other.TotalCost = "xai", "grok-x", usage.CostNone, nil
	if err := l.InsertEvents(ctx, append(evs, other)); err != nil {
		t.Fatal(err)
	}
	ms, err := l.UnpricedModels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Provider != "openrouter" || ms[0].Requests != 4 || ms[0].PromptTokens != 0+1+2+3 ||
		ms[0].CompletionTokens != 4 || ms[0].FirstSeen != formatTS(evs[0].TS) || ms[0].LastSeen != formatTS(evs[3].TS) {
		t.Fatalf("unpriced = %+v", ms)
	}

	// Re-price: fetch the unpriced events, set costs, write them back.
	page, _, err := l.QueryEvents(ctx, Filter{Provider: "openrouter", Model: "new/model", CostSource: "none", Limit: 1000})
	if err != nil || len(page) != 4 {
		t.Fatalf("page %d %v", len(page), err)
	}
	for i := range page {
		page[i].CalculatedCost = dec("0.000002500")
		page[i].TotalCost = dec("0.000002500")
		page[i].CostSource, page[i].PricingMatched = usage.CostStandard, true
		page[i].PricingModel, page[i].PricingVersion = "new/model", "v2"
		page[i].Model = "must-not-change"
	}
	n, err := l.UpdateCosts(ctx, page)
	if err != nil || n != 4 {
		t.Fatalf("UpdateCosts = %d, %v", n, err)
	}
	// Unchanged costs are not rewritten and leave no history.
	if n, err := l.UpdateCosts(ctx, page); err != nil || n != 0 {
		t.Fatalf("second UpdateCosts = %d, %v", n, err)
	}
	got, _, _ := l.QueryEvents(ctx, Filter{RequestID: page[0].RequestID})
	if got[0].TotalCost.String() != "0.0000025" || got[0].CostSource != usage.CostStandard || got[0].PricingVersion != "v2" || got[0].Model != "new/model" {
		t.Errorf("after update: %+v", got[0])
	}
	h, err := l.CostHistory(ctx, page[0].RequestID)
	if err != nil || len(h) != 1 || h[0].CostSource != "none" || h[0].TotalCost != nil || h[0].PricingMatched {
		t.Errorf("history = %+v, %v", h, err)
	}
	ms, _ = l.UnpricedModels(ctx)
	if len(ms) != 1 || ms[0].Model != "grok-x" {
		t.Errorf("unpriced after re-pricing = %+v", ms)
	}
}

// BenchmarkInsertEvents measures direct batch inserts of 500 events with
// two dimensions each.
func BenchmarkInsertEvents(b *testing.B) {
	l := newLedger(b)
	batch := make([]usage.Event, 500)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := range batch {
			batch[i] = mkEvent(n*500 + i)
			batch[i].RequestID = fmt.Sprintf("req-%09d", n*500+i)
			batch[i].Dims = map[string]string{"team": "search", "app": "web"}
		}
		if err := l.InsertEvents(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkQueryDimPage measures one 100-event page of dim.team=search
// (a tenth of the rows) deep into a 50,000-event ledger, by cursor.
func BenchmarkQueryDimPage(b *testing.B) {
	l := newLedger(b)
	const n = 50000
	teams := []string{"search", "ads", "infra", "ml", "web", "data", "core", "apps", "sec", "ops"}
	for s := 0; s < n; s += 1000 {
		batch := make([]usage.Event, 1000)
		for i := range batch {
			batch[i] = mkEvent(s + i)
			batch[i].RequestID = fmt.Sprintf("req-%09d", s+i)
			batch[i].Dims = map[string]string{"team": teams[(s+i)%len(teams)], "app": "web"}
		}
		if err := l.InsertEvents(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	f := Filter{Dims: map[string]string{"team": "search"}, Limit: 1000}
	var cursor string
	for range 3 { // start the timed pages 3,000 matches deep
		_, next, err := l.QueryEvents(context.Background(), f)
		if err != nil {
			b.Fatal(err)
		}
		f.After, cursor = next, next
	}
	f.Limit = 100
	b.ResetTimer()
	for range b.N {
		f.After = cursor
		evs, _, err := l.QueryEvents(context.Background(), f)
		if err != nil || len(evs) != 100 {
			b.Fatal(len(evs), err)
		}
	}
}
