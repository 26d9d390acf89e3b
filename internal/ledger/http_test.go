package ledger

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spendops/spendops/internal/usage"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func get(t *testing.T, srv *httptest.Server, path string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file\n got: %s\nwant: %s", name, got, want)
	}
}

func indent(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// TestWireEventGolden pins the admin API's EVENT and DENIAL JSON: field
// names, exact decimal cost strings, nulls, dims object, raw_usage object.
func TestWireEventGolden(t *testing.T) {
	l := newLedger(t)
	srv := httptest.NewServer(NewHandler(l))
	defer srv.Close()
	full := fullEvent()
	none := usage.Event{
		RequestID: "0b7c2f6e-8d1a-4c3e-9f00-000000000002", TS: full.TS.Add(time.Second), TenantID: "default",
		APIKeyID: "key_abc", Provider: "openai", Method: "POST", Endpoint: "/v1/chat/completions",
		EndpointClass: usage.EndpointChat, Model: "gpt-4o", Outcome: usage.OutcomeError,
		UsageSource: usage.SourceNone, CostSource: usage.CostNone, StartedAtMs: 1793608216123, EndedAtMs: 1793608216200,
	}
	if err := l.InsertEvents(t.Context(), []usage.Event{full, none}); err != nil {
		t.Fatal(err)
	}
	den := []usage.Denial{
		{RequestID: "0b7c2f6e-8d1a-4c3e-9f00-000000000003", TS: full.TS, Type: usage.DenialMissingKey,
			Reason: "Missing X-ASO-API-Key", HTTPStatus: 401, Path: "/v1/openai/chat/completions"},
		{RequestID: "0b7c2f6e-8d1a-4c3e-9f00-000000000004", TS: full.TS.Add(time.Second), Type: usage.DenialModelBlocked,
			Reason: "Model not allowed by API key policy", HTTPStatus: 403, TenantID: "default", APIKeyID: "key_abc",
			Provider: "openai", Path: "/v1/openai/chat/completions", Dims: map[string]string{"team": "search"}},
	}
	if err := l.InsertDenials(t.Context(), den); err != nil {
		t.Fatal(err)
	}
	code, hdr, body := get(t, srv, "/api/v1/events?order=asc")
	if code != 200 || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d %s: %s", code, hdr.Get("Content-Type"), body)
	}
	golden(t, "events.golden.json", indent(t, body))

	// Spot checks that do not depend on the golden file being right.
	var page struct {
		Events []map[string]any `json:"events"`
		Next   *string          `json:"next"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	e0, e1 := page.Events[0], page.Events[1]
	if page.Next != nil || e0["total_cost_usd"] != "0.012345000" || e0["calculated_cost"] != "0.0123456789012" ||
		e0["provider_cost"] != nil || e0["prompt_tokens"] != 1500.0 || e0["ts"] != "2026-11-02T08:30:15.123456789Z" {
		t.Errorf("event 0 = %v", e0)
	}
	if _, ok := e0["raw_usage"].(map[string]any); !ok {
		t.Errorf("raw_usage is %T, want an object", e0["raw_usage"])
	}
	if d, ok := e0["dims"].(map[string]any); !ok || d["team"] != "search" {
		t.Errorf("dims = %v", e0["dims"])
	}
	for _, k := range []string{"prompt_tokens", "completion_tokens", "total_tokens", "cache_read_tokens", "reasoning_tokens",
		"web_search_requests", "total_cost_usd", "http_status", "raw_usage"} {
		if v, ok := e1[k]; !ok || v != nil {
			t.Errorf("usage_source none: %s = %v, want null", k, v)
		}
	}
	if d, ok := e1["dims"].(map[string]any); !ok || len(d) != 0 {
		t.Errorf("empty dims = %v, want {}", e1["dims"])
	}
	for _, k := range []string{"request_id", "ts", "tenant_id", "api_key_id", "provider", "endpoint", "model",
		"generation_id", "stream", "outcome", "usage_source", "http_status", "prompt_tokens", "completion_tokens",
		"total_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "prompt_audio_tokens",
		"prompt_image_tokens", "completion_audio_tokens", "web_search_requests", "provider_cost", "calculated_cost",
		"total_cost_usd", "cost_source", "pricing_matched", "pricing_model", "started_at_ms", "first_byte_at_ms",
		"ended_at_ms", "dims", "raw_usage"} {
		if _, ok := e0[k]; !ok {
			t.Errorf("EVENT lacks interface.md field %s", k)
		}
	}

	code, _, body = get(t, srv, "/api/v1/denials?order=asc")
	if code != 200 {
		t.Fatalf("denials: %d %s", code, body)
	}
	golden(t, "denials.golden.json", indent(t, body))
}

func TestHTTPFiltersAndErrors(t *testing.T) {
	l := newLedger(t)
	srv := httptest.NewServer(NewHandler(l))
	defer srv.Close()
	var evs []usage.Event
	for i := range 30 {
		e := mkEvent(i)
		if i%3 == 0 {
			e.Dims = map[string]string{"team": "search", "app": "web"}
		}
		if i%5 == 0 {
			e.Provider = "anthropic"
		}
		evs = append(evs, e)
	}
	if err := l.InsertEvents(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	list := func(q string) ([]string, *string) {
		code, _, body := get(t, srv, "/api/v1/events?"+q)
		if code != 200 {
			t.Fatalf("%s: %d %s", q, code, body)
		}
		var p struct {
			Events []struct {
				RequestID string `json:"request_id"`
			} `json:"events"`
			Next *string `json:"next"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range p.Events {
			out = append(out, e.RequestID)
		}
		return out, p.Next
	}
	got, _ := list("dim.team=search&dim.app=web&provider=anthropic&order=asc")
	if want := []string{"req-00000", "req-00015"}; !slices.Equal(got, want) {
		t.Errorf("dim+provider = %v, want %v", got, want)
	}
	got, _ = list("request_id=req-00007")
	if !slices.Equal(got, []string{"req-00007"}) {
		t.Errorf("request_id = %v", got)
	}
	from := url.QueryEscape(baseTS.Add(10 * time.Second).Format(time.RFC3339))
	to := url.QueryEscape(baseTS.Add(12 * time.Second).In(time.FixedZone("", 2*3600)).Format(time.RFC3339))
	got, _ = list("from=" + from + "&to=" + to + "&key_id=key_a&model=gpt-4o")
	if !slices.Equal(got, []string{"req-00011", "req-00010"}) {
		t.Errorf("from/to = %v", got)
	}
	// An unescaped "+" offset (decoded as a space) means "+".
	got, _ = list("from=2026-11-01T13:00:10+01:00&to=2026-11-01T13:00:12%2B01:00")
	if !slices.Equal(got, []string{"req-00011", "req-00010"}) {
		t.Errorf("unescaped offset = %v", got)
	}
	// Pagination through the API.
	var all []string
	q := "limit=7"
	for {
		page, next := list(q)
		all = append(all, page...)
		if next == nil {
			break
		}
		q = "limit=7&next=" + url.QueryEscape(*next)
	}
	if len(all) != 30 || all[0] != "req-00029" || all[29] != "req-00000" {
		t.Errorf("paged %d events: %v", len(all), all)
	}

	for _, tc := range []struct{ query, param string }{
		{"from=yesterday", "from"},
		{"to=2026-13-01T00:00:00Z", "to"},
		{"limit=0", "limit"},
		{"limit=ten", "limit"},
		{"next=%21%21", "next"},
		{"order=up", "order"},
		{"format=xml", "format"},
		{"providr=openai", "providr"},
		{"provider=a&provider=b", "provider"},
		{"dim.=x", "dim."},
		{"from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", "to"},
	} {
		code, hdr, body := get(t, srv, "/api/v1/events?"+tc.query)
		var e errorBody
		_ = json.Unmarshal(body, &e)
		if code != 400 || e.Param != tc.param || e.Error == "" || hdr.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.query, code, body, tc.param)
		}
	}
	if code, _, body := get(t, srv, "/api/v1/denials?model=gpt-4o"); code != 400 || !strings.Contains(string(body), `"param":"model"`) {
		t.Errorf("denials?model: %d %s", code, body)
	}
	resp, err := srv.Client().Post(srv.URL+"/api/v1/events", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST events: %d", resp.StatusCode)
	}
}

