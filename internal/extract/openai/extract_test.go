package openai

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spendops/spendops/internal/extract/extracttest"
	"github.com/spendops/spendops/internal/usage"
)

func chatReq(provider string) usage.Request {
	return usage.Request{Provider: provider, Method: "POST", Path: "/v1/chat/completions",
		Stream: true, StatusCode: 200, ContentType: "text/event-stream"}
}

// Peer bugs (research/peers.md section 5) turned into rows.
func TestPeerRegressions(t *testing.T) {
	// LiteLLM #36168: a terminal usage chunk shaped choices:[{index:0,
	// delta:{}}] lost cached_tokens, so the same request cost ~4x streamed.
	t.Run("usage on chunk with non-empty choices", func(t *testing.T) {
		s := `data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4.1","choices":[{"index":0,"delta":{"content":"ok"}}]}` + "\n\n" +
			`data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4.1","choices":[{"index":0,"delta":{}}],"usage":{"prompt_tokens":4000,"completion_tokens":2,"total_tokens":4002,"prompt_tokens_details":{"cached_tokens":3968}}}` + "\n\n" +
			"data: [DONE]\n\n"
		r := extract(chatReq("openai"), []byte(s))
		if !r.Found || r.Tokens.Prompt != 4000 || r.Tokens.CacheRead != 3968 || r.Tokens.Completion != 2 {
			t.Fatalf("got %+v", r.Tokens)
		}
	})
	// LiteLLM #6215, #9812 family: OpenAI cached tokens are inside
	// prompt_tokens; adding them again double-bills.
	t.Run("cached tokens not added to prompt", func(t *testing.T) {
		r := extract(fixtureByName(t, "openai_chat_cached.json"))
		if r.Tokens.Prompt != 2006 || r.Tokens.CacheRead != 1920 || r.Tokens.Total != 2306 {
			t.Fatalf("got %+v", r.Tokens)
		}
	})
	// A stream cut before its usage chunk: no usage, but the text seen
	// feeds an estimate.
	t.Run("stream cut before usage", func(t *testing.T) {
		r := extract(fixtureByName(t, "openai_chat_stream_cut.sse"))
		if r.Found || r.OutputChars == 0 || r.OutputTokensEstimate == 0 {
			t.Fatalf("got Found=%v chars=%d est=%d", r.Found, r.OutputChars, r.OutputTokensEstimate)
		}
	})
	// LiteLLM #16021: OpenRouter cost lost in streams.
	t.Run("openrouter cost in stream", func(t *testing.T) {
		r := extract(fixtureByName(t, "openrouter_stream.sse"))
		if r.ProviderCost == nil || r.ProviderCost.String() != "0.0160614" {
			t.Fatalf("got %v", r.ProviderCost)
		}
	})
	// Portkey #1259: Mistral's stream usage (on the last content chunk,
	// without opt-in) dropped.
	t.Run("mistral stream usage", func(t *testing.T) {
		r := extract(fixtureByName(t, "mistral_stream.sse"))
		if !r.Found || r.Tokens.Total != 63 {
			t.Fatalf("got %+v", r)
		}
	})
	// LiteLLM #17136: xAI usage on the second-to-last chunk, followed by an
	// empty-choices chunk without usage: the last non-null one counts.
	t.Run("xai usage before last chunk", func(t *testing.T) {
		r := extract(fixtureByName(t, "xai_stream.sse"))
		if !r.Found || r.Tokens.Completion != 334 || r.Tokens.Reasoning != 330 {
			t.Fatalf("got %+v", r.Tokens)
		}
	})
	// LiteLLM #14874: xAI cached tokens double counted. They are a subset
	// of prompt_tokens as everywhere in this dialect; the reported cost is
	// exact (37756000 ticks = $0.0037756).
	t.Run("xai cached subset and exact ticks", func(t *testing.T) {
		r := extract(fixtureByName(t, "xai_reasoning.json"))
		if r.Tokens.Prompt != 663 || r.Tokens.CacheRead != 512 || r.Tokens.Completion != 174 || r.Tokens.Total != 837 {
			t.Fatalf("got %+v", r.Tokens)
		}
		if r.ProviderCost == nil || r.ProviderCost.String() != "0.0037756" {
			t.Fatalf("cost %v", r.ProviderCost)
		}
	})
	// Costs come from the number text, never float64: 4.1400000000000003e-05
	// stays exactly that.
	t.Run("exact cost text", func(t *testing.T) {
		body := `{"id":"gen-1","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2,"cost":4.1400000000000003e-05}}`
		req := chatReq("openrouter")
		req.ContentType = "application/json"
		r := extract(req, []byte(body))
		if r.ProviderCost == nil || r.ProviderCost.String() != "0.000041400000000000003" {
			t.Fatalf("cost %v", r.ProviderCost)
		}
	})
	// Usage is cumulative: a later usage object replaces an earlier one.
	t.Run("last usage wins, never summed", func(t *testing.T) {
		s := `data: {"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":1,"total_tokens":11}}` + "\n\n" +
			`data: {"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}` + "\n\n" +
			`data: {"choices":[],"usage":null}` + "\n\n"
		r := extract(chatReq("openai"), []byte(s))
		if r.Tokens.Prompt != 10 || r.Tokens.Completion != 5 {
			t.Fatalf("got %+v", r.Tokens)
		}
	})
}

