package proxy

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// TransportConfig tunes the upstream transport. Zero values mean the
// defaults in brackets.
type TransportConfig struct {
	DialTimeout           time.Duration // [10s]
	TLSHandshakeTimeout   time.Duration // [10s]
	ResponseHeaderTimeout time.Duration // [10m]: reasoning models can think for minutes before the first byte
	IdleConnTimeout       time.Duration // [90s]
	MaxIdleConnsPerHost   int           // [1024]
	// TLSClientConfig, when set, replaces the system defaults (e.g. a
	// corporate CA for an egress proxy). HTTP/2 is still negotiated.
	TLSClientConfig *tls.Config
}

// NewTransport returns the pooled upstream transport: HTTP/2 where the
// provider offers it, many idle connections per host for thousands of
// concurrent streams, and no total timeout (streams may last as long as the
// provider keeps them open). DisableCompression keeps the client's
// Accept-Encoding and the provider's Content-Encoding untouched.
func NewTransport(c TransportConfig) *http.Transport {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.DialTimeout, 10*time.Second)
	def(&c.TLSHandshakeTimeout, 10*time.Second)
	def(&c.ResponseHeaderTimeout, 10*time.Minute)
	def(&c.IdleConnTimeout, 90*time.Second)
	if c.MaxIdleConnsPerHost <= 0 {
		c.MaxIdleConnsPerHost = 1024
	}
	d := &net.Dialer{Timeout: c.DialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          0, // no global cap; per-host cap below
		MaxIdleConnsPerHost:   c.MaxIdleConnsPerHost,
		IdleConnTimeout:       c.IdleConnTimeout,
		TLSHandshakeTimeout:   c.TLSHandshakeTimeout,
		ResponseHeaderTimeout: c.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		TLSClientConfig:       c.TLSClientConfig,
		// Read/write buffers stay at the 4 KiB default: every open stream
		// holds its own upstream connection, and memory per stream matters
		// more than the last percent of bulk throughput.
	}
}
