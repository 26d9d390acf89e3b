// Package proxy is SpendOps' data plane: it routes /v1/{provider}/{rest} to
// the provider, authenticates the SpendOps key, applies the key's policy,
// forwards the request and relays the response byte for byte (streams
// flushed chunk by chunk), and after the response hands one usage event (or
// one denial event) to the pipeline.
package proxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/spendops/spendops/internal/keys"
	"github.com/spendops/spendops/internal/provider"
	"github.com/spendops/spendops/internal/usage"
)

// Authenticator verifies X-ASO-API-Key values (implemented by keys.Cache).
type Authenticator interface {
	// Authenticate returns keys.ErrFormat, keys.ErrUnknown, or
	// keys.ErrInactive for a known but deactivated key.
	Authenticate(key string) (*keys.Key, error)
}

// PolicyInput is what the policy check sees of a request.
type PolicyInput struct {
	Provider string
	Dialect  provider.Dialect
	Method   string
	// Path is the upstream-relative client path (escaped), without query.
	Path     string
	RawQuery string
	Header   http.Header
	// Body is the request body when it was read into memory, else nil.
	Body []byte
	// BodyRead is false when the body streams through unread.
	BodyRead bool
}

// PolicyResult is the outcome of the policy check.
type PolicyResult struct {
	// Dims are the dimensions to record (parsed, pinned and defaulted).
	Dims map[string]string
	// Model is the model the request names, if the check found one.
	Model string
	// Denial, when set, rejects the request.
	Denial *Rejection
}

// Rejection is a policy denial: an AISpendOps error response and a denial
// event.
type Rejection struct {
	Type    string // usage.Denial* constant
	Message string // without the "AISpendOps: " prefix
	Status  int
}

// PolicyFunc checks a request against its key's policy. It runs on the
// request path: it must be fast and must not block.
type PolicyFunc func(k *keys.Key, in PolicyInput) PolicyResult

// InspectFunc reports whether the key's policy must look inside this
// provider's request bodies whatever their type (a restrictive model list);
// the proxy then reads such bodies into memory (capped) for the check.
type InspectFunc func(k *keys.Key, provider string) bool

// Estimator estimates tokens when a provider reports none.
type Estimator interface {
	CounterFor(provider, model string) usage.Counter
	PromptTokens(provider, model string, body []byte) (tokens, chars int64)
}

// Config configures a Handler. Zero values mean the documented defaults.
type Config struct {
	Registry *provider.Registry
	Auth     Authenticator
	// Policy checks provider, dimensions and model. Nil allows everything and
	// records no dimensions.
	Policy PolicyFunc
	// InspectBody says when Policy needs non-JSON bodies too. Nil: never.
	InspectBody InspectFunc
	// Sink receives usage and denial events. Nil discards them.
	Sink usage.Sink
	// Extractors builds a usage extractor per response. Nil disables usage
	// extraction (events then carry estimates only).
	Extractors usage.ExtractorFactory
	// Decoder decompresses the observer's copy of an encoded response. Nil
	// skips extraction for encoded responses.
	Decoder func(contentEncoding string, dst io.Writer, maxOut int64) (io.WriteCloser, error)
	// InjectUsage splices stream_options.include_usage=true into a streaming
	// chat request body; nil disables injection.
	InjectUsage func(body []byte) (out []byte, injected bool, err error)
	// StripUsage wraps the client writer to drop what injection added for a
	// provider (the usage-only chunk); required when InjectUsage is set.
	StripUsage func(provider string, dst io.Writer) io.WriteCloser
	// Estimator estimates missing usage; nil uses characters/4.
	Estimator Estimator
	// Transport sends upstream requests. Nil uses NewTransport(TransportConfig{}).
	Transport http.RoundTripper
	// MaxJSONBody caps request bodies read into memory (JSON bodies, and any
	// body of a key with a restrictive model list). Default 64 MiB.
	MaxJSONBody int64
	// Env tags events (e.g. "prod").
	Env string
	// Logger receives one access-log line per request. Required.
	Logger *slog.Logger
	// AccessLog enables the per-request log line.
	AccessLog bool
	Metrics   *Metrics
	// Now is the clock; nil uses time.Now.
	Now func() time.Time
}

// DefaultMaxJSONBody is the default cap on request bodies read into memory.
const DefaultMaxJSONBody = 64 << 20

// maxObservedJSON caps how much of a decompressed body the observer feeds
// extractors (they cap themselves too; this bounds decompression bombs).
const maxObservedJSON = 256 << 20

// Handler serves the proxy routes. Create it with New.
type Handler struct {
	cfg     Config
	now     func() time.Time
	pending atomic.Int64 // events being estimated
}

