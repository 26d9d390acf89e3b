package proxy

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spendops/spendops/internal/usage"
)

// observer feeds a copy of the response bytes (decompressed when needed) to
// the usage extractor. Its failures never reach the client.
type observer struct {
	ext    usage.Extractor
	dst    io.Writer // ext, or a decoder writing into ext
	dec    io.WriteCloser
	sample *sampleCounter
}

// sampleCounter is the Counter extractors get during the relay. A BPE
// tokenizer costs about 0.1 ms per KiB, too much to run on every stream
// chunk when most streams end with provider-reported usage; so during the
// relay it only keeps the first sampleCap bytes of output text and returns
// the cheap chars/4 figure. Only when an estimate is needed does
// estimate() run the real tokenizer over the sample, scaled to the whole.
type sampleCounter struct {
	sample []byte
	runes  int64
}

const sampleCap = 16 << 10

func (c *sampleCounter) Count(text string) int64 {
	n := int64(utf8.RuneCountInString(text))
	c.runes += n
	if room := sampleCap - len(c.sample); room > 0 {
		if len(text) > room {
			text = text[:room]
		}
		c.sample = append(c.sample, text...)
	}
	return (n + 3) / 4
}

// estimate counts the sample with the model's tokenizer and scales the
// count to all the text seen.
func (c *sampleCounter) estimate(tok usage.Counter) int64 {
	if c.runes == 0 {
		return 0
	}
	sampleRunes := int64(utf8.RuneCount(c.sample))
	t := tok.Count(string(c.sample))
	if sampleRunes == 0 || sampleRunes >= c.runes {
		return t
	}
	return (t*c.runes + sampleRunes - 1) / sampleRunes
}

func (h *Handler) newObserver(r *http.Request, x *exchange, res *http.Response) *observer {
	o := &observer{}
	if h.cfg.Extractors == nil {
		return o
	}
	req := usage.Request{
		Provider: x.prov.Name, Dialect: x.prov.Dialect, Method: r.Method, Path: x.upPath, RawQuery: r.URL.RawQuery,
		Model: x.facts.model, Stream: x.facts.stream, RequestBody: x.body,
		StatusCode: res.StatusCode, ContentType: res.Header.Get("Content-Type"),
	}
	if h.cfg.Estimator != nil {
		o.sample = &sampleCounter{}
		req.Counter = o.sample
	}
	x.obs = o
	o.ext = h.cfg.Extractors(req)
	o.dst = o.ext
	if enc := strings.TrimSpace(res.Header.Get("Content-Encoding")); enc != "" && !strings.EqualFold(enc, "identity") {
		if h.cfg.Decoder == nil {
			o.dst = nil
			return o
		}
		dec, err := h.cfg.Decoder(enc, o.ext, maxObservedJSON)
		if err != nil {
			h.cfg.Logger.LogAttrs(context.Background(), slog.LevelDebug, "usage: cannot decode response copy",
				slog.String("request_id", x.id), slog.String("content_encoding", enc), slog.String("err", err.Error()))
			o.dst = nil
			return o
		}
		o.dec, o.dst = dec, dec
	}
	return o
}

func (o *observer) write(p []byte) {
	if o.dst != nil {
		_, _ = o.dst.Write(p)
	}
}

func (o *observer) finish() usage.Report {
	if o.dec != nil {
		_ = o.dec.Close()
	}
	if o.ext == nil {
		return usage.Report{}
	}
	return o.ext.Report()
}

