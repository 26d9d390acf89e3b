package proxy

import (
	"net/http"
	"net/textproto"
	"strings"
)

// hopHeaders are removed in both directions (RFC 9110 §7.6.1; plus the
// non-standard Proxy-Connection and Keep-Alive that old clients still send).
var hopHeaders = []string{
	"Connection",
	"Proxy-Connection",
	"Keep-Alive",
	"Proxy-Authenticate",
	"Proxy-Authorization",
	"Te",
	"Trailer",
	"Transfer-Encoding",
	"Upgrade",
}

// removeHopByHop deletes hop-by-hop headers, including any header named in
// Connection.
func removeHopByHop(h http.Header) {
	for _, v := range h["Connection"] {
		for _, f := range strings.Split(v, ",") {
			if f = textproto.TrimString(f); f != "" {
				h.Del(f)
			}
		}
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
}

// outboundHeader returns the headers to send upstream: everything the client
// sent except hop-by-hop headers and the ones decisions.md strips
// (X-ASO-*, CF-*, CDN-*, True-Client-IP, X-Forwarded-For, X-Forwarded-Proto,
// X-Real-IP). Host is set from the upstream URL by the transport. Provider
// credentials pass through untouched.
func outboundHeader(in http.Header) http.Header {
	out := make(http.Header, len(in))
	for k, v := range in {
		if stripped(k) {
			continue
		}
		out[k] = v // values are not modified below, so sharing is safe
	}
	removeHopByHop(out)
	if _, ok := out["User-Agent"]; !ok {
		// An explicit empty value stops net/http adding its own User-Agent,
		// so the provider sees exactly what the client sent.
		out["User-Agent"] = []string{""}
	}
	return out
}

func stripped(canonicalKey string) bool {
	k := canonicalKey
	switch {
	case hasPrefixFold(k, "X-Aso-"), hasPrefixFold(k, "Cf-"), hasPrefixFold(k, "Cdn-"):
		return true
	}
	switch k {
	case "True-Client-Ip", "X-Forwarded-For", "X-Forwarded-Proto", "X-Real-Ip":
		return true
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// copyResponseHeader copies the upstream response headers to the client,
// minus hop-by-hop headers.
func copyResponseHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
	removeHopByHop(dst)
}