func fixtureByName(t *testing.T, name string) (usage.Request, []byte) {
	t.Helper()
	for _, f := range fixtures {
		if f.file == name {
			return f.request(), f.read(t)
		}
	}
	t.Fatalf("no fixture %s", name)
	return usage.Request{}, nil
}

func TestClassify(t *testing.T) {
	tests := []struct {
		method, path string
		class        string
		notBilled    bool
	}{
		{"POST", "/v1/chat/completions", usage.EndpointChat, false},
		{"POST", "/openai/v1/chat/completions/", usage.EndpointChat, false},
		{"GET", "/v1/chat/completions/chatcmpl-1", usage.EndpointChat, true},
		{"GET", "/v1/chat/completions", usage.EndpointChat, true},
		{"POST", "/v1/completions", usage.EndpointCompletions, false},
		{"POST", "/v1/responses", usage.EndpointResponses, false},
		{"GET", "/v1/responses/resp_123", usage.EndpointResponses, true},
		{"POST", "/v1/responses/resp_123/cancel", usage.EndpointResponses, true},
		{"POST", "/v1/responses/input_tokens", usage.EndpointCountTokens, true},
		{"POST", "/v1/embeddings", usage.EndpointEmbeddings, false},
		{"POST", "/v1/images/generations", usage.EndpointImages, false},
		{"POST", "/v1/images/edits", usage.EndpointImages, false},
		{"POST", "/v1/images/variations", usage.EndpointImages, false},
		{"POST", "/v1/audio/transcriptions", usage.EndpointTranscription, false},
		{"POST", "/v1/audio/translations", usage.EndpointTranslation, false},
		{"POST", "/v1/audio/speech", usage.EndpointSpeech, false},
		{"POST", "/v1/moderations", usage.EndpointModerations, false},
		{"GET", "/v1/models", usage.EndpointModels, true},
		{"GET", "/v1/models/gpt-4o", usage.EndpointModels, true},
		{"POST", "/v1/batches", usage.EndpointBatch, true},
		{"GET", "/v1/batches/batch_abc", usage.EndpointBatch, true},
		{"POST", "/v1/tcp_warming", usage.EndpointOther, false},
		{"GET", "/v1/files", usage.EndpointOther, true},
		{"POST", "/v1beta/openai/chat/completions", usage.EndpointChat, false},
	}
	for _, tt := range tests {
		class, nb := Classify(tt.method, tt.path)
		if class != tt.class || nb != tt.notBilled {
			t.Errorf("Classify(%s %s) = %s,%v want %s,%v", tt.method, tt.path, class, nb, tt.class, tt.notBilled)
		}
	}
}

// The stream decision follows the response Content-Type: a streaming request
// answered with a JSON error body is read as JSON, and an SSE response is
// read as SSE even if the request did not say stream.
func TestStreamDetection(t *testing.T) {
	errBody := `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`
	req := chatReq("openai")
	req.ContentType, req.StatusCode = "application/json", 429
	if r := extract(req, []byte(errBody)); r.Found || r.EndpointClass != usage.EndpointChat {
		t.Fatalf("error body: %+v", r)
	}
	req, body := fixtureByName(t, "openai_chat_stream_usage.sse")
	req.Stream = false
	if r := extract(req, body); !r.Found {
		t.Fatal("SSE not detected from Content-Type")
	}
	req.ContentType = ""
	req.Stream = true
	if r := extract(req, body); !r.Found {
		t.Fatal("SSE not detected from the request without Content-Type")
	}
}

type wordCounter struct{}

func (wordCounter) Count(s string) int64 { return int64(len(strings.Fields(s))) + 1 }

func TestCounterUsed(t *testing.T) {
	req, body := fixtureByName(t, "openai_chat_stream_nousage.sse")
	req.Counter = wordCounter{}
	r := extract(req, body)
	// One Count call per non-empty delta: 10 deltas.
	if r.OutputTokensEstimate < 10 || r.OutputChars != 42 {
		t.Fatalf("est %d chars %d", r.OutputTokensEstimate, r.OutputChars)
	}
}

