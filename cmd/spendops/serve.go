package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spendops/spendops/internal/config"
	"github.com/spendops/spendops/internal/server"
)

// loadConfig applies defaults, then the file, then env, then flags.
func loadConfig(fs *flag.FlagSet, args []string) (config.Config, error) {
	var (
		addr, dataDir, cfgFile, env, logLevel string
		upstreams                             multiFlag
	)
	fs.StringVar(&addr, "addr", "", "listen address [127.0.0.1:8080]")
	fs.StringVar(&dataDir, "data-dir", "", "data directory [./spendops-data]")
	fs.StringVar(&cfgFile, "config", "", "YAML config file")
	fs.StringVar(&env, "env", "", "environment tag recorded on events")
	fs.StringVar(&logLevel, "log-level", "", "debug|info|warn|error")
	fs.Var(&upstreams, "upstream", "NAME=URL upstream override (repeatable)")
	if err := fs.Parse(args); err != nil {
		return config.Config{}, usageError{err.Error()}
	}
	if fs.NArg() > 0 && fs.Name() == "serve" {
		return config.Config{}, usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if err := envFlags(fs); err != nil {
		return config.Config{}, err
	}
	cfg := config.Default()
	if cfgFile != "" {
		if err := cfg.LoadFile(cfgFile); err != nil {
			return cfg, err
		}
	}
	// Environment (below flags, above the file).
	if v, ok := os.LookupEnv("SPENDOPS_ADMIN_TOKEN"); ok {
		cfg.AdminToken = v
	}
	if v, ok := os.LookupEnv("SPENDOPS_SERVER_SECRET"); ok {
		cfg.ServerSecret = v
	}
	envUp := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if name, ok := strings.CutPrefix(k, "SPENDOPS_UPSTREAM_"); ok && name != "" {
			envUp[strings.ToLower(strings.ReplaceAll(name, "_", "-"))] = v
		}
	}
	flagUp := map[string]string{}
	for _, u := range upstreams {
		name, url, ok := strings.Cut(u, "=")
		if !ok || name == "" || url == "" {
			return cfg, usageError{fmt.Sprintf("--upstream %q: want NAME=URL", u)}
		}
		flagUp[name] = url
	}
	if cfg.Upstreams == nil {
		cfg.Upstreams = map[string]string{}
	}
	for _, m := range []map[string]string{envUp, flagUp} {
		for k, v := range m {
			cfg.Upstreams[k] = v
		}
	}
	if addr != "" {
		cfg.Addr = addr
	}
	if dataDir != "" {
		cfg.DataDir = dataDir
	}
	if env != "" {
		cfg.Env = env
	}
	if logLevel != "" {
		cfg.Log.Level = logLevel
	}
	return cfg, cfg.Validate()
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.Log.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(flag.NewFlagSet("serve", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	s, err := server.New(ctx, cfg, logger, stdout)
	if err != nil {
		return err
	}
	addr, err := s.Listen()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "SpendOps listening on http://%s (proxy: http://%s/v1/{provider}/..., admin API: /api/v1/, data dir: %s)\n", addr, addr, cfg.DataDir)
	return s.Serve(ctx)
}
