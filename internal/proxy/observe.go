package proxy

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/spendops/spendops/internal/usage"
)

// observer feeds a copy of the response bytes (decompressed when needed) to
// the usage extractor. Its failures never reach the client.
type observer struct {
	ext usage.Extractor
	dst io.Writer // ext, or a decoder writing into ext
	dec io.WriteCloser
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
		req.Counter = h.cfg.Estimator.CounterFor(x.prov.Name, x.facts.model)
	}
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

// finish builds the usage event and hands it to the sink, then logs once.
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
	h.settleUsage(&e, x)
	if h.cfg.Sink != nil {
		h.cfg.Sink.Usage(e)
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
			slog.Duration("duration", x.end.Sub(x.start)), slog.Duration("upstream", x.upHeaders.Sub(x.upSent)),
			slog.String("usage_source", string(e.UsageSource)))
	}
}

// settleUsage decides usage_source and fills estimates where the provider
// reported nothing: a stream cut before its usage chunk, a client that left,
// a provider without stream usage. An estimate is never labelled provider.
func (h *Handler) settleUsage(e *usage.Event, x *exchange) {
	rep := x.report
	switch {
	case rep.Found:
		e.UsageSource = usage.SourceProvider
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
	outTok := rep.OutputTokensEstimate
	if outTok == 0 && rep.OutputChars > 0 {
		outTok = (rep.OutputChars + 3) / 4
	}
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
