// Package config loads SpendOps' configuration with the precedence
// flags > environment > file > defaults, and validates it with errors that
// name the offending field.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/spendops/spendops/internal/provider"
)

// Config is the whole configuration tree.
type Config struct {
	// Addr is the listen address [127.0.0.1:8080].
	Addr string `yaml:"addr"`
	// DataDir holds the SQLite database, server secret and spool [./spendops-data].
	DataDir string `yaml:"data_dir"`
	// Env tags every event (e.g. dev, prod) [""].
	Env string `yaml:"env"`
	// AdminToken is the admin API bearer token. When empty, the token whose
	// hash is stored in the data dir is used; on first start one is generated
	// and printed once. Prefer SPENDOPS_ADMIN_TOKEN to writing it in a file.
	AdminToken string `yaml:"admin_token"`
	// ServerSecret keys the HMAC of API keys (hex, >= 32 bytes). When empty,
	// one is generated into the data dir with mode 0600.
	ServerSecret string `yaml:"server_secret"`
	// Upstreams overrides provider base URLs by name.
	Upstreams map[string]string `yaml:"upstreams"`
	// Providers adds user-defined providers or changes built-in ones.
	Providers []provider.Definition `yaml:"providers"`
	Proxy     Proxy                 `yaml:"proxy"`
	Log       Log                   `yaml:"log"`
	Pipeline  Pipeline              `yaml:"pipeline"`
	Pricing   Pricing               `yaml:"pricing"`
}

// Pricing configures price updates.
type Pricing struct {
	Sync PricingSync `yaml:"sync"`
}

// PricingSync fetches a price dataset on a schedule. Off when URL is empty
// [off]; a failed fetch keeps the current prices.
type PricingSync struct {
	URL      string   `yaml:"url"`      // http(s) URL of a LiteLLM or genai-prices file
	Format   string   `yaml:"format"`   // litellm | genai-prices [litellm]
	Interval Duration `yaml:"interval"` // [24h]
}

// Proxy tunes the data plane.
type Proxy struct {
	// MaxJSONBody caps request bodies read into memory, in bytes [64 MiB].
	MaxJSONBody int64 `yaml:"max_json_body"`
	// DialTimeout, TLSHandshakeTimeout and ResponseHeaderTimeout bound the
	// upstream connection phases [10s, 10s, 10m]. There is never a total
	// timeout: streams last as long as the provider sends.
	DialTimeout           Duration `yaml:"dial_timeout"`
	TLSHandshakeTimeout   Duration `yaml:"tls_handshake_timeout"`
	ResponseHeaderTimeout Duration `yaml:"response_header_timeout"`
	// CAFile adds PEM CA certificates to the system pool for upstream TLS
	// (corporate egress proxies, private gateways) [none].
	CAFile string `yaml:"ca_file"`
	// DrainTimeout is how long SIGTERM waits for in-flight requests and
	// streams before closing them [30s].
	DrainTimeout Duration `yaml:"drain_timeout"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug|info|warn|error [info]
	Format string `yaml:"format"` // json|text [json]
	// Access enables one log line per request [true].
	Access *bool `yaml:"access"`
}

// Pipeline tunes the usage-event pipeline.
type Pipeline struct {
	QueueSize int      `yaml:"queue_size"` // in-memory events before spilling to disk [2000]; a kill -9 can lose at most queue_size + batch_size events
	BatchSize int      `yaml:"batch_size"` // events per group commit [500]
	BatchWait Duration `yaml:"batch_wait"` // longest wait before a commit [50ms]
}

// Duration is a time.Duration written as "10s" in YAML.
type Duration struct{ time.Duration }

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration like 10s or 5m", s)
	}
	d.Duration = v
	return nil
}

// Default returns the defaults.
func Default() Config {
	t := true
	return Config{
		Addr:    "127.0.0.1:8080",
		DataDir: "./spendops-data",
		Proxy: Proxy{
			MaxJSONBody:           64 << 20,
			DialTimeout:           Duration{10 * time.Second},
			TLSHandshakeTimeout:   Duration{10 * time.Second},
			ResponseHeaderTimeout: Duration{10 * time.Minute},
			DrainTimeout:          Duration{30 * time.Second},
		},
		Log:      Log{Level: "info", Format: "json", Access: &t},
		Pipeline: Pipeline{QueueSize: 2000, BatchSize: 500, BatchWait: Duration{50 * time.Millisecond}},
		Pricing:  Pricing{Sync: PricingSync{Format: "litellm", Interval: Duration{24 * time.Hour}}},
	}
}

// LoadFile merges a YAML file over c. Unknown fields are errors.
func (c *Config) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) { // an empty file is fine
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// Validate checks every field and names the first bad one.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("addr: %q is not host:port", c.Addr)
	}
	if c.DataDir == "" {
		return errors.New("data_dir: must not be empty")
	}
	if c.Proxy.MaxJSONBody <= 0 {
		return errors.New("proxy.max_json_body: must be positive")
	}
	for name, d := range map[string]Duration{
		"proxy.dial_timeout": c.Proxy.DialTimeout, "proxy.tls_handshake_timeout": c.Proxy.TLSHandshakeTimeout,
		"proxy.response_header_timeout": c.Proxy.ResponseHeaderTimeout, "proxy.drain_timeout": c.Proxy.DrainTimeout,
		"pipeline.batch_wait": c.Pipeline.BatchWait,
	} {
		if d.Duration <= 0 {
			return fmt.Errorf("%s: must be a positive duration", name)
		}
	}
	switch strings.ToLower(c.Log.Level) {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level: %q is not debug, info, warn or error", c.Log.Level)
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		return fmt.Errorf("log.format: %q is not json or text", c.Log.Format)
	}
	if c.Pipeline.QueueSize <= 0 || c.Pipeline.BatchSize <= 0 {
		return errors.New("pipeline.queue_size, pipeline.batch_size: must be positive")
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		return errors.New("admin_token: must be at least 16 characters")
	}
	if s := c.Pricing.Sync; s.URL != "" {
		if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("pricing.sync.url: %q is not an http(s) URL", s.URL)
		}
		if s.Format != "litellm" && s.Format != "genai-prices" {
			return fmt.Errorf("pricing.sync.format: %q is not litellm or genai-prices", s.Format)
		}
		if s.Interval.Duration < time.Minute {
			return errors.New("pricing.sync.interval: must be at least 1m")
		}
	}
	if _, err := provider.New(c.Providers, c.Upstreams); err != nil {
		return err
	}
	return nil
}