// TestExports checks that CSV and NDJSON carry the same rows as the JSON
// API, across several internal pages, and honour filters and limit.
func TestExports(t *testing.T) {
	l := newLedger(t)
	srv := httptest.NewServer(NewHandler(l))
	defer srv.Close()
	const n = 2345 // more than two internal pages of MaxLimit
	var evs []usage.Event
	for i := range n {
		e := mkEvent(i)
		if i%2 == 1 {
			e.Dims = map[string]string{"team": "search", "note": "has \"quotes\", commas\nand a newline"}
		}
		if i == 0 {
			e.UsageSource = usage.SourceNone
			e.TotalCost = nil
		}
		evs = append(evs, e)
	}
	if err := l.InsertEvents(t.Context(), evs); err != nil {
		t.Fatal(err)
	}

	code, hdr, body := get(t, srv, "/api/v1/events?format=ndjson&order=asc")
	if code != 200 || hdr.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("ndjson: %d %v", code, hdr)
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	var lines int
	for sc.Scan() {
		var w WireEvent
		if err := json.Unmarshal(sc.Bytes(), &w); err != nil {
			t.Fatalf("line %d: %v", lines, err)
		}
		if want := fmt.Sprintf("req-%05d", lines); w.RequestID != want {
			t.Fatalf("line %d is %s, want %s", lines, w.RequestID, want)
		}
		lines++
	}
	if lines != n {
		t.Errorf("ndjson lines = %d, want %d", lines, n)
	}
	// The JSON API's first event equals the NDJSON first line.
	_, _, page := get(t, srv, "/api/v1/events?order=asc&limit=1")
	var p eventsPage
	if err := json.Unmarshal(page, &p); err != nil {
		t.Fatal(err)
	}
	first, _ := json.Marshal(p.Events[0])
	if line := bytes.SplitN(body, []byte("\n"), 2)[0]; !bytes.Equal(line, first) {
		t.Errorf("ndjson row differs from JSON API:\n%s\n%s", line, first)
	}

	code, hdr, body = get(t, srv, "/api/v1/events?format=csv&dim.team=search")
	if code != 200 || hdr.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(hdr.Get("Content-Disposition"), "events.csv") {
		t.Fatalf("csv: %d %v", code, hdr)
	}
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := recs[0]
	if header[0] != "request_id" || !slices.Contains(header, "dims") || !slices.Contains(header, "total_cost_usd") ||
		len(header) != len(eventCSV.header) {
		t.Errorf("csv header = %v", header)
	}
	if len(recs)-1 != n/2 {
		t.Errorf("csv rows = %d, want %d", len(recs)-1, n/2)
	}
	col := func(name string) int { return slices.Index(header, name) }
	row := recs[1] // newest first: req-02343
	var dims map[string]string
	if err := json.Unmarshal([]byte(row[col("dims")]), &dims); err != nil || dims["note"] != "has \"quotes\", commas\nand a newline" {
		t.Errorf("csv dims cell %q: %v", row[col("dims")], err)
	}
	if row[col("request_id")] != "req-02343" || row[col("total_cost_usd")] != "0.000001000" || row[col("stream")] != "false" ||
		row[col("prompt_tokens")] != "2343" || row[col("raw_usage")] != "" {
		t.Errorf("csv row = %v", row)
	}

	_, _, body = get(t, srv, "/api/v1/events?format=csv&order=asc&limit=2")
	recs, _ = csv.NewReader(bytes.NewReader(body)).ReadAll()
	if len(recs) != 3 || recs[1][0] != "req-00000" || recs[1][col("prompt_tokens")] != "" || recs[1][col("total_cost_usd")] != "" {
		t.Errorf("csv limit 2 / nulls: %v", recs)
	}
	_, _, body = get(t, srv, "/api/v1/events?format=ndjson&limit=1500")
	if c := bytes.Count(body, []byte("\n")); c != 1500 {
		t.Errorf("ndjson limit 1500 gave %d rows", c)
	}
	code, _, body = get(t, srv, "/api/v1/denials?format=csv")
	if code != 200 || string(body) != strings.Join(denialCSV.header, ",")+"\n" {
		t.Errorf("empty denials csv: %d %q", code, body)
	}
}

func TestUnpricedEndpoint(t *testing.T) {
	l := newLedger(t)
	srv := httptest.NewServer(NewHandler(l))
	defer srv.Close()
	e := mkEvent(1)
	e.CostSource, e.TotalCost, e.Model = usage.CostNone, nil, "mystery"
	if err := l.InsertEvents(t.Context(), []usage.Event{e, mkEvent(2)}); err != nil {
		t.Fatal(err)
	}
	code, _, body := get(t, srv, "/api/v1/unpriced-models")
	var out struct {
		Models []UnpricedModel `json:"models"`
	}
	if err := json.Unmarshal(body, &out); code != 200 || err != nil || len(out.Models) != 1 || out.Models[0].Model != "mystery" {
		t.Errorf("%d %s %v", code, body, err)
	}
}
