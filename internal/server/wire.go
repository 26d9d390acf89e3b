package server

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spendops/spendops/internal/config"
	"github.com/spendops/spendops/internal/estimate"
	"github.com/spendops/spendops/internal/extract"
	"github.com/spendops/spendops/internal/extract/openai"
	"github.com/spendops/spendops/internal/keys"
	"github.com/spendops/spendops/internal/policy"
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
	sink           usage.Sink
	extractors     usage.ExtractorFactory
	decoder        func(string, io.Writer, int64) (io.WriteCloser, error)
	inject         func([]byte) ([]byte, bool, error)
	strip          func(io.Writer) io.WriteCloser
	estimator      proxy.Estimator
	validatePolicy func(keys.Policy) error
	mounts         map[string]http.Handler
	ui             http.Handler
	closers        []func(context.Context) error
	ready          func(context.Context) error
}

func wire(_ context.Context, in wireInput) (*wiring, error) {
	maxDecoded := in.cfg.Proxy.MaxJSONBody
	w := &wiring{
		mounts:         map[string]http.Handler{},
		extractors:     extract.New,
		inject:         openai.InjectIncludeUsage,
		strip:          openai.NewUsageChunkStripper,
		estimator:      estimator{},
		validatePolicy: policy.ValidatePolicy,
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
