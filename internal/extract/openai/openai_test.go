package openai

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/spendops/spendops/internal/extract/extracttest"
	"github.com/spendops/spendops/internal/usage"
)

// fixture is one recorded-shape response in testdata/ and the request that
// produced it. The golden report lives in testdata/<file minus ext>.usage.json.
type fixture struct {
	file     string
	provider string
	path     string
	method   string
	body     string // request body, when the extractor reads it
	stream   bool
}

var fixtures = []fixture{
	{file: "openai_chat_reasoning.json", provider: "openai", path: "/v1/chat/completions"},
	{file: "openai_chat_cached.json", provider: "openai", path: "/v1/chat/completions"},
	{file: "openai_chat_audio.json", provider: "openai", path: "/v1/chat/completions"},
	{file: "openai_chat_stream_usage.sse", provider: "openai", path: "/v1/chat/completions", stream: true},
	{file: "openai_chat_stream_nousage.sse", provider: "openai", path: "/v1/chat/completions", stream: true},
	{file: "openai_chat_stream_cut.sse", provider: "openai", path: "/v1/chat/completions", stream: true},
	{file: "openai_chat_stream_finish_usage.sse", provider: "openai", path: "/v1/chat/completions", stream: true},
	{file: "openai_completions.json", provider: "openai", path: "/v1/completions"},
	{file: "openai_completions_stream.sse", provider: "openai", path: "/v1/completions", stream: true},
	{file: "openai_responses_websearch.json", provider: "openai", path: "/v1/responses"},
	{file: "openai_responses_cache_write.json", provider: "openai", path: "/v1/responses"},
	{file: "openai_responses_stream_completed.sse", provider: "openai", path: "/v1/responses", stream: true},
	{file: "openai_responses_stream_websearch.sse", provider: "openai", path: "/v1/responses", stream: true},
	{file: "openai_responses_stream_incomplete.sse", provider: "openai", path: "/v1/responses", stream: true},
	{file: "openai_responses_stream_failed.sse", provider: "openai", path: "/v1/responses", stream: true},
	{file: "openai_embeddings.json", provider: "openai", path: "/v1/embeddings"},
	{file: "openai_images_gptimage.json", provider: "openai", path: "/v1/images/generations",
		body: `{"model":"gpt-image-1","prompt":"a red fox","size":"1024x1024","quality":"medium"}`},
	{file: "openai_images_dalle3.json", provider: "openai", path: "/v1/images/generations",
		body: `{"model":"dall-e-3","prompt":"a red fox asleep in snow","n":1,"size":"1792x1024","quality":"hd"}`},
	{file: "openai_images_stream.sse", provider: "openai", path: "/v1/images/generations", stream: true,
		body: `{"model":"gpt-image-1","prompt":"a lighthouse","stream":true,"partial_images":1,"size":"1024x1536","quality":"high"}`},
	{file: "openai_transcription_tokens.json", provider: "openai", path: "/v1/audio/transcriptions"},
	{file: "openai_transcription_duration.json", provider: "openai", path: "/v1/audio/transcriptions"},
	{file: "openai_transcription_verbose.json", provider: "openai", path: "/v1/audio/transcriptions"},
	{file: "openai_transcription_stream.sse", provider: "openai", path: "/v1/audio/transcriptions", stream: true},
	{file: "openai_translation.json", provider: "openai", path: "/v1/audio/translations"},
	{file: "openai_speech.bin", provider: "openai", path: "/v1/audio/speech",
		body: `{"model":"tts-1","voice":"alloy","input":"Grüße aus Köln — see you at 3 pm! 👋"}`},
	{file: "openai_speech_stream.sse", provider: "openai", path: "/v1/audio/speech", stream: true,
		body: `{"model":"gpt-4o-mini-tts","voice":"coral","input":"Today is a wonderful day.","stream_format":"sse"}`},
	{file: "openai_moderations.json", provider: "openai", path: "/v1/moderations"},
	{file: "openai_models.json", provider: "openai", path: "/v1/models", method: "GET"},
	{file: "groq_stream.sse", provider: "groq", path: "/openai/v1/chat/completions", stream: true},
	{file: "deepseek_cache.json", provider: "deepseek", path: "/chat/completions"},
	{file: "deepseek_stream.sse", provider: "deepseek", path: "/chat/completions", stream: true},
	{file: "xai_reasoning.json", provider: "xai", path: "/v1/chat/completions"},
	{file: "xai_stream.sse", provider: "xai", path: "/v1/chat/completions", stream: true},
	{file: "perplexity_search.json", provider: "perplexity", path: "/chat/completions"},
	{file: "perplexity_deep_research.json", provider: "perplexity", path: "/chat/completions"},
	{file: "openrouter_stream.sse", provider: "openrouter", path: "/api/v1/chat/completions", stream: true},
	{file: "openrouter_byok.json", provider: "openrouter", path: "/api/v1/chat/completions"},
	{file: "deepinfra_estimated_cost.json", provider: "deepinfra", path: "/v1/openai/chat/completions"},
	{file: "zai_cache.json", provider: "zai", path: "/api/paas/v4/chat/completions"},
	{file: "fireworks_stream.sse", provider: "fireworks", path: "/inference/v1/chat/completions", stream: true},
	{file: "mistral_stream.sse", provider: "mistral", path: "/v1/chat/completions", stream: true},
	{file: "mistral_num_cached.json", provider: "mistral", path: "/v1/chat/completions"},
	{file: "cerebras_reasoning.json", provider: "cerebras", path: "/v1/chat/completions"},
	{file: "nebius_chat.json", provider: "nebius", path: "/v1/chat/completions"},
	{file: "novita_chat.json", provider: "novita", path: "/v3/openai/chat/completions"},
	{file: "gemini_openai_compat.json", provider: "google", path: "/v1beta/openai/chat/completions"},
	{file: "anthropic_openai_compat.json", provider: "anthropic", path: "/v1/chat/completions"},
}

