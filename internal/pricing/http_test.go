package pricing

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spendops/spendops/internal/usage"
)

func doJSON(t *testing.T, method, url, body string, want int, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, resp.StatusCode, want, buf.String())
	}
	if out != nil {
		if err := json.Unmarshal(buf.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, buf.String())
		}
	}
}

func TestHTTPHandler(t *testing.T) {
	st, _ := openTestStore(t)
	en := newTestEngine(t, nil)
	ledger := newFakeLedger()
	e := usage.Event{RequestID: "u1", Provider: "openai", Model: "house-model", TenantID: "t1", TS: aug2026, Tokens: usage.Tokens{Prompt: 1_000_000}}
	en.Price(&e)
	ledger.events["u1"] = e
	srv := httptest.NewServer(NewHandler(HandlerConfig{Engine: en, Store: st, Events: ledger}))
	defer srv.Close()

	var list struct {
		Version  string          `json:"version"`
		Models   []ModelView     `json:"models"`
		Unpriced []UnpricedModel `json:"unpriced"`
		Bounds   map[string]any  `json:"expense_bounds"`
	}
	doJSON(t, "GET", srv.URL+"/api/v1/pricing?provider=anthropic", "", 200, &list)
	if list.Version != en.Catalog().Version() || len(list.Models) < 10 || list.Models[0].Provider != "anthropic" {
		t.Fatalf("list: %s %d", list.Version, len(list.Models))
	}
	if len(list.Unpriced) != 1 || list.Unpriced[0].Model != "house-model" || list.Bounds["premium_min"] == nil {
		t.Fatalf("unpriced %+v bounds %v", list.Unpriced, list.Bounds)
	}

	var one struct {
		Models []ModelView `json:"models"`
	}
	doJSON(t, "GET", srv.URL+"/api/v1/pricing/models/gpt-4o-2024-08-06?provider=openai", "", 200, &one)
	if len(one.Models) != 1 || one.Models[0].Model != "gpt-4o" || one.Models[0].Current.Rates.Input.String() != "2.5" || one.Models[0].Expense == nil {
		t.Fatalf("model: %+v", one.Models)
	}
	doJSON(t, "GET", srv.URL+"/api/v1/pricing/models/meta-llama/Llama-3.3-70B-Instruct", "", 200, &one)
	if len(one.Models) < 2 { // deepinfra and nebius (at least)
		t.Fatalf("slash model across providers: %d", len(one.Models))
	}
	doJSON(t, "GET", srv.URL+"/api/v1/pricing/models/no-such-model", "", 404, nil)

	var created struct {
		Override Override `json:"override"`
		Version  int64    `json:"version"`
		Repriced int      `json:"repriced"`
	}
	doJSON(t, "POST", srv.URL+"/api/v1/pricing/overrides", `{"tenant_id":"t1","model":"house-*","rates":{"input":"0.5"}}`, 201, &created)
	if created.Override.ID == 0 || created.Version != 1 || created.Repriced != 1 {
		t.Fatalf("created %+v", created)
	}
	// The unpriced event was re-priced automatically: 1M × 0.5.
	if got := ledger.events["u1"]; got.CostSource != usage.CostCustom || !got.TotalCost.Equal(dec("0.5")) {
		t.Fatalf("u1 after override: %v %s", got.TotalCost, got.CostSource)
	}
	doJSON(t, "POST", srv.URL+"/api/v1/pricing/overrides", `{"tenant_id":"t1","model":"x"}`, 400, nil)
	doJSON(t, "POST", srv.URL+"/api/v1/pricing/overrides", `{"tenant_id":"t1","model":"x","bogus":1}`, 400, nil)

	var ovs struct {
		Version   int64      `json:"version"`
		Overrides []Override `json:"overrides"`
	}
	doJSON(t, "GET", srv.URL+"/api/v1/pricing/overrides", "", 200, &ovs)
	if ovs.Version != 1 || len(ovs.Overrides) != 1 || ovs.Overrides[0].Rates.Input.String() != "0.5" {
		t.Fatalf("overrides %+v", ovs)
	}
	doJSON(t, "DELETE", srv.URL+"/api/v1/pricing/overrides/"+itoa(created.Override.ID), "", 204, nil)
	doJSON(t, "DELETE", srv.URL+"/api/v1/pricing/overrides/999", "", 404, nil)
	if en.Overrides().Version() != 2 || len(en.Overrides().Items()) != 0 {
		t.Fatalf("engine overrides not reloaded: %d", en.Overrides().Version())
	}

	// diff between builtin and an imported version
	next, _, err := importAt("litellm", litellmData(t), en.Catalog(), time.Date(2026, 8, 21, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	saved, err := st.SaveCatalog(t.Context(), next)
	if err != nil {
		t.Fatal(err)
	}
	var d Diff
	doJSON(t, "GET", srv.URL+"/api/v1/pricing?diff=builtin.."+saved.Version(), "", 200, &d)
	if d.From != en.Catalog().Version() || d.To != saved.Version() || len(d.Changes) == 0 {
		t.Fatalf("diff %s..%s %d", d.From, d.To, len(d.Changes))
	}
	doJSON(t, "GET", srv.URL+"/api/v1/pricing?diff=v9-nope..", "", 404, nil)
	doJSON(t, "GET", srv.URL+"/api/v1/pricing?diff=builtin", "", 400, nil)
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