// finish builds the usage event and logs the request. When the provider
// reported complete usage the event goes to the sink at once; when tokens
// must be estimated (tokenizer work), that runs on its own goroutine so it
// never holds up the end of the client's response. Wait waits for those.
func (h *Handler) finish(r *http.Request, x *exchange, clientStatus int) {
	rep := x.report
	e := usage.Event{
		RequestID: x.id, TS: x.start.UTC(), Env: h.cfg.Env,
		TenantID: x.key.TenantID, APIKeyID: x.key.ID, Provider: x.prov.Name,
		Method: r.Method, Endpoint: x.upPath, EndpointClass: rep.EndpointClass,
		Model: x.facts.model, ResponseModel: rep.ResponseModel, GenerationID: rep.GenerationID,
		ServiceTier: rep.ServiceTier, Stream: x.facts.stream, UsageInjected: x.injected,
		Outcome: x.outcome, HTTPStatus: x.status, Dims: x.dims,
		Tokens: rep.Tokens, WebSearchRequests: rep.WebSearchRequests,
		ImageCount: rep.ImageCount, ImageSize: rep.ImageSize, ImageQuality: rep.ImageQuality,
		AudioSeconds: rep.AudioSeconds, InputCharacters: rep.InputCharacters,
		ProviderCost: rep.ProviderCost, RawUsage: rep.Raw,
		CompletionBytes: x.respBytes, CompletionChars: rep.OutputChars,
		StartedAtMs: x.start.UnixMilli(), EndedAtMs: x.end.UnixMilli(),
	}
	if e.EndpointClass == "" {
		e.EndpointClass = usage.EndpointOther
	}
	if !x.firstByte.IsZero() {
		e.FirstByteAtMs = x.firstByte.UnixMilli()
	}
	if x.bodyRead {
		e.PromptChars = int64(utf8.RuneCount(x.body))
	}
	if rep.NotBilled {
		e.CostSource = usage.CostNotBilled
	}
	if h.cfg.Metrics != nil {
		h.cfg.Metrics.request(x.prov.Name, clientStatus)
	}
	if h.cfg.AccessLog {
		h.cfg.Logger.LogAttrs(context.Background(), slog.LevelInfo, "request",
			slog.String("request_id", x.id), slog.String("provider", x.prov.Name), slog.String("method", r.Method),
			slog.String("path", x.rest), slog.Int("status", clientStatus), slog.String("outcome", string(x.outcome)),
			slog.String("key_id", x.key.ID), slog.String("model", x.facts.model),
			slog.Bool("stream", x.facts.stream), slog.Int64("bytes", x.respBytes),
			slog.Duration("duration", x.end.Sub(x.start)), slog.Duration("upstream", x.upHeaders.Sub(x.upSent)))
	}
	if rep.Found && x.outcome == usage.OutcomeCompleted {
		e.UsageSource = usage.SourceProvider
		h.emit(e)
		return
	}
	h.pending.Add(1)
	go func() {
		defer h.pending.Add(-1)
		h.settleUsage(&e, x)
		h.emit(e)
	}()
}

func (h *Handler) emit(e usage.Event) {
	if h.cfg.Sink != nil {
		h.cfg.Sink.Usage(e)
	}
}

// Wait blocks until every event whose usage is being estimated has been
// handed to the sink, or ctx ends. Call it after the HTTP server drained and
// before the pipeline closes. (A counter, not a WaitGroup: after a drain
// timeout, handlers that are still running may start estimates while Wait
// runs; their events then reach the closed pipeline, which spools them.)
func (h *Handler) Wait(ctx context.Context) {
	for h.pending.Load() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// settleUsage decides usage_source and fills estimates where the provider
// reported nothing: a stream cut before its usage chunk, a client that left,
// a provider without stream usage. An estimate is never labelled provider.
// (Complete provider usage never gets here: finish records it directly.)
func (h *Handler) settleUsage(e *usage.Event, x *exchange) {
	rep := x.report
	switch {
	case rep.Found && x.outcome != usage.OutcomeCompleted:
		// The provider's counts were seen (e.g. Anthropic message_start) but
		// the stream ended before its final usage: when the visible output
		// proves more was generated than the provisional count, use it.
		e.UsageSource = usage.SourceProvider
		if out := h.estimateOutput(x); out > rep.Tokens.Completion {
			e.Completion = out
			e.Total = e.Prompt + e.Completion
			e.UsageSource = usage.SourcePartial
		}
		return
	case rep.NotBilled, x.status == 0 && x.respBytes == 0 && x.outcome == usage.OutcomeError:
		// Nothing was generated (or nothing reached the provider).
		e.UsageSource = usage.SourceNone
		return
	case x.status >= 400 && rep.OutputChars == 0:
		// Provider errors are not billed and carry no usage.
		e.UsageSource = usage.SourceNone
		return
	}
	promptTok, _ := h.estimatePrompt(x)
	outTok := h.estimateOutput(x)
	partial := rep.Tokens.Prompt > 0 || rep.Tokens.Completion > 0
	if rep.Tokens.Prompt == 0 {
		e.Prompt = promptTok
	}
	if outTok > e.Completion {
		e.Completion = outTok
	}
	e.Total = e.Prompt + e.Completion
	if partial {
		e.UsageSource = usage.SourcePartial
	} else {
		e.UsageSource = usage.SourceEstimate
	}
}

// estimateOutput estimates output tokens from the text the extractor saw.
func (h *Handler) estimateOutput(x *exchange) int64 {
	rep := x.report
	if x.obs != nil && x.obs.sample != nil && h.cfg.Estimator != nil {
		if t := x.obs.sample.estimate(h.cfg.Estimator.CounterFor(x.prov.Name, x.facts.model)); t > 0 {
			return t
		}
	}
	if rep.OutputTokensEstimate > 0 {
		return rep.OutputTokensEstimate
	}
	return (rep.OutputChars + 3) / 4
}

func (h *Handler) estimatePrompt(x *exchange) (tokens, chars int64) {
	if !x.bodyRead || len(x.body) == 0 {
		return 0, 0
	}
	if h.cfg.Estimator != nil {
		return h.cfg.Estimator.PromptTokens(x.prov.Name, x.facts.model, x.body)
	}
	c := int64(utf8.RuneCount(x.body))
	return (c + 3) / 4, c
}
