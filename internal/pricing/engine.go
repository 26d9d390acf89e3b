package pricing

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"
	"github.com/spendops/spendops/internal/provider"
	"github.com/spendops/spendops/internal/usage"
)

// Engine prices usage events. It implements usage.Pricer, is safe for
// concurrent use, and takes a new catalog or override set (SetCatalog,
// SetOverrides) without a restart: events priced after the swap use it.
type Engine struct {
	cat    atomic.Pointer[Catalog]
	ov     atomic.Pointer[OverrideSet]
	logger *slog.Logger

	mu       sync.Mutex
	unpriced map[[2]string]*UnpricedModel
}

var _ usage.Pricer = (*Engine)(nil)

// EngineConfig configures NewEngine. Catalog is required; Overrides may be
// nil (no overrides); Logger nil discards logs.
type EngineConfig struct {
	Catalog   *Catalog
	Overrides *OverrideSet
	Logger    *slog.Logger
}

// NewEngine builds an engine.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	if cfg.Catalog == nil {
		return nil, errors.New("pricing engine: catalog is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{logger: cfg.Logger.With("component", "pricing"), unpriced: map[[2]string]*UnpricedModel{}}
	e.cat.Store(cfg.Catalog)
	if cfg.Overrides == nil {
		cfg.Overrides = NewOverrideSet(0, nil)
	}
	e.ov.Store(cfg.Overrides)
	return e, nil
}

// Catalog returns the catalog in use.
func (en *Engine) Catalog() *Catalog { return en.cat.Load() }

// SetCatalog swaps the catalog atomically.
func (en *Engine) SetCatalog(c *Catalog) { en.cat.Store(c) }

// Overrides returns the override set in use.
func (en *Engine) Overrides() *OverrideSet { return en.ov.Load() }

// SetOverrides swaps the override set atomically.
func (en *Engine) SetOverrides(s *OverrideSet) { en.ov.Store(s) }

// Quote is the full result of pricing one event.
type Quote struct {
	NotBilled      bool
	Matched        bool
	PricingModel   string
	PricingVersion string
	Override       *Override
	Breakdown      Breakdown
	Calculated     *decimal.Decimal
	Total          *decimal.Decimal
	Source         usage.CostSource
}

// Price fills the event's cost fields: CalculatedCost, TotalCost,
// CostSource, PricingMatched, PricingModel and PricingVersion (ProviderCost
// is the extractor's and is left as is).
func (en *Engine) Price(e *usage.Event) {
	q := en.Quote(e)
	e.CalculatedCost = q.Calculated
	e.TotalCost = q.Total
	e.CostSource = q.Source
	e.PricingMatched = q.Matched
	e.PricingModel = q.PricingModel
	e.PricingVersion = q.PricingVersion
	if !q.Matched && !q.NotBilled {
		en.noteUnpriced(e, q.Total != nil)
	}
}

// Quote prices an event without modifying it. Precedence of the total:
//
//  1. not-billed endpoints (count_tokens, models, batch polls): 0,
//     cost_source not_billed;
//  2. a tenant override with its own rates: those rates (custom);
//  3. the provider-reported cost (provider);
//  4. the catalog (standard);
//  5. otherwise unknown: null, cost_source none — never 0.
//
// A tenant override's markup applies to whichever of 2–4 gave the total and
// makes the source custom. CalculatedCost is always SpendOps' own figure
// (override rates or catalog, with markup), kept beside a provider cost.
func (en *Engine) Quote(e *usage.Event) Quote {
	cat, ov := en.cat.Load(), en.ov.Load()
	q := Quote{PricingVersion: cat.Version()}
	names := []string{e.ResponseModel, e.Model}
	prov := provider.Canonical(e.Provider)
	ts := e.TS
	if ts.IsZero() {
		ts = time.Now() // an event without a timestamp is priced as of now
	}
	var mp *ModelPrice
	for _, n := range names {
		if n == "" {
			continue
		}
		if p, ok := cat.Lookup(prov, n, ts); ok {
			mp = p
			break
		}
	}
	if mp != nil {
		q.Matched = true
		q.PricingModel = mp.Model.ID
		if mp.Provider != prov {
			q.PricingModel = mp.Provider + "/" + mp.Model.ID
		}
	}
	if isNotBilled(e.EndpointClass) {
		zero := decimal.Zero
		q.NotBilled, q.Calculated, q.Total, q.Source = true, &zero, &zero, usage.CostNotBilled
		return q
	}
	u := UsageOf(e)
	o := ov.Match(e.TenantID, prov, names...)
	if o != nil {
		q.Override = o
		q.PricingVersion = fmt.Sprintf("%s+ov%d", cat.Version(), ov.Version())
	}
	switch {
	case o != nil && o.Rates != nil && !o.Rates.IsZero():
		q.Breakdown = Compute(*o.Rates, nil, u)
		q.Matched = true
		if q.PricingModel == "" {
			q.PricingModel = "override:" + o.Model
		}
	case mp != nil:
		rates := mp.RatesFor(e.ServiceTier, u.Tokens.Prompt, ts)
		q.Breakdown = Compute(rates, mp.Period.Images, u)
	}
	if q.Matched && q.Breakdown.Unpriced == "" {
		c := q.Breakdown.Total
		q.Calculated = &c
	}
	switch {
	case o != nil && o.Rates != nil && !o.Rates.IsZero():
		q.Total, q.Source = q.Calculated, usage.CostCustom
	case e.ProviderCost != nil:
		pc := *e.ProviderCost
		q.Total, q.Source = &pc, usage.CostProvider
	case q.Calculated != nil:
		q.Total, q.Source = q.Calculated, usage.CostStandard
	default:
		q.Source = usage.CostNone
	}
	if o != nil && o.MarkupPct != nil {
		f := decimal.NewFromInt(1).Add(o.MarkupPct.Shift(-2))
		q.Calculated = mulRound(q.Calculated, f)
		if q.Source == usage.CostProvider {
			q.Total = mulRound(q.Total, f)
		} else {
			q.Total = q.Calculated
		}
		if q.Total != nil {
			q.Source = usage.CostCustom
		}
	}
	if q.Total == nil {
		q.Source = usage.CostNone
	}
	return q
}

