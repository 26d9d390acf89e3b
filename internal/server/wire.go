package server

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spendops/spendops/internal/config"
	"github.com/spendops/spendops/internal/keys"
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
	_ = in
	return &wiring{mounts: map[string]http.Handler{}}, nil
}