// New returns a proxy handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Registry == nil || cfg.Auth == nil || cfg.Logger == nil {
		return nil, errors.New("proxy: Registry, Auth and Logger are required")
	}
	if cfg.InjectUsage != nil && cfg.StripUsage == nil {
		return nil, errors.New("proxy: StripUsage is required with InjectUsage")
	}
	if cfg.Transport == nil {
		cfg.Transport = NewTransport(TransportConfig{})
	}
	if cfg.MaxJSONBody <= 0 {
		cfg.MaxJSONBody = DefaultMaxJSONBody
	}
	h := &Handler{cfg: cfg, now: cfg.Now}
	if h.now == nil {
		h.now = time.Now
	}
	return h, nil
}

// Relay buffers: streams sit in Read for seconds holding their buffer, so
// they get a small one (SSE events are small); bodies of known length get a
// larger one for throughput.
var (
	bodyBufPool   = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
	streamBufPool = sync.Pool{New: func() any { b := make([]byte, 2<<10); return &b }}
)

// exchange carries one request's state from arrival to its event.
type exchange struct {
	id        string
	start     time.Time
	prov      *provider.Provider
	provName  string
	rest      string
	key       *keys.Key
	dims      map[string]string
	body      []byte
	bodyRead  bool
	facts     requestFacts
	injected  bool
	upPath    string
	status    int
	outcome   usage.Outcome
	firstByte time.Time
	end       time.Time
	report    usage.Report
	respBytes int64
	upSent    time.Time
	upHeaders time.Time
	obs       *observer
}

// ServeHTTP handles one proxy request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{id: uuid.NewString(), start: h.now()}
	w.Header().Set("X-ASO-Request-Id", x.id)
	if m := h.cfg.Metrics; m != nil {
		m.inflight.Inc()
		defer m.inflight.Dec()
	}

	// 1. Route.
	name, rest, err := splitRoute(rawPath(r))
	x.provName, x.rest = name, rest
	switch {
	case errors.Is(err, errNotProxyPath):
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	case err != nil:
		h.deny(w, r, x, usage.DenialUnknownProvider, msgUnknownProvider, http.StatusNotFound)
		return
	}
	p, ok := h.cfg.Registry.Lookup(name)
	if !ok {
		h.deny(w, r, x, usage.DenialUnknownProvider, msgUnknownProvider, http.StatusNotFound)
		return
	}
	x.prov, x.provName = p, p.Name
	if checkRest(rest) != nil {
		h.deny(w, r, x, usage.DenialInvalidPath, msgInvalidPath, http.StatusBadRequest)
		return
	}

	// 2. Authenticate.
	keyHeader := r.Header.Values("X-ASO-API-Key")
	if len(keyHeader) == 0 || keyHeader[0] == "" {
		h.deny(w, r, x, usage.DenialMissingKey, msgMissingKey, http.StatusUnauthorized)
		return
	}
	if len(keyHeader) > 1 {
		h.deny(w, r, x, usage.DenialInvalidKey, msgInvalidKey, http.StatusForbidden)
		return
	}
	k, err := h.cfg.Auth.Authenticate(keyHeader[0])
	switch {
	case errors.Is(err, keys.ErrInactive):
		x.key = k
		h.deny(w, r, x, usage.DenialInactiveKey, msgInactiveKey, http.StatusForbidden)
		return
	case err != nil:
		h.deny(w, r, x, usage.DenialInvalidKey, msgInvalidKey, http.StatusForbidden)
		return
	}
	x.key = k

	// 3. Read the body when it is JSON (model, stream) or when the key's model
	// list needs it inspected; everything else streams through unread.
	if r.Body != nil && r.Body != http.NoBody && (isJSONType(r.Header.Get("Content-Type")) || h.inspects(k, p.Name)) {
		b, err := readCapped(r.Body, h.cfg.MaxJSONBody)
		if errors.Is(err, errTooLarge) {
			h.deny(w, r, x, usage.DenialBodyTooLarge, "Request body too large (max "+strconv.FormatInt(h.cfg.MaxJSONBody, 10)+" bytes)", http.StatusRequestEntityTooLarge)
			return
		}
		if err != nil {
			h.deny(w, r, x, usage.DenialBadRequest, "Could not read request body", http.StatusBadRequest)
			return
		}
		x.body, x.bodyRead = b, true
		if r.Header.Get("Content-Encoding") == "" {
			x.facts = scanRequest(b)
		}
	}

	// 4. Policy: provider, dimensions, model.
	if h.cfg.Policy != nil {
		res := h.cfg.Policy(k, PolicyInput{Provider: p.Name, Dialect: p.Dialect, Method: r.Method, Path: rest, RawQuery: r.URL.RawQuery, Header: r.Header, Body: x.body, BodyRead: x.bodyRead})
		x.dims = res.Dims
		if res.Model != "" {
			x.facts.model = res.Model
		}
		if d := res.Denial; d != nil {
			h.deny(w, r, x, d.Type, d.Message, d.Status)
			return
		}
	}
	if strings.HasSuffix(rest, ":streamGenerateContent") {
		x.facts.stream = true
	}

	h.forward(w, r, x)
}

