package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/spendops/spendops/internal/ledger"
	"github.com/spendops/spendops/internal/pricing"
	"github.com/spendops/spendops/internal/usage"
)

// LedgerEvents adapts the ledger to pricing.EventStore for re-pricing.
type LedgerEvents struct{ L *ledger.Ledger }

var _ pricing.EventStore = LedgerEvents{}

// UnpricedEvents returns every event with cost_source none in the filter.
func (le LedgerEvents) UnpricedEvents(ctx context.Context, f pricing.EventFilter) ([]usage.Event, error) {
	return le.all(ctx, ledger.Filter{CostSource: string(usage.CostNone), From: f.From, To: f.To, Provider: f.Provider, Model: f.Model})
}

// EventsInRange returns every event in [from, to), optionally of one model.
func (le LedgerEvents) EventsInRange(ctx context.Context, from, to time.Time, model string) ([]usage.Event, error) {
	return le.all(ctx, ledger.Filter{From: from, To: to, Model: model})
}

// UpdateCosts writes the new cost fields.
func (le LedgerEvents) UpdateCosts(ctx context.Context, evs []usage.Event) error {
	_, err := le.L.UpdateCosts(ctx, evs)
	return err
}

func (le LedgerEvents) all(ctx context.Context, f ledger.Filter) ([]usage.Event, error) {
	f.Ascending, f.Limit = true, ledger.MaxLimit
	var out []usage.Event
	for {
		evs, next, err := le.L.QueryEvents(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
		if next == "" {
			return out, nil
		}
		f.After = next
	}
}

// watchPricing reloads the catalog and overrides when another process (the
// CLI's import, activate) changed them, and then re-prices the events that
// had no price, so an unpriced model's spend appears as soon as a price for
// it exists.
func watchPricing(ctx context.Context, st *pricing.Store, en *pricing.Engine, events pricing.EventStore, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		changed, err := st.Reload(ctx, en)
		if err != nil {
			logger.Warn("pricing reload", "err", err)
			continue
		}
		if !changed {
			continue
		}
		res, err := pricing.Reprice(ctx, events, en, st, pricing.RepriceOptions{UnpricedOnly: true})
		if err != nil {
			logger.Error("re-price unpriced events", "err", err)
			continue
		}
		logger.Info("prices changed: re-priced unpriced events", "examined", res.Examined, "changed", res.Changed, "catalog", en.Catalog().Version())
	}
}
