package mockupstream

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	r := httptest.NewRequest("POST", "/v1/chat/completions?chunks=7", nil)
	r.Header.Set("X-Mock-Delay-Ms", "3")
	tests := []struct {
		name  string
		model string
		req   *http.Request
		want  Config
	}{
		{"defaults", "gpt-4o", nil, Config{Size: "small", Chunks: 10, Model: "gpt-4o"}},
		{"model suffix", "gpt-4o@chunks=100,delay_ms=20,size=large", nil,
			Config{Size: "large", Chunks: 100, Delay: 20 * time.Millisecond, Model: "gpt-4o"}},
		{"query and header override suffix", "m@chunks=1,delay_ms=9,hold_ms=5", r,
			Config{Size: "small", Chunks: 7, Delay: 3 * time.Millisecond, Hold: 5 * time.Millisecond, Model: "m"}},
		{"bytes clamped", "@bytes=99999999999", nil, Config{Size: "small", Chunks: 10, Bytes: maxBytes, Model: "gpt-4o-mini"}},
		{"negative ignored", "m@chunks=-4,bytes=-1", nil, Config{Size: "small", Chunks: 0, Model: "m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseConfig(tt.model, tt.req); got != tt.want {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestNonStreamingBodies(t *testing.T) {
	srv := httptest.NewServer(New())
	defer srv.Close()
	for _, tc := range []struct {
		model   string
		minSize int
		maxSize int
	}{
		{"gpt-4o-mini", 200, 1024},
		{"gpt-4o-mini@size=large", 10 << 10, 32 << 10},
		{"gpt-4o-mini@bytes=3000000", 3000000, 3000000},
	} {
		resp := post(t, srv.URL, `{"model":"`+tc.model+`"}`)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(b) < tc.minSize || len(b) > tc.maxSize {
			t.Fatalf("%s: size %d not in [%d,%d]", tc.model, len(b), tc.minSize, tc.maxSize)
		}
		var v struct {
			Usage struct {
				TotalTokens int `json:"total_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal(b, &v); err != nil || v.Usage.TotalTokens == 0 {
			t.Fatalf("%s: not a chat completion with usage: %v", tc.model, err)
		}
	}
}

func TestStreamShapeAndStamps(t *testing.T) {
	srv := httptest.NewServer(New())
	defer srv.Close()
	for _, includeUsage := range []bool{true, false} {
		body := `{"model":"gpt-4o-mini@chunks=5,delay_ms=2","stream":true`
		if includeUsage {
			body += `,"stream_options":{"include_usage":true}`
		}
		before := time.Now().UnixNano()
		resp := post(t, srv.URL, body+"}")
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("content type %q", ct)
		}
		sc := bufio.NewScanner(resp.Body)
		var stamps []int64
		var usageChunks, done int
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "data: ") {
				continue
			}
			if ns, ok := ParseStamp([]byte(line)); ok {
				stamps = append(stamps, ns)
			}
			if strings.Contains(line, `"choices":[],"usage"`) {
				usageChunks++
			}
			if line == "data: [DONE]" {
				done++
			}
		}
		resp.Body.Close()
		if len(stamps) != 5 || done != 1 {
			t.Fatalf("stamps %d done %d", len(stamps), done)
		}
		wantUsage := 0
		if includeUsage {
			wantUsage = 1
		}
		if usageChunks != wantUsage {
			t.Fatalf("include_usage=%v: usage chunks %d", includeUsage, usageChunks)
		}
		for i, ns := range stamps {
			if ns < before || (i > 0 && ns-stamps[i-1] < int64(2*time.Millisecond)) {
				t.Fatalf("stamp %d = %d out of order or too close (before %d)", i, ns, before)
			}
		}
	}
}

func TestParseStamp(t *testing.T) {
	for _, tc := range []struct {
		line string
		ns   int64
		ok   bool
	}{
		{`data: {"choices":[{"delta":{"content":"t1700000000123456789"}}]}`, 1700000000123456789, true},
		{`data: {"choices":[{"delta":{"content":""}}]}`, 0, false},
		{`data: {"choices":[{"delta":{"content":"t12x"}}]}`, 0, false},
		{`data: {"choices":[{"delta":{"content":"t"}}]}`, 0, false},
		{`data: [DONE]`, 0, false},
	} {
		ns, ok := ParseStamp([]byte(tc.line))
		if ns != tc.ns || ok != tc.ok {
			t.Errorf("%s: got %d %v", tc.line, ns, ok)
		}
	}
}

func TestHoldEndsWhenClientLeaves(t *testing.T) {
	s := New()
	srv := httptest.NewServer(s)
	defer srv.Close()
	resp := post(t, srv.URL, `{"model":"m@chunks=2,hold_ms=60000","stream":true}`)
	br := bufio.NewReader(resp.Body)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := ParseStamp([]byte(line)); ok {
			break
		}
	}
	if s.OpenStreams() != 1 {
		t.Fatalf("open streams %d, want 1", s.OpenStreams())
	}
	resp.Body.Close()
	deadline := time.Now().Add(2 * time.Second)
	for s.OpenStreams() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if s.OpenStreams() != 0 {
		t.Fatal("held stream did not end after the client closed")
	}
}
