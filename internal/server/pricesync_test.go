package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spendops/spendops/internal/config"
	"github.com/spendops/spendops/internal/ledger"
	"github.com/spendops/spendops/internal/pricing"
	"github.com/spendops/spendops/internal/store"
	"github.com/spendops/spendops/internal/usage"
)

// The scheduled sync survives an offline source, then imports a changed
// file as a new catalog version and re-prices the events that had no price.
func TestPriceSync(t *testing.T) {
	var online atomic.Bool
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !online.Load() {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{"sync-test-model": {"litellm_provider": "openai", "mode": "chat",
			"input_cost_per_token": 0.000002, "output_cost_per_token": 0.000008}}`)
	}))
	defer src.Close()

	db, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	led, err := ledger.Open(t.Context(), db, logger)
	if err != nil {
		t.Fatal(err)
	}
	pst, err := pricing.OpenStore(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := pricing.Load()
	if err != nil {
		t.Fatal(err)
	}
	en, err := pricing.NewEngine(pricing.EngineConfig{Catalog: cat, Overrides: nil, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ev := usage.Event{RequestID: "11111111-1111-4111-8111-111111111111", TS: time.Now().UTC(), TenantID: "t", APIKeyID: "k",
		Provider: "openai", Model: "sync-test-model", EndpointClass: usage.EndpointChat, Outcome: usage.OutcomeCompleted,
		UsageSource: usage.SourceProvider, HTTPStatus: 200,
		Tokens: usage.Tokens{Prompt: 1000, Completion: 500, Total: 1500}}
	en.Price(&ev)
	if ev.CostSource != usage.CostNone || ev.TotalCost != nil {
		t.Fatalf("model should start unpriced: %+v", ev)
	}
	if err := led.InsertEvents(t.Context(), []usage.Event{ev}); err != nil {
		t.Fatal(err)
	}
	ps := &priceSync{cfg: config.PricingSync{URL: src.URL, Format: "litellm"}, store: pst, engine: en,
		events: LedgerEvents{L: led}, client: src.Client(), logger: logger}

	if err := ps.once(t.Context()); err == nil {
		t.Fatal("offline source: want an error")
	}
	if en.Catalog().Version() != cat.Version() {
		t.Fatal("catalog changed although the fetch failed")
	}
	online.Store(true)
	if err := ps.once(t.Context()); err != nil {
		t.Fatal(err)
	}
	if en.Catalog().Version() == cat.Version() {
		t.Fatal("no new catalog version after a changed file")
	}
	evs, _, err := led.QueryEvents(t.Context(), ledger.Filter{RequestID: ev.RequestID})
	if err != nil || len(evs) != 1 {
		t.Fatal(evs, err)
	}
	// 1000 * $2/M + 500 * $8/M = 0.002 + 0.004
	if got := evs[0]; got.CostSource != usage.CostStandard || got.TotalCost == nil || got.TotalCost.String() != "0.006" {
		t.Fatalf("after sync: source %s cost %v", got.CostSource, got.TotalCost)
	}
	// Same file again: no new version.
	v := en.Catalog().Version()
	if err := ps.once(t.Context()); err != nil || en.Catalog().Version() != v {
		t.Fatalf("unchanged file made a new version: %v", err)
	}
}
