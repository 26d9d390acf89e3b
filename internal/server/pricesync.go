package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/spendops/spendops/internal/config"
	"github.com/spendops/spendops/internal/pricing"
)

// maxSyncBytes caps a downloaded price file (LiteLLM's is about 1.5 MB).
const maxSyncBytes = 64 << 20

// priceSync fetches a price dataset on a schedule and, when it changes any
// price, stores it as a new catalog version and re-prices unpriced events.
// It is off unless pricing.sync_url is set, and failures (offline machine,
// bad file) are logged and retried at the next interval: serving never
// depends on it.
type priceSync struct {
	cfg    config.PricingSync
	store  *pricing.Store
	engine *pricing.Engine
	events pricing.EventStore
	client *http.Client
	logger *slog.Logger
}

func (ps *priceSync) run(ctx context.Context) {
	for {
		if err := ps.once(ctx); err != nil {
			ps.logger.Warn("pricing sync failed; keeping current prices", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(ps.cfg.Interval.Duration):
		}
	}
}

func (ps *priceSync) once(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ps.cfg.URL, nil)
	if err != nil {
		return err
	}
	res, err := ps.client.Do(req)
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch: status %d", res.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, maxSyncBytes+1))
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	if len(data) > maxSyncBytes {
		return fmt.Errorf("fetch: file larger than %d bytes", maxSyncBytes)
	}
	base := ps.engine.Catalog()
	next, diff, err := pricing.Import(ps.cfg.Format, data, base)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if len(diff.Changes) == 0 {
		return nil
	}
	saved, err := ps.store.SaveCatalog(ctx, next)
	if err != nil {
		return err
	}
	ps.engine.SetCatalog(saved)
	added, removed, changed := diff.Counts()
	ps.logger.Info("pricing sync: new catalog version", "version", saved.Version(), "added", added, "removed", removed, "changed", changed)
	res2, err := pricing.Reprice(ctx, ps.events, ps.engine, ps.store, pricing.RepriceOptions{UnpricedOnly: true})
	if err != nil {
		return fmt.Errorf("re-price: %w", err)
	}
	if res2.Changed > 0 {
		ps.logger.Info("pricing sync: re-priced unpriced events", "changed", res2.Changed)
	}
	return nil
}