func (h *Handler) inspects(k *keys.Key, provider string) bool {
	return h.cfg.InspectBody != nil && h.cfg.InspectBody(k, provider)
}

var errTooLarge = errors.New("body too large")

func readCapped(r io.Reader, max int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, errTooLarge
	}
	return buf.Bytes(), nil
}

// forward sends the request upstream and relays the response.
func (h *Handler) forward(w http.ResponseWriter, r *http.Request, x *exchange) {
	p := x.prov
	ctx := r.Context()

	// Streaming usage injection (decisions.md, Streaming).
	body := x.body
	if h.cfg.InjectUsage != nil && p.InjectStreamUsage && x.facts.stream && x.bodyRead &&
		r.Method == http.MethodPost && r.Header.Get("Content-Encoding") == "" && injectablePath(x.rest) {
		if out, injected, err := h.cfg.InjectUsage(body); err == nil && injected {
			body, x.injected = out, true
		}
	}

	u, err := upstreamURL(p, x.rest, r.URL.RawQuery)
	if err != nil { // checkRest already rejected these; keep the guard local
		h.deny(w, r, x, usage.DenialInvalidPath, msgInvalidPath, http.StatusBadRequest)
		return
	}
	x.upPath = u.RawPath
	if isUpgrade(r) {
		h.forwardUpgrade(w, r, x, u)
		return
	}
	out, err := http.NewRequestWithContext(ctx, r.Method, u.String(), nil)
	if err != nil {
		h.deny(w, r, x, usage.DenialInvalidPath, msgInvalidPath, http.StatusBadRequest)
		return
	}
	out.URL = u
	out.Header = outboundHeader(r.Header)
	switch {
	case x.bodyRead:
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.ContentLength = int64(len(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		if len(body) == 0 {
			out.Body = http.NoBody
		}
	case r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0:
		out.Body = countingReader{r.Body, h.cfg.Metrics}
		out.ContentLength = r.ContentLength
	default:
		out.Body = http.NoBody
	}
	if x.bodyRead && h.cfg.Metrics != nil {
		h.cfg.Metrics.reqBytes.Add(float64(len(body)))
	}

	x.upSent = h.now()
	res, err := h.cfg.Transport.RoundTrip(out)
	x.upHeaders = h.now()
	if err != nil {
		x.end = x.upHeaders
		if ctx.Err() != nil {
			x.outcome, x.status = usage.OutcomeCancelled, 0
			h.finish(r, x, 499)
			return
		}
		h.cfg.Logger.Warn("upstream fetch failed", "request_id", x.id, "provider", p.Name, "err", redactErr(err))
		x.outcome = usage.OutcomeError
		writeError(w, http.StatusBadGateway, msgUpstreamFailed)
		h.finish(r, x, http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	x.status = res.StatusCode
	x.firstByte = x.upHeaders
	if m := h.cfg.Metrics; m != nil {
		m.upstreamLat.WithLabelValues(p.Name).Observe(x.upHeaders.Sub(x.upSent).Seconds())
	}

	// Response headers, unchanged but for hop-by-hop and our request id.
	wh := w.Header()
	copyResponseHeader(wh, res.Header)
	wh.Set("X-ASO-Request-Id", x.id)
	stream := isStreaming(res)
	strip := x.injected && stream && isSSE(res)
	if strip {
		wh.Del("Content-Length")
	}
	if len(res.Trailer) > 0 {
		names := make([]string, 0, len(res.Trailer))
		for k := range res.Trailer {
			names = append(names, k)
		}
		wh["Trailer"] = []string{strings.Join(names, ", ")}
	}
	w.WriteHeader(res.StatusCode)
	rc := http.NewResponseController(w)
	if stream {
		_ = rc.Flush() // headers reach the client before the first chunk
		if m := h.cfg.Metrics; m != nil {
			m.inflightStream.Inc()
			defer m.inflightStream.Dec()
		}
	}
	if m := h.cfg.Metrics; m != nil {
		m.overhead.Observe((x.upSent.Sub(x.start) + h.now().Sub(x.upHeaders)).Seconds())
	}

	obs := h.newObserver(r, x, res)
	var client io.Writer = w
	var stripper io.WriteCloser
	if strip {
		stripper = h.cfg.StripUsage(x.prov.Name, w)
		client = stripper
	}

	// Relay. The client gets each chunk (and a flush) before the observer
	// sees it, so extraction never delays the client's bytes.
	pool := &bodyBufPool
	if stream {
		pool = &streamBufPool
	}
	bp := pool.Get().(*[]byte)
	defer pool.Put(bp)
	buf := *bp
	var cutErr error
	clientGone := false
	leftWhileReading := false // the client left while we waited for more
	for {
		n, rerr := res.Body.Read(buf)
		if n > 0 {
			x.respBytes += int64(n)
			_, werr := client.Write(buf[:n])
			if werr == nil && stream {
				werr = rc.Flush()
			}
			// Observed even when the client is gone: these bytes were read
			// from the provider (and billed), e.g. a final message_delta
			// whose client hung up as it arrived.
			obs.write(buf[:n])
			if werr != nil {
				clientGone = true
				break
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if ctx.Err() != nil {
				clientGone, leftWhileReading = true, true
			} else {
				cutErr = rerr
			}
			break
		}
	}
	if stripper != nil && !clientGone {
		_ = stripper.Close()
		_ = rc.Flush()
	}
	for k, vv := range res.Trailer {
		for _, v := range vv {
			wh.Add(http.TrailerPrefix+k, v)
		}
	}
	x.end = h.now()
	x.report = obs.finish()
	if m := h.cfg.Metrics; m != nil {
		m.respBytes.Add(float64(x.respBytes))
	}
	switch {
	case clientGone && leftWhileReading && x.report.Complete:
		// The client had the stream's end marker and closed before the
		// provider's end of body: nothing was cut short.
		x.outcome = usage.OutcomeCompleted
	case clientGone:
		// Only a client that left before the upstream body ended cancelled
		// anything; one that closes right after the last byte (SDKs close
		// on "data: [DONE]") got the whole response.
		x.outcome = usage.OutcomeCancelled
	case cutErr != nil || res.StatusCode >= 400:
		x.outcome = usage.OutcomeError
	default:
		x.outcome = usage.OutcomeCompleted
	}
	status := res.StatusCode
	if clientGone {
		status = 499
	}
	h.finish(r, x, status)
	if cutErr != nil {
		// The upstream cut the stream after headers: cut the client's too, as
		// a direct connection would, instead of ending it cleanly.
		panic(http.ErrAbortHandler)
	}
}

// upstreamURL joins the provider base and the client's escaped path. The
// host always comes from the provider definition, never from the path.
func upstreamURL(p *provider.Provider, rest, rawQuery string) (*url.URL, error) {
	up := p.UpstreamPath(rest)
	dec, err := url.PathUnescape(up)
	if err != nil {
		return nil, err
	}
	u := *p.BaseURL
	u.Path, u.RawPath, u.RawQuery = dec, up, rawQuery
	return &u, nil
}

// injectablePath: only chat completions and legacy completions accept
// stream_options.
func injectablePath(rest string) bool {
	return strings.HasSuffix(rest, "/chat/completions") || strings.HasSuffix(rest, "/completions")
}

func isSSE(res *http.Response) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(res.Header.Get("Content-Type"))), "text/event-stream")
}

// isStreaming: SSE or a body of unknown length is flushed chunk by chunk
// (the stdlib ReverseProxy's rule).
func isStreaming(res *http.Response) bool {
	return isSSE(res) || res.ContentLength == -1
}

type countingReader struct {
	r io.ReadCloser
	m *Metrics
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.m != nil && n > 0 {
		c.m.reqBytes.Add(float64(n))
	}
	return n, err
}

func (c countingReader) Close() error { return c.r.Close() }

// redactErr keeps transport errors loggable without the request URL, whose
// query may hold a provider credential (?key=).
func redactErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}

// deny writes a proxy error and emits one denial event.
func (h *Handler) deny(w http.ResponseWriter, r *http.Request, x *exchange, typ, msg string, status int) {
	writeError(w, status, msg)
	if h.cfg.Metrics != nil {
		h.cfg.Metrics.denials.WithLabelValues(typ).Inc()
		h.cfg.Metrics.request(x.provName, status)
	}
	d := usage.Denial{
		RequestID: x.id, TS: x.start.UTC(), Type: typ, Reason: msg, HTTPStatus: status,
		Provider: x.provName, Path: x.rest, Dims: x.dims,
	}
	if x.key != nil {
		d.TenantID, d.APIKeyID = x.key.TenantID, x.key.ID
	}
	if h.cfg.Sink != nil {
		h.cfg.Sink.Denial(d)
	}
	if h.cfg.AccessLog {
		h.cfg.Logger.LogAttrs(context.Background(), slog.LevelInfo, "denied",
			slog.String("request_id", x.id), slog.String("provider", x.provName), slog.String("method", r.Method),
			slog.String("path", x.rest), slog.Int("status", status), slog.String("denial", typ),
			slog.Duration("duration", h.now().Sub(x.start)))
	}
}
