// Package policy decides, before a request is forwarded, whether an API
// key's policy lets it through: the provider allow-list, the X-ASO-Dims
// dimensions and the model allow-list, in that order (the route and the key
// itself are checked by the proxy before). It is pure: no I/O, no clock, no
// logging, so the proxy can call it on every request and tests can call it
// with plain values.
//
// The dimensions grammar and every policy choice made here are written down
// in docs/dimensions.md.
package policy

import (
	"net/http"
	"strings"

	"github.com/spendops/spendops/internal/keys"
	"github.com/spendops/spendops/internal/provider"
	"github.com/spendops/spendops/internal/usage"
)

// Denial types this package produces (see usage.Denial).
const (
	DenialProvider   = usage.DenialProviderBlocked
	DenialDimensions = usage.DenialDimensions
	DenialModel      = usage.DenialModelBlocked
)

// Exact texts of the hosted product for provider and model rejections.
const (
	MsgProviderNotAllowed = "Provider not allowed by API key policy"
	MsgModelNotAllowed    = "Model not allowed by API key policy"
)

// DefaultMaxDecodedBytes caps how many bytes a compressed request body may
// expand to when the policy must look inside it.
const DefaultMaxDecodedBytes = 32 << 20

// Input is what the policy needs to know about one request.
type Input struct {
	// Provider is the route's provider name (aliases are resolved here).
	Provider string
	// Dialect is the provider's wire dialect (provider.Provider.Dialect).
	// Empty means the built-in provider's dialect, else openai-compatible.
	// Model names in the URL are read only for the gemini dialect; file
	// batch jobs are refused only for openai-compatible.
	Dialect provider.Dialect
	// Method is the HTTP method.
	Method string
	// Path is the provider API path after /v1/{provider}, still escaped as
	// the client sent it (r.URL.EscapedPath() minus the route prefix), e.g.
	// "/v1beta/models/gemini-2.5-flash:generateContent".
	Path string
	// RawQuery is the query string without '?'.
	RawQuery string
	// Header is the request header: X-ASO-Dims, Content-Type and
	// Content-Encoding are read from it.
	Header http.Header
	// Body is the request body as received (still compressed when
	// Content-Encoding says so); nil or empty when there is none.
	Body []byte
	// BodyTruncated says Body holds only the first bytes of a longer body.
	// A key with a restrictive model list then gets a 413, since the rest
	// could name another model.
	BodyTruncated bool
	// MaxDecodedBytes caps decompression; 0 means DefaultMaxDecodedBytes.
	MaxDecodedBytes int64
}

// Decision is the policy's verdict on one request.
type Decision struct {
	// Dims are the dimensions to record (request, pinned and default
	// dimensions merged); nil when there are none or they failed to parse.
	Dims map[string]string
	// Model is the model the request names: the URL's for Gemini-native
	// paths, else the body's "model", else the query's; "" when none.
	Model string
	// Denial is nil when the request may be forwarded.
	Denial *Denial
}

// Denial is a rejection: the proxy answers Status with
// {"error":"AISpendOps: <Message>"} and records a denial event of Type.
type Denial struct {
	Type    string
	Message string
	Status  int
}

// Error returns the message, so a Denial can travel as an error.
func (d *Denial) Error() string { return d.Message }

// Evaluate applies key policy p to one request. Checks run in the documented
// order (provider, dimensions, model) and the first failure wins. The
// dimensions are parsed even when the provider is refused, so the denial
// event can carry them.
func Evaluate(p keys.Policy, in Input) Decision {
	var dec Decision
	dims, dimsDenial := ParseDims(in.Header.Values(DimsHeader), p.Dims)
	dec.Dims = dims
	prov := provider.Canonical(in.Provider)
	if !ProviderAllowed(p.Providers, prov) {
		dec.Denial = &Denial{Type: DenialProvider, Message: MsgProviderNotAllowed, Status: http.StatusForbidden}
		return dec
	}
	if dimsDenial != nil {
		dec.Denial = dimsDenial
		return dec
	}
	restricted := ModelsRestricted(p.Models, prov)
	ms, err := requestModels(in, prov, restricted)
	dec.Model = ms.primary()
	if !restricted {
		return dec
	}
	if err != nil {
		dec.Denial = err
		return dec
	}
	for _, m := range ms.all {
		if !MatchModel(p.Models, prov, m) {
			dec.Denial = &Denial{Type: DenialModel, Message: MsgModelNotAllowed, Status: http.StatusForbidden}
			return dec
		}
	}
	return dec
}

// ProviderAllowed reports whether the provider allow-list admits prov.
// An empty list or one holding "*" admits every provider.
func ProviderAllowed(list []string, prov string) bool {
	if len(list) == 0 {
		return true
	}
	prov = provider.Canonical(prov)
	for _, a := range list {
		if a == "*" || provider.Canonical(strings.ToLower(a)) == prov {
			return true
		}
	}
	return false
}

// ModelsRestricted reports whether the model allow-list restricts requests
// to prov at all: not when it is empty or holds "*" or "{prov}:*". Only then
// does the policy need to look inside request bodies.
func ModelsRestricted(patterns []string, prov string) bool {
	if len(patterns) == 0 {
		return false
	}
	prov = provider.Canonical(prov)
	for _, pat := range patterns {
		if pat == "*" {
			return false
		}
		pp, rest, ok := strings.Cut(pat, ":")
		if ok && rest == "*" && provider.Canonical(strings.ToLower(pp)) == prov {
			return false
		}
	}
	return true
}

// MatchModel reports whether model, sent to provider prov, matches one of
// the allow-list patterns: "*" (any model of any provider),
// "provider:exact" or "provider:prefix*". Matching ignores case and the
// model's surrounding whitespace (ModelFromRequest has already turned
// Gemini's "models/x" into "x"). An empty list matches everything.
func MatchModel(patterns []string, prov, model string) bool {
	if len(patterns) == 0 {
		return true
	}
	prov = provider.Canonical(prov)
	m := normModel(model)
	for _, pat := range patterns {
		if pat == "*" {
			return true
		}
		pp, rest, ok := strings.Cut(pat, ":")
		if !ok || provider.Canonical(strings.ToLower(pp)) != prov {
			continue
		}
		rest = strings.ToLower(rest)
		if prefix, wild := strings.CutSuffix(rest, "*"); wild {
			if strings.HasPrefix(m, prefix) {
				return true
			}
		} else if m == rest {
			return true
		}
	}
	return false
}