func mulRound(d *decimal.Decimal, f decimal.Decimal) *decimal.Decimal {
	if d == nil {
		return nil
	}
	v := RoundCost(d.Mul(f))
	return &v
}

func isNotBilled(class string) bool {
	switch class {
	case usage.EndpointCountTokens, usage.EndpointModels, usage.EndpointBatch:
		return true
	}
	return false
}

// UsageOf extracts the billable quantities of an event. Each event is one
// request for per-request fees, except when the provider answered with an
// error status (4xx/5xx requests are not billed a request fee).
func UsageOf(e *usage.Event) Usage {
	t := e.Tokens
	requests := int64(1)
	if e.HTTPStatus >= 400 {
		requests = 0
	}
	return Usage{
		Tokens: Tokens{
			Prompt: t.Prompt, Completion: t.Completion,
			CacheRead: t.CacheRead, CacheWrite: max(t.CacheWrite, t.CacheWrite5m+t.CacheWrite1h), CacheWrite1h: t.CacheWrite1h,
			Reasoning: t.Reasoning, PromptAudio: t.PromptAudio, PromptImage: t.PromptImage,
			CompletionAudio: t.CompletionAudio, CompletionImage: t.CompletionImage,
		},
		WebSearches:     e.WebSearchRequests,
		Requests:        requests,
		ImageCount:      e.ImageCount,
		ImageSize:       e.ImageSize,
		ImageQuality:    e.ImageQuality,
		AudioSeconds:    e.AudioSeconds,
		InputCharacters: e.InputCharacters,
	}
}

// maxUnpricedTracked bounds the in-memory unpriced-model tracker.
const maxUnpricedTracked = 1000

// UnpricedModel counts events whose model had no catalog price.
type UnpricedModel struct {
	Provider string `json:"provider"`
	Model    string `json:"model"`
	Events   int64  `json:"events"`
	// CostKnown counts those events that still had a cost (provider cost).
	CostKnown int64 `json:"cost_known"`
}

func (en *Engine) noteUnpriced(e *usage.Event, known bool) {
	model := e.ResponseModel
	if model == "" {
		model = e.Model
	}
	k := [2]string{e.Provider, model}
	en.mu.Lock()
	if _, seen := en.unpriced[k]; !seen && len(en.unpriced) >= maxUnpricedTracked {
		// Clients choose model names; past the cap, new names share one
		// bucket so the tracker cannot grow without bound.
		k = [2]string{"*", "(other models)"}
		model = k[1]
	}
	u := en.unpriced[k]
	first := u == nil
	if first {
		u = &UnpricedModel{Provider: k[0], Model: model}
		en.unpriced[k] = u
	}
	u.Events++
	if known {
		u.CostKnown++
	}
	en.mu.Unlock()
	if first {
		// Logged once per model so a busy unpriced model cannot flood logs.
		en.logger.Warn("no price for model", "provider", e.Provider, "model", model)
	}
}

// Unpriced lists the models seen without a price since the engine started,
// busiest first. The durable list comes from the ledger (see
// UnpricedSummary).
func (en *Engine) Unpriced() []UnpricedModel {
	en.mu.Lock()
	out := make([]UnpricedModel, 0, len(en.unpriced))
	for _, u := range en.unpriced {
		out = append(out, *u)
	}
	en.mu.Unlock()
	sortUnpriced(out)
	return out
}

func sortUnpriced(out []UnpricedModel) {
	sort.Slice(out, func(i, j int) bool {
		if out[i].Events != out[j].Events {
			return out[i].Events > out[j].Events
		}
		return out[i].Provider+"/"+out[i].Model < out[j].Provider+"/"+out[j].Model
	})
}

// UnpricedSummary groups events that had no catalog match by provider and
// model. The ledger can compute the same with
//
//	SELECT provider, COALESCE(NULLIF(response_model,''), model), count(*),
//	       sum(total_cost_usd IS NOT NULL)
//	FROM events WHERE pricing_matched = 0 AND cost_source <> 'not_billed'
//	GROUP BY 1, 2 ORDER BY 3 DESC
func UnpricedSummary(events []usage.Event) []UnpricedModel {
	m := map[[2]string]*UnpricedModel{}
	for i := range events {
		e := &events[i]
		if e.PricingMatched || e.CostSource == usage.CostNotBilled {
			continue
		}
		model := e.ResponseModel
		if model == "" {
			model = e.Model
		}
		k := [2]string{e.Provider, model}
		u := m[k]
		if u == nil {
			u = &UnpricedModel{Provider: e.Provider, Model: model}
			m[k] = u
		}
		u.Events++
		if e.TotalCost != nil {
			u.CostKnown++
		}
	}
	out := make([]UnpricedModel, 0, len(m))
	for _, u := range m {
		out = append(out, *u)
	}
	sortUnpriced(out)
	return out
}