func (f fixture) request() usage.Request {
	method := f.method
	if method == "" {
		method = "POST"
	}
	ct := "application/json"
	switch filepath.Ext(f.file) {
	case ".sse":
		ct = "text/event-stream; charset=utf-8"
	case ".bin":
		ct = "audio/mpeg"
	}
	var body []byte
	if f.body != "" {
		body = []byte(f.body)
	}
	return usage.Request{Provider: f.provider, Method: method, Path: f.path, Stream: f.stream,
		RequestBody: body, StatusCode: 200, ContentType: ct}
}

func (f fixture) read(t testing.TB) []byte {
	t.Helper()
	return extracttest.ReadTestdata(t, f.file)
}

// extract feeds body to a fresh extractor in the given pieces.
func extract(req usage.Request, pieces ...[]byte) usage.Report {
	return extracttest.Run(New, req, pieces...)
}

func TestGolden(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.file, func(t *testing.T) {
			got := extracttest.Canon(t, extract(f.request(), f.read(t)))
			extracttest.Golden(t, f.file, []byte(got))
		})
	}
}

// Every fixture, split at every byte boundary, and cut into random pieces
// with many seeds, gives the same report as in one piece: no event, line
// ending or JSON token may depend on how TCP delivered it.
func TestSplitAnywhere(t *testing.T) {
	for _, f := range fixtures {
		body := f.read(t)
		req := f.request()
		report := func(pieces ...[]byte) string { return extracttest.Compact(extract(req, pieces...)) }
		want := report(body)
		// Every boundary of the SSE fixtures' framing-heavy part; big
		// bodies (base64 images, embedding vectors) get 200 evenly spaced
		// boundaries, since their bulk is one long token.
		step := 1
		if len(body) > 2500 {
			step = len(body) / 200
		}
		extracttest.EverySplit(t, f.file, body, step, want, report)
		extracttest.FeedChunked(t, f.file, body, 10, want, report)
	}
}

// SSE allows CRLF and CR line endings; the report must not change.
func TestLineEndings(t *testing.T) {
	for _, f := range fixtures {
		if filepath.Ext(f.file) != ".sse" {
			continue
		}
		body := f.read(t)
		req := f.request()
		report := func(pieces ...[]byte) string { return extracttest.Compact(extract(req, pieces...)) }
		want := report(body)
		for _, nl := range []string{"\r\n", "\r"} {
			alt := bytes.ReplaceAll(body, []byte("\n"), []byte(nl))
			extracttest.EverySplit(t, fmt.Sprintf("%s with %q", f.file, nl), alt, 1+len(alt)/200, want, report)
		}
	}
}
