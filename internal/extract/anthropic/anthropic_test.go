package anthropic

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/spendops/spendops/internal/extract/extracttest"
	"github.com/spendops/spendops/internal/usage"
)

// fixture is one recorded-shape response body and the request it answers.
type fixture struct {
	file        string
	method      string
	path        string
	contentType string
	stream      bool
}

var fixtures = []fixture{
	{"messages_plain.json", "POST", "/v1/messages", "application/json", false},
	{"messages_cache_read.json", "POST", "/v1/messages", "application/json", false},
	{"messages_cache_write_5m_1h.json", "POST", "/v1/messages", "application/json", false},
	{"messages_cache_write_nosplit.json", "POST", "/v1/messages", "application/json", false},
	{"messages_thinking.json", "POST", "/v1/messages", "application/json", false},
	{"messages_web_search.json", "POST", "/v1/messages", "application/json", false},
	{"error_overloaded.json", "POST", "/v1/messages", "application/json", false},
	{"count_tokens.json", "POST", "/v1/messages/count_tokens", "application/json", false},
	{"complete_legacy.json", "POST", "/v1/complete", "application/json", false},
	{"models_list.json", "GET", "/v1/models", "application/json", false},
	{"batch_create.json", "POST", "/v1/messages/batches", "application/json", false},
	{"stream_plain.sse", "POST", "/v1/messages", "text/event-stream; charset=utf-8", true},
	{"stream_server_tools.sse", "POST", "/v1/messages", "text/event-stream", true},
	{"stream_thinking.sse", "POST", "/v1/messages", "text/event-stream", true},
	{"stream_error.sse", "POST", "/v1/messages", "text/event-stream", true},
	{"stream_error_after_delta.sse", "POST", "/v1/messages", "text/event-stream", true},
	{"stream_cut.sse", "POST", "/v1/messages", "text/event-stream", true},
	{"stream_cache_both.sse", "POST", "/v1/messages", "text/event-stream", true},
	{"complete_legacy_stream.sse", "POST", "/v1/complete", "text/event-stream", true},
}

func (f fixture) request() usage.Request {
	return usage.Request{
		Provider: "anthropic", Dialect: "anthropic", Method: f.method, Path: f.path,
		Stream: f.stream, StatusCode: 200, ContentType: f.contentType,
	}
}

// run feeds body to a fresh extractor in the given chunks.
func run(req usage.Request, chunks ...[]byte) usage.Report {
	return extracttest.Run(New, req, chunks...)
}

func TestGolden(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.file, func(t *testing.T) {
			got := extracttest.Canon(t, run(f.request(), extracttest.ReadTestdata(t, f.file)))
			extracttest.Golden(t, f.file, []byte(got))
		})
	}
}

// The numbers the goldens hold, asserted independently so that a wrong
// golden written by -update cannot pass unnoticed.
func TestNormalisation(t *testing.T) {
	tests := []struct {
		file  string
		found bool
		tok   usage.Tokens
		web   int64
		tier  string
	}{
		{"messages_plain.json", true, usage.Tokens{Prompt: 14, Completion: 10, Total: 24}, 0, "standard"},
		// input_tokens excludes cache: 3 + 9511 read + 1956 written.
		{"messages_cache_read.json", true, usage.Tokens{Prompt: 11470, Completion: 44, Total: 11514, CacheRead: 9511, CacheWrite: 1956, CacheWrite5m: 1956}, 0, "standard"},
		{"messages_cache_write_5m_1h.json", true, usage.Tokens{Prompt: 6021, Completion: 7, Total: 6028, CacheWrite: 6000, CacheWrite5m: 2000, CacheWrite1h: 4000}, 0, "priority"},
		// No TTL split: the writes count as 5-minute writes.
		{"messages_cache_write_nosplit.json", true, usage.Tokens{Prompt: 1505, Completion: 3, Total: 1508, CacheWrite: 1500, CacheWrite5m: 1500}, 0, ""},
		{"messages_thinking.json", true, usage.Tokens{Prompt: 46, Completion: 122, Total: 168, Reasoning: 95}, 0, "standard"},
		{"messages_web_search.json", true, usage.Tokens{Prompt: 7514, Completion: 187, Total: 7701}, 2, "standard"},
		{"error_overloaded.json", false, usage.Tokens{}, 0, ""},
		{"count_tokens.json", false, usage.Tokens{}, 0, ""},
		{"stream_plain.sse", true, usage.Tokens{Prompt: 11470, Completion: 44, Total: 11514, CacheRead: 9511, CacheWrite: 1956, CacheWrite5m: 1956}, 0, "standard"},
		// Peer bug (PostHog 7.75.4): two cumulative message_deltas (68, then
		// 510 output tokens; input grew to 10682 after the search) must not
		// be summed: the latest wins.
		{"stream_server_tools.sse", true, usage.Tokens{Prompt: 10682, Completion: 510, Total: 11192}, 1, "standard"},
		{"stream_thinking.sse", true, usage.Tokens{Prompt: 85, Completion: 231, Total: 316, Reasoning: 190}, 0, "standard"},
		// Error before any message_delta: input side known, output provisional.
		{"stream_error.sse", true, usage.Tokens{Prompt: 5200, Completion: 1, Total: 5201, CacheRead: 4000}, 0, "standard"},
		{"stream_error_after_delta.sse", true, usage.Tokens{Prompt: 900, Completion: 57, Total: 957}, 1, "standard"},
		{"stream_cut.sse", true, usage.Tokens{Prompt: 812, Completion: 1, Total: 813, CacheWrite: 300, CacheWrite1h: 300}, 0, "standard"},
		// Peer bug (Bifrost #3451): cache creation reported by both
		// message_start and message_delta is counted once.
		{"stream_cache_both.sse", true, usage.Tokens{Prompt: 24010, Completion: 350, Total: 24360, CacheWrite: 24000, CacheWrite5m: 24000}, 0, "standard"},
		{"complete_legacy_stream.sse", false, usage.Tokens{}, 0, ""},
	}
	byFile := map[string]fixture{}
	for _, f := range fixtures {
		byFile[f.file] = f
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, ok := byFile[tt.file]
			if !ok {
				t.Fatalf("no fixture %s", tt.file)
			}
			r := run(f.request(), extracttest.ReadTestdata(t, tt.file))
			if r.Found != tt.found || r.Tokens != tt.tok || r.WebSearchRequests != tt.web || r.ServiceTier != tt.tier {
				t.Errorf("got found=%v %+v web=%d tier=%q\nwant found=%v %+v web=%d tier=%q",
					r.Found, r.Tokens, r.WebSearchRequests, r.ServiceTier, tt.found, tt.tok, tt.web, tt.tier)
			}
		})
	}
}

