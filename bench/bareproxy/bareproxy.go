// Package bareproxy is the benchmark's floor: net/http/httputil.ReverseProxy with no logic of its own, so the
// cost of SpendOps can be reported as a ratio to what any Go reverse proxy pays on the same machine.
package bareproxy

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// New returns a reverse proxy to upstream. The only tuning is the idle-connection pool (the default of 2 idle
// connections per host would make the floor pay for TCP handshakes under load, which no real proxy does).
// ReverseProxy flushes text/event-stream responses immediately by itself.
func New(upstream *url.URL) http.Handler {
	rp := httputil.NewSingleHostReverseProxy(upstream)
	rp.Transport = &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        4096,
		MaxIdleConnsPerHost: 4096,
		IdleConnTimeout:     90 * time.Second,
	}
	return rp
}