// A JSON body over the cap is given up gracefully, and the memory kept is
// bounded by the squeezing: a body of many long strings and vectors keeps
// only a little.
func TestJSONBounds(t *testing.T) {
	req := usage.Request{Provider: "openai", Method: "POST", Path: "/v1/embeddings", ContentType: "application/json"}
	e := New(req).(*extractor)
	_, _ = e.Write([]byte(`{"object":"list","data":[`))
	vec := "[" + strings.Repeat("-0.012345678,", 3071) + "0.5]"
	for i := 0; i < 400; i++ { // ~16 MB of embeddings, twice the cap
		sep := ","
		if i == 0 {
			sep = ""
		}
		_, _ = e.Write([]byte(fmt.Sprintf(`%s{"object":"embedding","index":%d,"embedding":%s}`, sep, i, vec)))
	}
	_, _ = e.Write([]byte(`],"model":"text-embedding-3-large","usage":{"prompt_tokens":16000,"total_tokens":16000}}`))
	if len(e.sq.out) > 200<<10 {
		t.Fatalf("kept %d bytes", len(e.sq.out))
	}
	if r := e.Report(); !r.Found || r.Tokens.Prompt != 16000 {
		t.Fatalf("got %+v", r)
	}

	// Strings, however long, are cut.
	e = New(usage.Request{Method: "POST", Path: "/v1/images/generations", ContentType: "application/json"}).(*extractor)
	_, _ = e.Write([]byte(`{"data":[{"b64_json":"` + strings.Repeat("QUJD", 5<<20) + `"}],"usage":{"input_tokens":1,"output_tokens":2,"total_tokens":3}}`))
	if r := e.Report(); !r.Found || r.ImageCount != 1 || r.Tokens.CompletionImage != 2 {
		t.Fatalf("got %+v", r)
	}

	// Over the cap even after squeezing: Found=false, no panic.
	e = New(usage.Request{Method: "POST", Path: "/v1/chat/completions", ContentType: "application/json"}).(*extractor)
	_, _ = e.Write([]byte(`{"choices":[`))
	for i := 0; i < MaxJSONBody/8; i++ {
		_, _ = e.Write([]byte(`{"a":1},`))
	}
	_, _ = e.Write([]byte(`{}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`))
	if r := e.Report(); r.Found {
		t.Fatal("usage reported past the cap")
	}
}

func TestSqueezerKeepsValidJSON(t *testing.T) {
	in := `{"a":"` + strings.Repeat(`x\"\u00e9\\`, 3000) + `","b":[1,-2.5e3,true,null,"s",{"c":[3,4]},[5]],"content":"héllo \u263a","n":-0}`
	sq := newSqueezer(1<<20, 64, nil)
	for i := 0; i < len(in); i += 5 {
		sq.Write([]byte(in[i:min(i+5, len(in))]))
	}
	var v map[string]any
	if err := json.Unmarshal(sq.out, &v); err != nil {
		t.Fatalf("%v: %s", err, sq.out)
	}
	if got := fmt.Sprint(v["b"]); got != "[true <nil> s map[c:[]] []]" {
		t.Errorf("b = %s", got)
	}
	if sq.chars != 7 {
		t.Errorf("chars = %d, want 7", sq.chars)
	}
}

func FuzzExtractor(f *testing.F) {
	for _, fx := range fixtures {
		b, err := os.ReadFile(filepath.Join("testdata", fx.file))
		if err == nil && len(b) < 16<<10 {
			f.Add(b, fx.provider, fx.path, filepath.Ext(fx.file) == ".sse", uint8(13))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, provider, path string, sse bool, step uint8) {
		req := usage.Request{Provider: provider, Method: "POST", Path: path, ContentType: "application/json",
			RequestBody: body}
		if sse {
			req.ContentType = "text/event-stream"
		}
		whole := extracttest.Compact(extract(req, body))
		pieces := extracttest.FixedChunks(body, int(step%32)+1)
		if got := extracttest.Compact(extract(req, pieces...)); got != whole {
			t.Fatalf("chunking changed the report:\n%s\n%s", got, whole)
		}
		r := extract(req, body)
		tk := r.Tokens
		if tk.Total != tk.Prompt+tk.Completion {
			t.Fatalf("total %d != %d + %d", tk.Total, tk.Prompt, tk.Completion)
		}
		if r.OutputChars < 0 || r.OutputTokensEstimate < 0 {
			t.Fatal("negative counts")
		}
	})
}
