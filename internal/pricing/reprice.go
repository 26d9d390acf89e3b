package pricing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"github.com/spendops/spendops/internal/usage"
)

// EventFilter narrows the events to re-price. Zero fields do not filter.
type EventFilter struct {
	From, To time.Time // [From, To)
	Provider string
	Model    string // request or response model
}

// EventStore is what re-pricing needs from the ledger. Implementations
// return events with all usage and cost fields; UpdateCosts must write
// only the cost fields (CalculatedCost, TotalCost, CostSource,
// PricingMatched, PricingModel, PricingVersion) of the given events, keyed
// by RequestID, atomically.
type EventStore interface {
	// UnpricedEvents returns events with cost_source none.
	UnpricedEvents(ctx context.Context, f EventFilter) ([]usage.Event, error)
	// EventsInRange returns all events in [from, to), optionally of one
	// model (request or response model).
	EventsInRange(ctx context.Context, from, to time.Time, model string) ([]usage.Event, error)
	UpdateCosts(ctx context.Context, events []usage.Event) error
}

// AuditRecorder stores re-price audit rows (Store implements it).
type AuditRecorder interface {
	RecordReprice(ctx context.Context, rows []RepriceAudit) error
}

// RepriceOptions selects events: only unpriced ones (the automatic re-price
// after a price is added), or every event in a time range.
type RepriceOptions struct {
	EventFilter
	UnpricedOnly bool
}

// RepriceResult summarises a re-price run. Before and After sum the total
// cost of the changed events (nulls count as zero).
type RepriceResult struct {
	Examined, Changed int
	Before, After     decimal.Decimal
}

// Reprice prices the selected events again with the engine's current
// catalog and overrides. Events whose cost, cost source or match changed
// are audited (old/new cost and version) and then updated in the ledger;
// should the update fail after the audit was written, running Reprice again
// re-applies the same change.
func Reprice(ctx context.Context, es EventStore, en *Engine, audit AuditRecorder, opt RepriceOptions) (RepriceResult, error) {
	var res RepriceResult
	if es == nil || en == nil || audit == nil {
		return res, errors.New("reprice: event store, engine and audit recorder are required")
	}
	var evs []usage.Event
	var err error
	if opt.UnpricedOnly {
		evs, err = es.UnpricedEvents(ctx, opt.EventFilter)
	} else {
		if opt.From.IsZero() || opt.To.IsZero() {
			return res, errors.New("reprice: --from and --to are required")
		}
		evs, err = es.EventsInRange(ctx, opt.From, opt.To, opt.Model)
	}
	if err != nil {
		return res, fmt.Errorf("reprice: %w", err)
	}
	now := time.Now().UTC()
	var changed []usage.Event
	var rows []RepriceAudit
	for _, old := range evs {
		if opt.Provider != "" && old.Provider != opt.Provider {
			continue
		}
		res.Examined++
		e := old
		en.Price(&e)
		if sameDec(old.TotalCost, e.TotalCost) && old.CostSource == e.CostSource && old.PricingMatched == e.PricingMatched {
			continue
		}
		res.Changed++
		res.Before = res.Before.Add(orZero(old.TotalCost))
		res.After = res.After.Add(orZero(e.TotalCost))
		changed = append(changed, e)
		rows = append(rows, RepriceAudit{RequestID: e.RequestID, OldCost: old.TotalCost, NewCost: e.TotalCost,
			OldSource: string(old.CostSource), NewSource: string(e.CostSource),
			OldVersion: old.PricingVersion, NewVersion: e.PricingVersion, At: now})
	}
	if len(changed) == 0 {
		return res, nil
	}
	if err := audit.RecordReprice(ctx, rows); err != nil {
		return res, fmt.Errorf("reprice: %w", err)
	}
	if err := es.UpdateCosts(ctx, changed); err != nil {
		return res, fmt.Errorf("reprice: %w", err)
	}
	return res, nil
}

func sameDec(a, b *decimal.Decimal) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func orZero(d *decimal.Decimal) decimal.Decimal {
	if d == nil {
		return decimal.Zero
	}
	return *d
}
