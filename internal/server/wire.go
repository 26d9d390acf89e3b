package server

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spendops/spendops/internal/config"
	"github.com/spendops/spendops/internal/decode"
	"github.com/spendops/spendops/internal/estimate"
	"github.com/spendops/spendops/internal/extract"
	"github.com/spendops/spendops/internal/extract/openai"
	"github.com/spendops/spendops/internal/keys"
	"github.com/spendops/spendops/internal/ledger"
	"github.com/spendops/spendops/internal/pipeline"
	"github.com/spendops/spendops/internal/policy"
	"github.com/spendops/spendops/internal/pricing"
	"github.com/spendops/spendops/internal/proxy"
	"github.com/spendops/spendops/internal/usage"
)

type wireInput struct {
	cfg    config.Config
	db     *sql.DB
	logger *slog.Logger
	reg    *prometheus.Registry
	keys   *keys.Store
}

// wiring holds the components plugged into the proxy and admin API.
type wiring struct {
	policy         proxy.PolicyFunc
	inspectBody    proxy.InspectFunc
	sink           usage.Sink
	extractors     usage.ExtractorFactory
	decoder        func(string, io.Writer, int64) (io.WriteCloser, error)
	inject         func([]byte) ([]byte, bool, error)
	strip          func(string, io.Writer) io.WriteCloser
	estimator      proxy.Estimator
	validatePolicy func(keys.Policy) error
	mounts         map[string]http.Handler
	ui             http.Handler
	closers        []func(context.Context) error
	ready          func(context.Context) error
	background     []func(context.Context)
}

func wire(ctx context.Context, in wireInput) (*wiring, error) {
	maxDecoded := in.cfg.Proxy.MaxJSONBody
	w := &wiring{
		mounts:         map[string]http.Handler{},
		extractors:     extract.New,
		decoder:        decode.NewWriter,
		inject:         openai.InjectIncludeUsage,
		strip:          openai.NewUsageChunkStripperFor,
		estimator:      estimator{},
		validatePolicy: policy.ValidatePolicy,
		inspectBody: func(k *keys.Key, prov string) bool {
			return policy.ModelsRestricted(k.Policy.Models, prov)
		},
		policy: func(k *keys.Key, pi proxy.PolicyInput) proxy.PolicyResult {
			d := policy.Evaluate(k.Policy, policy.Input{
				Provider: pi.Provider, Dialect: pi.Dialect, Method: pi.Method, Path: pi.Path, RawQuery: pi.RawQuery,
				Header: pi.Header, Body: pi.Body, MaxDecodedBytes: maxDecoded,
			})
			res := proxy.PolicyResult{Dims: d.Dims, Model: d.Model}
			if d.Denial != nil {
				res.Denial = &proxy.Rejection{Type: d.Denial.Type, Message: d.Denial.Message, Status: d.Denial.Status}
			}
			return res
		},
	}

	// Ledger, pricing and the pipeline between them.
	led, err := ledger.Open(ctx, in.db, in.logger.With("component", "ledger"))
	if err != nil {
		return nil, err
	}
	pst, err := pricing.OpenStore(ctx, in.db)
	if err != nil {
		return nil, err
	}
	cat, err := pst.Current(ctx)
	if err != nil {
		return nil, err
	}
	ov, err := pst.Overrides(ctx)
	if err != nil {
		return nil, err
	}
	en, err := pricing.NewEngine(pricing.EngineConfig{Catalog: cat, Overrides: ov, Logger: in.logger.With("component", "pricing")})
	if err != nil {
		return nil, err
	}
	pl, err := pipeline.New(pipeline.Config{
		Store: led, Pricer: en, Logger: in.logger.With("component", "pipeline"),
		SpoolDir:  filepath.Join(in.cfg.DataDir, "spool"),
		QueueSize: in.cfg.Pipeline.QueueSize, BatchSize: in.cfg.Pipeline.BatchSize, FlushInterval: in.cfg.Pipeline.BatchWait.Duration,
	})
	if err != nil {
		return nil, err
	}
	in.reg.MustRegister(pl.Collectors()...)
	events := LedgerEvents{L: led}
	w.sink = pl
	w.closers = append(w.closers, pl.Close)
	w.ready = func(context.Context) error { return pl.Ready() }
	w.mounts["/api/v1/debug/pprof/"] = http.StripPrefix("/api/v1", pprofMux())
	lh := ledger.NewHandler(led)
	w.mounts["/api/v1/events"] = lh
	w.mounts["/api/v1/denials"] = lh
	w.mounts["/api/v1/unpriced-models"] = lh
	// The pricing API's name for the same list.
	w.mounts["/api/v1/pricing/unpriced"] = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/api/v1/unpriced-models"
		lh.ServeHTTP(rw, r2)
	})
	w.mounts["/api/v1/pricing"] = pricing.NewHandler(pricing.HandlerConfig{Engine: en, Store: pst, Events: events, Logger: in.logger.With("component", "pricing")})
	w.background = append(w.background, func(ctx context.Context) {
		watchPricing(ctx, pst, en, events, 5*time.Second, in.logger.With("component", "pricing"))
	})
	if in.cfg.Pricing.Sync.URL != "" {
		ps := &priceSync{cfg: in.cfg.Pricing.Sync, store: pst, engine: en, events: events,
			client: &http.Client{Timeout: time.Minute}, logger: in.logger.With("component", "pricing-sync")}
		w.background = append(w.background, ps.run)
	}
	return w, nil
}

// estimator adapts the estimate package to proxy.Estimator.
type estimator struct{}

func (estimator) CounterFor(provider, model string) usage.Counter {
	return estimate.CounterFor(provider, model)
}

func (estimator) PromptTokens(provider, model string, body []byte) (int64, int64) {
	return estimate.PromptTokens(provider, model, body)
}
