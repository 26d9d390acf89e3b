package proxy

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/spendops/spendops/internal/usage"
)

// isUpgrade reports a protocol-upgrade request (WebSocket, e.g. OpenAI's
// Realtime API).
func isUpgrade(r *http.Request) bool {
	if r.Header.Get("Upgrade") == "" {
		return false
	}
	for _, v := range r.Header.Values("Connection") {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "upgrade") {
				return true
			}
		}
	}
	return false
}

// forwardUpgrade relays an upgraded connection with the standard library's
// ReverseProxy, which handles 101 Switching Protocols and the two-way copy.
// Frames are not inspected: the event records the request with
// usage_source none (Realtime usage capture is future work).
func (h *Handler) forwardUpgrade(w http.ResponseWriter, r *http.Request, x *exchange, u *url.URL) {
	rp := &httputil.ReverseProxy{
		Transport: h.cfg.Transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = u
			pr.Out.Host = ""
			for k := range pr.Out.Header {
				if stripped(k) {
					delete(pr.Out.Header, k)
				}
			}
		},
		ModifyResponse: func(res *http.Response) error {
			x.status = res.StatusCode
			x.upHeaders = h.now()
			x.firstByte = x.upHeaders
			res.Header.Set("X-ASO-Request-Id", x.id)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() == nil {
				writeError(w, http.StatusBadGateway, msgUpstreamFailed)
			}
		},
	}
	x.upSent = h.now()
	rp.ServeHTTP(w, r)
	x.end = h.now()
	x.outcome = usage.OutcomeCompleted
	status := x.status
	if x.status == 0 || x.status >= 400 {
		x.outcome = usage.OutcomeError
		if status == 0 {
			status = http.StatusBadGateway
		}
	}
	h.finish(r, x, status)
}
