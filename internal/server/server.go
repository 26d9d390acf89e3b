// Package server wires SpendOps' components into one process: the key
// cache, the proxy, the admin API, health and metrics endpoints, and the
// usage pipeline, with a graceful drain on shutdown.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/spendops/spendops/internal/admin"
	"github.com/spendops/spendops/internal/config"
	"github.com/spendops/spendops/internal/keys"
	"github.com/spendops/spendops/internal/provider"
	"github.com/spendops/spendops/internal/proxy"
	"github.com/spendops/spendops/internal/store"
)

// Server is a running SpendOps process.
type Server struct {
	cfg        config.Config
	logger     *slog.Logger
	db         *sql.DB
	cache      *keys.Cache
	handler    http.Handler
	proxy      *proxy.Handler
	ln         net.Listener
	http       *http.Server
	closers    []func(context.Context) error
	ready      func(context.Context) error
	background []func(context.Context)
	bg         sync.WaitGroup
	bgCancel   context.CancelFunc
}

// New builds a server from a validated config. stdout receives the
// one-time bootstrap admin token.
func New(ctx context.Context, cfg config.Config, logger *slog.Logger, stdout io.Writer) (*Server, error) {
	db, err := store.Open(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, logger: logger, db: db}
	ok := false
	defer func() {
		if !ok {
			_ = db.Close()
		}
	}()
	secret, err := keys.LoadOrCreateSecret(cfg.DataDir, cfg.ServerSecret)
	if err != nil {
		return nil, fmt.Errorf("server secret: %w", err)
	}
	ks, err := keys.NewStore(ctx, db, secret)
	if err != nil {
		return nil, err
	}
	s.cache, err = keys.NewCache(ctx, ks, logger.With("component", "keys"))
	if err != nil {
		return nil, err
	}
	tok, generated, err := admin.LoadToken(cfg.DataDir, cfg.AdminToken)
	if err != nil {
		return nil, fmt.Errorf("admin token: %w", err)
	}
	if generated != "" {
		fmt.Fprintf(stdout, "Bootstrap admin token (shown once; only its hash is stored): %s\n", generated)
	}
	reg, err := provider.New(cfg.Providers, cfg.Upstreams)
	if err != nil {
		return nil, err
	}

	promReg := prometheus.NewRegistry()
	promReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	access := cfg.Log.Access == nil || *cfg.Log.Access
	wiring, err := wire(ctx, wireInput{cfg: cfg, db: db, logger: logger, reg: promReg, keys: ks})
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, wiring.closers...)
	s.ready = wiring.ready
	s.background = wiring.background

	tlsCfg, err := upstreamTLS(cfg.Proxy.CAFile)
	if err != nil {
		return nil, err
	}
	ph, err := proxy.New(proxy.Config{
		Registry: reg, Auth: s.cache, Policy: wiring.policy, InspectBody: wiring.inspectBody, Sink: wiring.sink,
		Extractors: wiring.extractors, Decoder: wiring.decoder, InjectUsage: wiring.inject, StripUsage: wiring.strip,
		Estimator: wiring.estimator,
		Transport: proxy.NewTransport(proxy.TransportConfig{
			DialTimeout: cfg.Proxy.DialTimeout.Duration, TLSHandshakeTimeout: cfg.Proxy.TLSHandshakeTimeout.Duration,
			ResponseHeaderTimeout: cfg.Proxy.ResponseHeaderTimeout.Duration, TLSClientConfig: tlsCfg,
		}),
		MaxJSONBody: cfg.Proxy.MaxJSONBody, Env: cfg.Env, Logger: logger.With("component", "proxy"),
		AccessLog: access, Metrics: proxy.NewMetrics(promReg),
	})
	if err != nil {
		return nil, err
	}
	s.proxy = ph
	ah, err := admin.New(admin.Config{Token: tok, Keys: ks, Logger: logger.With("component", "admin"),
		ValidatePolicy: wiring.validatePolicy, Mounts: wiring.mounts})
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		admin.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(promReg, promhttp.HandlerOpts{}))
	mux.Handle("/api/v1/", ah)
	if wiring.ui != nil {
		mux.Handle("/", wiring.ui)
	} else {
		mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
			admin.WriteError(w, http.StatusNotFound, "Not found (the proxy is at /v1/{provider}/..., the admin API at /api/v1/)")
		})
	}
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The proxy sees raw paths: ServeMux would clean or redirect "..",
		// and a crafted path must get a 400, never a redirect.
		if r.URL.Path == "/v1" || strings.HasPrefix(r.URL.Path, "/v1/") {
			ph.ServeHTTP(w, r)
			return
		}
		// Every response carries a request id, as the proxy's do.
		w.Header().Set("X-ASO-Request-Id", uuid.NewString())
		mux.ServeHTTP(w, r)
	})
	ok = true
	return s, nil
}

// Handler returns the root handler (for tests).
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		admin.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "store unavailable"})
		return
	}
	if s.ready != nil {
		if err := s.ready(ctx); err != nil {
			admin.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": err.Error()})
			return
		}
	}
	admin.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// Listen binds the configured address.
func (s *Server) Listen() (net.Addr, error) {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return nil, err
	}
	s.ln = ln
	return ln.Addr(), nil
}

// Serve runs until ctx ends, then drains: it stops accepting, lets in-flight
// requests and streams finish up to the drain timeout, closes what is left,
// flushes the usage pipeline and closes the store.
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		if _, err := s.Listen(); err != nil {
			return err
		}
	}
	bgCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.bgCancel = cancel
	s.bg.Add(1)
	go func() { defer s.bg.Done(); s.cache.Run(bgCtx) }()
	for _, f := range s.background {
		s.bg.Add(1)
		go func() { defer s.bg.Done(); f(bgCtx) }()
	}

	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second, // slow-header clients; bodies and streams have no total timeout
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	select {
	case err := <-errc:
		s.shutdownRest(context.Background())
		return err
	case <-ctx.Done():
	}
	s.logger.Info("shutting down: draining in-flight requests", "drain_timeout", s.cfg.Proxy.DrainTimeout.Duration.String())
	dctx, dcancel := context.WithTimeout(context.Background(), s.cfg.Proxy.DrainTimeout.Duration)
	defer dcancel()
	if err := s.http.Shutdown(dctx); err != nil {
		s.logger.Warn("drain timeout: closing remaining connections", "err", err)
		_ = s.http.Close()
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	s.proxy.Wait(wctx) // events still being estimated reach the pipeline before it closes
	wcancel()
	s.shutdownRest(context.Background())
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *Server) shutdownRest(ctx context.Context) {
	for i := len(s.closers) - 1; i >= 0; i-- {
		cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		if err := s.closers[i](cctx); err != nil {
			s.logger.Error("shutdown", "err", err)
		}
		cancel()
	}
	if s.bgCancel != nil {
		s.bgCancel()
	}
	s.bg.Wait()
	_ = s.db.Close()
}

// upstreamTLS returns nil (system defaults) or a config whose roots are the
// system pool plus the PEM certificates in caFile.
func upstreamTLS(caFile string) (*tls.Config, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("proxy.ca_file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("proxy.ca_file: %s holds no PEM certificate", caFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// pprofMux serves the runtime profiles (behind the admin token), so an
// operator can see where a busy proxy spends its CPU.
func pprofMux() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return m
}