// A relay that zero-fills message_delta's input fields must not erase the
// input side message_start reported; real deltas still win.
func TestDeltaZeroFill(t *testing.T) {
	stream := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":120,\"cache_read_input_tokens\":900,\"output_tokens\":1}}}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":77}}\n\n"
	r := run(usage.Request{Method: "POST", Path: "/v1/messages"}, []byte(stream))
	if want := (usage.Tokens{Prompt: 1020, Completion: 77, Total: 1097, CacheRead: 900}); r.Tokens != want {
		t.Errorf("got %+v, want %+v", r.Tokens, want)
	}
}

func TestReportDetails(t *testing.T) {
	r := run(fixtures[0].request(), extracttest.ReadTestdata(t, "messages_plain.json"))
	if r.ResponseModel != "claude-sonnet-4-5-20250929" || r.GenerationID != "msg_01Aq9w938a90dw8q" || r.EndpointClass != usage.EndpointMessages {
		t.Errorf("model/id/class: %q %q %q", r.ResponseModel, r.GenerationID, r.EndpointClass)
	}
	if r.OutputChars != 31 || r.OutputTokensEstimate != 8 {
		t.Errorf("chars=%d estimate=%d, want 31 and 8", r.OutputChars, r.OutputTokensEstimate)
	}
	if !json.Valid(r.Raw) || !bytes.Contains(r.Raw, []byte(`"inference_geo":"not_available"`)) {
		t.Errorf("raw usage not kept as received: %s", r.Raw)
	}

	s := run(usage.Request{Method: "POST", Path: "/v1/messages", ContentType: "text/event-stream"}, extracttest.ReadTestdata(t, "stream_server_tools.sse"))
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(s.Raw, &raw); err != nil {
		t.Fatalf("stream raw: %v: %s", err, s.Raw)
	}
	if !bytes.Contains(raw["message_start"], []byte(`"input_tokens":2679`)) || !bytes.Contains(raw["message_delta"], []byte(`"output_tokens":510`)) {
		t.Errorf("stream raw should hold message_start and the latest message_delta usage: %s", s.Raw)
	}
	// Tool input JSON and text deltas are output that was streamed.
	if want := int64(len(`{"query": "claude shannon birth date"}`) + len("Claude Shannon was born on April 30, 1916, in Petoskey, Michigan.")); s.OutputChars != want {
		t.Errorf("stream chars = %d, want %d", s.OutputChars, want)
	}

	c := run(usage.Request{Method: "POST", Path: "/v1/messages/count_tokens", ContentType: "application/json"}, extracttest.ReadTestdata(t, "count_tokens.json"))
	if !c.NotBilled || c.EndpointClass != usage.EndpointCountTokens || string(c.Raw) != `{"input_tokens":2095}` {
		t.Errorf("count_tokens: notBilled=%v class=%q raw=%q", c.NotBilled, c.EndpointClass, c.Raw)
	}

	cut := run(usage.Request{Method: "POST", Path: "/v1/messages"}, extracttest.ReadTestdata(t, "stream_cut.sse"))
	if cut.OutputChars != int64(len("Once upon a time, in a land far away, there lived a")) {
		t.Errorf("cut stream: the partial last event must not count; chars=%d", cut.OutputChars)
	}
}

