package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func post(t *testing.T, url, trace, body string, gz bool) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Compat-Trace", trace)
	req.Header.Set("Authorization", "Bearer sk-test")
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	} else {
		req.Header.Set("Accept-Encoding", "identity")
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // no transparent gunzip
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func logEntry(t *testing.T, base, trace string) entry {
	t.Helper()
	resp, err := http.Get(base + "/_compat/log?trace=" + url.QueryEscape(trace))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Entries []entry }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Entries) != 1 {
		t.Fatalf("trace %s: %d log entries, want 1", trace, len(out.Entries))
	}
	return out.Entries[0]
}

func TestOpenAIStreamUsageChunkOnlyWhenAsked(t *testing.T) {
	srv := httptest.NewServer((&server{}).routes())
	defer srv.Close()
	for _, tt := range []struct {
		name, body string
		wantUsage  bool
	}{
		{"without include_usage", `{"model":"gpt-4.1","stream":true}`, false},
		{"with include_usage", `{"model":"gpt-4.1","stream":true,"stream_options":{"include_usage":true}}`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			trace := "t." + strings.ReplaceAll(tt.name, " ", "_")
			resp, body := post(t, srv.URL+"/v1/chat/completions", trace, tt.body, true)
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
				t.Fatalf("content-type %q", ct)
			}
			events := strings.Split(strings.TrimSuffix(body, "\n\n"), "\n\n")
			if events[len(events)-1] != "data: [DONE]" {
				t.Fatalf("last event %q", events[len(events)-1])
			}
			var last map[string]any
			if err := json.Unmarshal([]byte(strings.TrimPrefix(events[len(events)-2], "data: ")), &last); err != nil {
				t.Fatal(err)
			}
			usage, hasUsage := last["usage"].(map[string]any)
			if hasUsage != tt.wantUsage {
				t.Fatalf("usage chunk present=%v, want %v (last chunk %v)", hasUsage, tt.wantUsage, last)
			}
			if strings.Contains(body, `"usage"`) != tt.wantUsage {
				t.Fatalf("a usage field appears=%v, want %v", !tt.wantUsage, tt.wantUsage)
			}
			e := logEntry(t, srv.URL, trace)
			if e.UsageReported != tt.wantUsage || e.Expect == nil {
				t.Fatalf("log entry %+v", e)
			}
			if hasUsage && int64(usage["prompt_tokens"].(float64)) != e.Expect.PromptTokens {
				t.Fatalf("chunk prompt_tokens %v, log %d", usage["prompt_tokens"], e.Expect.PromptTokens)
			}
		})
	}
}

func TestDeterministicAndGzip(t *testing.T) {
	srv := httptest.NewServer((&server{}).routes())
	defer srv.Close()
	r1, plain := post(t, srv.URL+"/v1/messages", "same#a", `{"model":"claude-sonnet-4-6","max_tokens":10}`, false)
	r2, zipped := post(t, srv.URL+"/v1/messages", "same#b", `{"model":"claude-sonnet-4-6","max_tokens":10}`, true)
	if r1.Header.Get("Content-Encoding") != "" || r2.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("content-encoding %q / %q", r1.Header.Get("Content-Encoding"), r2.Header.Get("Content-Encoding"))
	}
	if plain != zipped {
		t.Fatalf("same seed, different bodies:\n%s\n%s", plain, zipped)
	}
	var m struct {
		Usage struct {
			Input      int64 `json:"input_tokens"`
			CacheRead  int64 `json:"cache_read_input_tokens"`
			CacheWrite int64 `json:"cache_creation_input_tokens"`
		}
	}
	if err := json.Unmarshal([]byte(plain), &m); err != nil {
		t.Fatal(err)
	}
	e := logEntry(t, srv.URL, "same#a")
	if got := m.Usage.Input + m.Usage.CacheRead + m.Usage.CacheWrite; got != e.Expect.PromptTokens {
		t.Fatalf("Anthropic input total %d, log says prompt_tokens %d", got, e.Expect.PromptTokens)
	}
}

func TestGeminiStreamFraming(t *testing.T) {
	srv := httptest.NewServer((&server{}).routes())
	defer srv.Close()
	_, sse := post(t, srv.URL+"/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", "g", `{}`, false)
	if !strings.HasPrefix(sse, "data: {") || !strings.Contains(sse, "}\r\n\r\ndata: {") {
		t.Fatalf("alt=sse body not CRLF-framed SSE: %q", sse[:min(len(sse), 120)])
	}
	_, arr := post(t, srv.URL+"/v1beta/models/gemini-2.5-flash:streamGenerateContent", "g", `{}`, false)
	var chunks []map[string]any
	if err := json.Unmarshal([]byte(arr), &chunks); err != nil || len(chunks) != len(replyWords) {
		t.Fatalf("JSON-array stream: %v, %d chunks", err, len(chunks))
	}
	last := chunks[len(chunks)-1]["usageMetadata"].(map[string]any)
	p, c := last["promptTokenCount"].(float64), last["candidatesTokenCount"].(float64)
	th, _ := last["thoughtsTokenCount"].(float64)
	if last["totalTokenCount"].(float64) != p+c+th {
		t.Fatalf("totalTokenCount %v != %v+%v+%v", last["totalTokenCount"], p, c, th)
	}
	if !bytes.Contains([]byte(arr), []byte("},\r\n{")) {
		t.Fatal("array elements not separated the way the Gemini API does")
	}
}

func TestRateLimitBodies(t *testing.T) {
	srv := httptest.NewServer((&server{}).routes())
	defer srv.Close()
	for _, tt := range []struct{ path, want string }{
		{"/v1/chat/completions", `"code":"rate_limit_exceeded"`},
		{"/v1/messages", `"type":"rate_limit_error"`},
		{"/v1beta/models/gemini-2.5-flash:generateContent", `"status":"RESOURCE_EXHAUSTED"`},
	} {
		resp, body := post(t, srv.URL+tt.path, "x.error429#1", `{"model":"m"}`, false)
		if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %s", tt.path, resp.StatusCode, body)
		}
	}
}