func TestEndpoints(t *testing.T) {
	tests := []struct {
		method, path string
		class        string
		notBilled    bool
	}{
		{"POST", "/v1/messages", usage.EndpointMessages, false},
		{"POST", "/v1/messages/", usage.EndpointMessages, false},
		{"POST", "/v1/messages/count_tokens", usage.EndpointCountTokens, true},
		{"POST", "/v1/messages/batches", usage.EndpointBatch, true},
		{"GET", "/v1/messages/batches/msgbatch_01/results", usage.EndpointBatch, true},
		{"POST", "/v1/messages/batches/msgbatch_01/cancel", usage.EndpointBatch, true},
		{"GET", "/v1/models", usage.EndpointModels, true},
		{"GET", "/v1/models/claude-sonnet-4-5", usage.EndpointModels, true},
		{"POST", "/v1/complete", usage.EndpointCompletions, false},
		{"POST", "/v1/chat/completions", usage.EndpointOther, false},
		{"POST", "/v1/files", usage.EndpointOther, false},
		{"GET", "/v1/files/file_011/content", usage.EndpointOther, true},
		{"POST", "/v1/messagesX", usage.EndpointOther, false},
	}
	for _, tt := range tests {
		r := run(usage.Request{Method: tt.method, Path: tt.path}, []byte(`{"usage":{"input_tokens":5,"output_tokens":5}}`))
		if r.EndpointClass != tt.class || r.NotBilled != tt.notBilled {
			t.Errorf("%s %s: class=%q notBilled=%v, want %q %v", tt.method, tt.path, r.EndpointClass, r.NotBilled, tt.class, tt.notBilled)
		}
		if r.Found != (tt.class == usage.EndpointMessages) {
			t.Errorf("%s %s: Found=%v", tt.method, tt.path, r.Found)
		}
	}
}

// Every streaming fixture, split at every byte boundary and in random
// chunks, must give the same Report as in one piece.
func TestChunkingInvariance(t *testing.T) {
	for _, f := range fixtures {
		body := extracttest.ReadTestdata(t, f.file)
		report := func(chunks ...[]byte) string { return extracttest.Canon(t, run(f.request(), chunks...)) }
		want := report(body)
		extracttest.EverySplit(t, f.file, body, 1, want, report)
		extracttest.FeedChunked(t, f.file, body, 20, want, report)
	}
}

// Without a Content-Type the first byte decides: '{' is JSON, else SSE.
func TestSniff(t *testing.T) {
	for _, f := range []string{"messages_cache_read.json", "stream_plain.sse"} {
		with := run(usage.Request{Method: "POST", Path: "/v1/messages", ContentType: map[bool]string{true: "text/event-stream", false: "application/json"}[strings.HasSuffix(f, ".sse")]}, extracttest.ReadTestdata(t, f))
		without := run(usage.Request{Method: "POST", Path: "/v1/messages"}, []byte("\r\n"), extracttest.ReadTestdata(t, f))
		if !reflect.DeepEqual(with, without) {
			t.Errorf("%s: sniffed report differs", f)
		}
	}
}

func TestBodyCap(t *testing.T) {
	body := extracttest.ReadTestdata(t, "messages_plain.json")
	pad := bytes.Repeat([]byte(" "), maxJSONBody)
	r := run(usage.Request{Method: "POST", Path: "/v1/messages", ContentType: "application/json"}, body[:len(body)-2], pad, body[len(body)-2:])
	if r.Found || r.Tokens != (usage.Tokens{}) {
		t.Errorf("over-cap body must give up: %+v", r)
	}
}

func TestCounter(t *testing.T) {
	req := usage.Request{Method: "POST", Path: "/v1/messages", ContentType: "text/event-stream", Counter: extracttest.WordCounter{}}
	r := run(req, extracttest.ReadTestdata(t, "stream_thinking.sse"))
	text := "Let me solve this step by step:\n\n1. First break down 27 * 453" + "\n2. 453 = 400 + 50 + 3" + "27 * 453 = 12,231"
	if want := int64(len(strings.Fields(text))); r.OutputTokensEstimate != want {
		t.Errorf("estimate = %d, want %d", r.OutputTokensEstimate, want)
	}
	// Long text is counted in batches cut at whitespace: the same count as
	// counting it whole.
	var sb strings.Builder
	sb.WriteString("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\n")
	words := 0
	for i := 0; i < 3000; i++ {
		sb.WriteString("data: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"lorem ipsum dolor \"}}\n\n")
		words += 3
	}
	r = run(req, []byte(sb.String()))
	if r.OutputTokensEstimate != int64(words) {
		t.Errorf("batched estimate = %d, want %d", r.OutputTokensEstimate, words)
	}
}

func BenchmarkStream(b *testing.B) {
	body := extracttest.ReadTestdata(b, "stream_server_tools.sse")
	req := usage.Request{Method: "POST", Path: "/v1/messages", ContentType: "text/event-stream"}
	extracttest.Bench(b, New, req, body)
}
