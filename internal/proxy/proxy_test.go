package proxy

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spendops/spendops/internal/extract"
	"github.com/spendops/spendops/internal/keys"
	"github.com/spendops/spendops/internal/provider"
	"github.com/spendops/spendops/internal/usage"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// Requests through every route arrive at the upstream with the exact
// upstream path and query.
func TestRoutesEndToEnd(t *testing.T) {
	var got atomic.Value
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.RequestURI)
		w.WriteHeader(204)
	}))
	tests := []struct{ path, want string }{
		{"/v1/openai/v1/chat/completions", "/v1/chat/completions"},
		{"/v1/anthropic/v1/messages", "/v1/messages"},
		{"/v1/google/v1beta/models/gemini-2.0-flash:generateContent?alt=sse", "/v1beta/models/gemini-2.0-flash:generateContent?alt=sse"},
		{"/v1/google-ai-studio/v1beta/openai/chat/completions", "/v1beta/openai/chat/completions"},
		{"/v1/groq/v1/chat/completions", "/openai/v1/chat/completions"},
		{"/v1/deepinfra/v1/chat/completions", "/v1/openai/chat/completions"},
		{"/v1/novita/v1/chat/completions", "/v3/openai/chat/completions"},
		{"/v1/fireworks/v1/chat/completions", "/inference/v1/chat/completions"},
		{"/v1/openrouter/v1/chat/completions", "/api/v1/chat/completions"},
		{"/v1/zai/chat/completions", "/api/paas/v4/chat/completions"},
		{"/v1/openai/v1/files/a%20b?x=%2F&y=1", "/v1/files/a%20b?x=%2F&y=1"},
	}
	for _, tt := range tests {
		res, err := http.DefaultClient.Do(h.request(t, "POST", tt.path, []byte(`{}`), nil))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 204 || got.Load() != tt.want {
			t.Errorf("%s: status %d, upstream got %v, want %s", tt.path, res.StatusCode, got.Load(), tt.want)
		}
	}
}

func TestHeadersBothDirections(t *testing.T) {
	var upHdr http.Header
	var upHost string
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upHdr, upHost = r.Header.Clone(), r.Host
		w.Header().Set("X-Provider-Thing", "p")
		w.Header()["X-Repeated"] = []string{"a", "b"}
		w.Header().Set("Openai-Processing-Ms", "12")
		w.Header().Set("Connection", "X-Hop-Resp")
		w.Header().Set("X-Hop-Resp", "must-go")
		w.Header().Set("Set-Cookie", "c=1")
		w.WriteHeader(200)
		_, _ = io.WriteString(w, "ok")
	}))
	req := h.request(t, "POST", "/v1/openai/v1/chat/completions", []byte(`{"model":"m"}`), map[string]string{
		"Authorization": "Bearer sk-secret", "x-api-key": "sk-ant", "x-goog-api-key": "g", "anthropic-version": "2023-06-01",
		"X-Custom-Thing": "c", "Content-Type": "application/json",
		"X-ASO-Dims": "team=a", "X-Aso-Other": "x", "CF-Connecting-IP": "1.2.3.4", "CF-Ray": "r", "CDN-Loop": "l",
		"True-Client-IP": "1.1.1.1", "X-Forwarded-For": "9.9.9.9", "X-Forwarded-Proto": "https", "X-Real-IP": "8.8.8.8",
		"Keep-Alive": "timeout=5", "Proxy-Authorization": "Basic x", "Connection": "X-Hop-Req", "X-Hop-Req": "must-go", "Te": "trailers",
	})
	req.Header["X-Repeated-Req"] = []string{"1", "2"}
	// The client sends no Accept-Encoding; neither may the proxy add one.
	res, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, k := range []string{"X-Aso-Api-Key", "X-Aso-Dims", "X-Aso-Other", "Cf-Connecting-Ip", "Cf-Ray", "Cdn-Loop", "True-Client-Ip",
		"X-Forwarded-For", "X-Forwarded-Proto", "X-Real-Ip", "Keep-Alive", "Proxy-Authorization", "X-Hop-Req", "Te"} {
		if v, ok := upHdr[k]; ok {
			t.Errorf("upstream got stripped header %s: %q", k, v)
		}
	}
	for k, want := range map[string][]string{
		"Authorization": {"Bearer sk-secret"}, "X-Api-Key": {"sk-ant"}, "X-Goog-Api-Key": {"g"}, "Anthropic-Version": {"2023-06-01"},
		"X-Custom-Thing": {"c"}, "Content-Type": {"application/json"}, "X-Repeated-Req": {"1", "2"},
	} {
		if got := upHdr[k]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("upstream header %s = %q, want %q", k, got, want)
		}
	}
	if _, ok := upHdr["Accept-Encoding"]; ok {
		t.Errorf("proxy added Accept-Encoding %q", upHdr["Accept-Encoding"])
	}
	if upHost != strings.TrimPrefix(h.upstream.URL, "http://") {
		t.Errorf("upstream Host = %q", upHost)
	}
	if got := res.Header.Get("X-Provider-Thing"); got != "p" {
		t.Errorf("response header lost: %q", got)
	}
	if got := res.Header.Values("X-Repeated"); fmt.Sprint(got) != "[a b]" {
		t.Errorf("repeated response header = %q", got)
	}
	if res.Header.Get("X-Hop-Resp") != "" {
		t.Error("hop-by-hop response header named in Connection was forwarded")
	}
	if res.Header.Get("Set-Cookie") != "c=1" || res.Header.Get("Openai-Processing-Ms") != "12" {
		t.Error("response headers not forwarded unchanged")
	}
	if !uuidRE.MatchString(res.Header.Get("X-ASO-Request-Id")) {
		t.Errorf("X-ASO-Request-Id = %q", res.Header.Get("X-ASO-Request-Id"))
	}
}

// Binary and gzip-encoded bodies arrive byte-identical both ways, with
// Content-Encoding untouched.
func TestBodiesByteExact(t *testing.T) {
	bin := make([]byte, 1<<20)
	rand.New(rand.NewSource(1)).Read(bin)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(bytes.Repeat([]byte(`{"usage":{"prompt_tokens":1}}`), 1000))
	_ = zw.Close()
	var upBody []byte
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upBody, _ = io.ReadAll(r.Body)
		if r.URL.Path == "/v1/gz" {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(gz.Bytes())
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(bin)
	}))
	for _, ct := range []string{"application/octet-stream", "application/json"} {
		req := h.request(t, "POST", "/v1/openai/v1/bin", bin, map[string]string{"Content-Type": ct})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !bytes.Equal(got, bin) || !bytes.Equal(upBody, bin) {
			t.Fatalf("%s: body changed (resp %d bytes, upstream got %d)", ct, len(got), len(upBody))
		}
	}
	tr := &http.Transport{DisableCompression: true}
	res, err := (&http.Client{Transport: tr}).Do(h.request(t, "GET", "/v1/openai/v1/gz", nil, map[string]string{"Accept-Encoding": "gzip"}))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(got, gz.Bytes()) {
		t.Fatalf("gzip body altered: encoding %q, %d bytes vs %d", res.Header.Get("Content-Encoding"), len(got), gz.Len())
	}
}

// heapWatch samples the heap while f runs and returns the peak growth.
func heapWatch(f func()) uint64 {
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapInuse > base.HeapInuse && m.HeapInuse-base.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse - base.HeapInuse)
			}
		}
	}()
	f()
	close(stop)
	<-done
	return peak.Load()
}

type patternReader struct{ n, left int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	for i := range b {
		b[i] = byte((p.n + int64(i)) % 251)
	}
	p.n += int64(len(b))
	p.left -= int64(len(b))
	return len(b), nil
}

// A 100 MiB response and a 200 MiB streamed upload pass byte-identical with
// flat proxy memory (the whole test process's heap growth stays far below
// the body size).
func TestLargeBodiesFlatMemory(t *testing.T) {
	const size = 100 << 20
	want := sha256.New()
	_, _ = io.Copy(want, &patternReader{left: size})
	var upSum []byte
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			s := sha256.New()
			_, _ = io.Copy(s, r.Body)
			upSum = s.Sum(nil)
			w.WriteHeader(200)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", fmt.Sprint(size))
		_, _ = io.Copy(w, &patternReader{left: size})
	}))
	var gotSum []byte
	peak := heapWatch(func() {
		res, err := http.DefaultClient.Do(h.request(t, "GET", "/v1/openai/v1/files/big/content", nil, nil))
		if err != nil {
			t.Error(err)
			return
		}
		s := sha256.New()
		_, _ = io.Copy(s, res.Body)
		res.Body.Close()
		gotSum = s.Sum(nil)
	})
	if !bytes.Equal(gotSum, want.Sum(nil)) {
		t.Fatal("100 MiB response altered")
	}
	if peak > 24<<20 {
		t.Fatalf("heap grew by %d MiB passing a 100 MiB response", peak>>20)
	}
	upload := int64(200 << 20)
	wantUp := sha256.New()
	_, _ = io.Copy(wantUp, &patternReader{left: upload})
	peak = heapWatch(func() {
		req := h.request(t, "POST", "/v1/openai/v1/audio/transcriptions", nil, map[string]string{"Content-Type": "multipart/form-data; boundary=x"})
		req.Body = io.NopCloser(&patternReader{left: upload})
		req.ContentLength = -1
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		res.Body.Close()
	})
	if !bytes.Equal(upSum, wantUp.Sum(nil)) {
		t.Fatal("200 MiB upload altered")
	}
	if peak > 24<<20 {
		t.Fatalf("heap grew by %d MiB passing a 200 MiB upload", peak>>20)
	}
}

// With an upstream that sleeps 200 ms between SSE events, each event reaches
// the client before the next one is sent.
func TestStreamingFlushesEachEvent(t *testing.T) {
	const n = 5
	var sent [n]atomic.Int64 // send time, unix ns; written by the upstream goroutine
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; i < n; i++ {
			if i > 0 {
				time.Sleep(200 * time.Millisecond)
			}
			sent[i].Store(time.Now().UnixNano())
			fmt.Fprintf(w, "data: {\"i\":%d}\n\n", i)
			w.(http.Flusher).Flush()
		}
	}))
	res, err := http.DefaultClient.Do(h.request(t, "POST", "/v1/openai/v1/chat/completions", []byte(`{"stream":true}`), map[string]string{"Content-Type": "application/json"}))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	for i := 0; i < n; i++ {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		got := time.Now()
		if want := fmt.Sprintf("data: {\"i\":%d}\n", i); line != want {
			t.Fatalf("line %d = %q, want %q", i, line, want)
		}
		_, _ = br.ReadString('\n')
		if i+1 < n && sent[i+1].Load() != 0 {
			t.Fatalf("event %d arrived at %v, after event %d was sent", i, got, i+1)
		}
		if lag := got.Sub(time.Unix(0, sent[i].Load())); lag > 100*time.Millisecond {
			t.Fatalf("event %d arrived %v after it was sent", i, lag)
		}
	}
}

// A client that disconnects mid-stream cancels the upstream request, and
// the request still yields exactly one event, outcome cancelled.
func TestClientDisconnectCancelsUpstream(t *testing.T) {
	cancelled := make(chan struct{})
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; ; i++ {
			fmt.Fprintf(w, "data: {\"choices\":[{\"delta\":{\"content\":\"tok%d \"}}]}\n\n", i)
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				close(cancelled)
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}))
	ctx, cancel := context.WithCancel(t.Context())
	req := h.request(t, "POST", "/v1/openai/v1/chat/completions", []byte(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hello there"}]}`), map[string]string{"Content-Type": "application/json"})
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = bufio.NewReader(res.Body).ReadString('\n')
	cancel()
	res.Body.Close()
	select {
	case <-cancelled:
	case <-time.After(3 * time.Second):
		t.Fatal("upstream request was not cancelled")
	}
	h.sink.waitEvents(t, 1)
	time.Sleep(50 * time.Millisecond) // a duplicate event would arrive now
	if ev, _ := h.sink.snapshot(); len(ev) != 1 || ev[0].Outcome != usage.OutcomeCancelled {
		t.Fatalf("events = %+v, want one cancelled", ev)
	}
	ev, _ := h.sink.snapshot()
	if ev[0].Prompt == 0 || ev[0].UsageSource != usage.SourceEstimate {
		t.Fatalf("cancelled stream not estimated: %+v", ev[0])
	}
}

// An upstream that dies after headers cuts the client's stream too (no
// clean end), and the event says error.
func TestUpstreamCutAfterHeaders(t *testing.T) {
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: {\"choices\":[{\"delta\":{\"content\":\"partial\"}}]}\n\n")
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	res, err := http.DefaultClient.Do(h.request(t, "POST", "/v1/openai/v1/chat/completions", []byte(`{"stream":true}`), map[string]string{"Content-Type": "application/json"}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(res.Body)
	res.Body.Close()
	if err == nil {
		t.Fatal("client saw a clean end of a cut stream")
	}
	ev := h.sink.waitEvents(t, 1)
	if ev[0].Outcome != usage.OutcomeError || ev[0].HTTPStatus != 200 {
		t.Fatalf("event = %+v", ev[0])
	}
}

type errorRow struct {
	name   string
	path   string
	key    string // "" = valid key, "-" = none
	status int
	body   string
	denial string
}

// Every row of the error table, exact status and body, with a request id.
func TestErrorTable(t *testing.T) {
	var hits atomic.Int64
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }), func(c *Config) {
		c.Policy = func(k *keys.Key, in PolicyInput) PolicyResult {
			switch in.Header.Get("X-Test-Deny") {
			case "provider":
				return PolicyResult{Denial: &Rejection{usage.DenialProviderBlocked, msgProviderBlocked, 403}}
			case "model":
				return PolicyResult{Denial: &Rejection{usage.DenialModelBlocked, msgModelBlocked, 403}}
			case "dims":
				return PolicyResult{Denial: &Rejection{usage.DenialDimensions, "Dimensions are required (X-ASO-Dims header)", 400}}
			}
			return PolicyResult{}
		}
	})
	inactiveID, inactive, _ := h.keys.Create(t.Context(), keys.CreateInput{Name: "old"})
	_ = h.keys.SetActive(t.Context(), inactiveID.ID, false, "test")
	_, wrongSecret, _ := keys.Generate()
	wrongSecret = h.key[:len(keys.Prefix)+16] + wrongSecret[len(keys.Prefix)+16:]
	waitFor(t, func() bool { _, err := h.cache.Authenticate(inactive); return err == keys.ErrInactive }, h.cache)

	rows := []errorRow{
		{"missing key", "/v1/openai/v1/models", "-", 401, `{"error":"AISpendOps: Missing X-ASO-API-Key"}`, usage.DenialMissingKey},
		{"bad format", "/v1/openai/v1/models", "sk-not-ours", 403, `{"error":"AISpendOps: Invalid X-ASO-API-Key"}`, usage.DenialInvalidKey},
		{"unknown id", "/v1/openai/v1/models", "aso_k_NOPE.abcdefghijklmnopqrstuvwxyz", 403, `{"error":"AISpendOps: Invalid X-ASO-API-Key"}`, usage.DenialInvalidKey},
		{"wrong secret", "/v1/openai/v1/models", wrongSecret, 403, `{"error":"AISpendOps: Invalid X-ASO-API-Key"}`, usage.DenialInvalidKey},
		{"inactive", "/v1/openai/v1/models", inactive, 403, `{"error":"AISpendOps: API key is inactive"}`, usage.DenialInactiveKey},
		{"provider blocked", "/v1/openai/v1/models#provider", "", 403, `{"error":"AISpendOps: Provider not allowed by API key policy"}`, usage.DenialProviderBlocked},
		{"model blocked", "/v1/openai/v1/models#model", "", 403, `{"error":"AISpendOps: Model not allowed by API key policy"}`, usage.DenialModelBlocked},
		{"dims", "/v1/openai/v1/models#dims", "", 400, `{"error":"AISpendOps: Dimensions are required (X-ASO-Dims header)"}`, usage.DenialDimensions},
		{"unknown provider", "/v1/nosuch/v1/models", "", 404, `{"error":"AISpendOps: Unknown provider"}`, usage.DenialUnknownProvider},
		{"no provider", "/v1/", "", 404, `{"error":"AISpendOps: Unknown provider"}`, usage.DenialUnknownProvider},
		{"escape", "/v1/openai/%2e%2e/admin", "", 400, `{"error":"AISpendOps: Invalid path"}`, usage.DenialInvalidPath},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			path, deny, _ := strings.Cut(row.path, "#")
			req := h.request(t, "GET", path, nil, map[string]string{"X-Test-Deny": deny})
			switch row.key {
			case "-":
				req.Header.Del("X-ASO-API-Key")
			case "":
			default:
				req.Header.Set("X-ASO-API-Key", row.key)
			}
			checkError(t, req, row.status, row.body)
		})
	}
	if hits.Load() != 0 {
		t.Fatalf("%d rejected requests reached the upstream", hits.Load())
	}
	_, ds := h.sink.snapshot()
	if len(ds) != len(rows) {
		t.Fatalf("%d denial events for %d rejections", len(ds), len(rows))
	}
	for i, d := range ds {
		if d.Type != rows[i].denial || d.HTTPStatus != rows[i].status || !uuidRE.MatchString(d.RequestID) {
			t.Errorf("denial %d = %+v, want type %s", i, d, rows[i].denial)
		}
	}
	if ds[4].APIKeyID != inactiveID.ID || ds[0].APIKeyID != "" {
		t.Errorf("denial key ids: inactive %q, missing %q", ds[4].APIKeyID, ds[0].APIKeyID)
	}

	// 502 when the upstream is unreachable.
	h.upstream.Close()
	checkError(t, h.request(t, "POST", "/v1/openai/v1/chat/completions", []byte(`{"model":"gpt-4o"}`), map[string]string{"Content-Type": "application/json"}),
		502, `{"error":"AISpendOps: Upstream fetch failed"}`)
	ev := h.sink.waitEvents(t, 1)
	if ev[0].Outcome != usage.OutcomeError || ev[0].UsageSource != usage.SourceNone || ev[0].HTTPStatus != 0 {
		t.Fatalf("502 event = %+v", ev[0])
	}
}

func checkError(t *testing.T, req *http.Request, status int, body string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != status || strings.TrimSpace(string(b)) != body {
		t.Fatalf("got %d %s, want %d %s", res.StatusCode, b, status, body)
	}
	if !uuidRE.MatchString(res.Header.Get("X-ASO-Request-Id")) {
		t.Fatalf("X-ASO-Request-Id = %q", res.Header.Get("X-ASO-Request-Id"))
	}
	var v map[string]string
	if json.Unmarshal(b, &v) != nil || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("error body is not JSON: %s", b)
	}
}

// waitFor polls cond while the key cache runs, up to 2 s.
func waitFor(t *testing.T, cond func() bool, c *keys.Cache) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go c.Run(ctx)
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 2s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Path-escape attempts never reach an upstream.
func TestPathEscapesNeverReachUpstream(t *testing.T) {
	var hits atomic.Int64
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	raw := []string{"/v1/openai/../x", "/v1/openai/%2e%2e/x", "/v1/openai/%2E%2E%2Fx", "/v1/openai//evil.example/x",
		"/v1/openai/@evil.example/x", "/v1/openai/v1%2f..%2f..%2fx", "/v1/openai/v1%5c..", "/v1/openai/v1%00", "/v1/openai/v1/%252e%252e/x",
		"/v1/openai/v1/.%2e/x", "/v1/openai/./v1"}
	for _, p := range raw {
		status := rawRequest(t, h.front.URL, "GET "+p+" HTTP/1.1\r\nHost: x\r\nX-ASO-API-Key: "+h.key+"\r\nConnection: close\r\n\r\n")
		if status != 400 {
			t.Errorf("%s: status %d, want 400", p, status)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("%d escape attempts reached the upstream", hits.Load())
	}
}

// rawRequest sends bytes as-is (net/http clients would clean the path).
func rawRequest(t *testing.T, base, req string) int {
	t.Helper()
	conn, err := netDial(strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, req)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// Neither a provider credential nor prompt content reaches the logs, even at
// debug level, including for failed upstream calls with ?key= in the query.
func TestLogsHoldNoSecretsOrContent(t *testing.T) {
	const secret, marker = "sk-SECRET-planted-123", "PROMPT-MARKER-456"
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"choices":[{"message":{"content":"`+marker+`"}}],"usage":{"prompt_tokens":1}}`)
	}))
	body := []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"` + marker + `"}]}`)
	for _, path := range []string{"/v1/openai/v1/chat/completions", "/v1/google/v1beta/models/x:generateContent?key=" + secret} {
		res, err := http.DefaultClient.Do(h.request(t, "POST", path, body, map[string]string{"Authorization": "Bearer " + secret, "Content-Type": "application/json"}))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.ReadAll(res.Body)
		res.Body.Close()
	}
	h.upstream.Close()
	res, err := http.DefaultClient.Do(h.request(t, "POST", "/v1/google/v1beta/models/x:generateContent?key="+secret, body, map[string]string{"Authorization": "Bearer " + secret}))
	if err == nil {
		res.Body.Close()
	}
	h.sink.waitEvents(t, 3)
	logs := h.logs.String()
	if !strings.Contains(logs, `"msg":"request"`) {
		t.Fatal("no access log written")
	}
	for _, bad := range []string{secret, marker, h.key} {
		if strings.Contains(logs, bad) {
			t.Fatalf("logs contain %q:\n%s", bad, logs)
		}
	}
}

// Concurrent requests each produce exactly one event with its own id.
func TestOneEventPerRequest(t *testing.T) {
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{}`)
	}))
	const n = 200
	var wg sync.WaitGroup
	ids := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.DefaultClient.Do(h.request(t, "POST", "/v1/openai/v1/chat/completions", []byte(`{"model":"m"}`), map[string]string{"Content-Type": "application/json"}))
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.ReadAll(res.Body)
			res.Body.Close()
			ids <- res.Header.Get("X-ASO-Request-Id")
		}()
	}
	wg.Wait()
	close(ids)
	ev := h.sink.waitEvents(t, n)
	seen := map[string]int{}
	for _, e := range ev {
		seen[e.RequestID]++
	}
	for id := range ids {
		if seen[id] != 1 {
			t.Fatalf("request %s has %d events", id, seen[id])
		}
	}
	if len(ev) != n {
		t.Fatalf("%d events for %d requests", len(ev), n)
	}
}

func TestJSONBodyCap(t *testing.T) {
	var hits atomic.Int64
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }), func(c *Config) { c.MaxJSONBody = 1024 })
	checkError(t, h.request(t, "POST", "/v1/openai/v1/chat/completions", bytes.Repeat([]byte("x"), 1025), map[string]string{"Content-Type": "application/json"}),
		413, `{"error":"AISpendOps: Request body too large (max 1024 bytes)"}`)
	res, err := http.DefaultClient.Do(h.request(t, "POST", "/v1/openai/v1/chat/completions", bytes.Repeat([]byte("x"), 1024), map[string]string{"Content-Type": "application/json"}))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || hits.Load() != 1 {
		t.Fatalf("body at the cap: status %d, hits %d", res.StatusCode, hits.Load())
	}
}

// A WebSocket-style upgrade (OpenAI Realtime) is relayed both ways.
func TestUpgradeRelayed(t *testing.T) {
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" || r.Header.Get("X-ASO-API-Key") != "" || r.Header.Get("Authorization") != "Bearer sk" {
			w.WriteHeader(400)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
		line, _ := brw.ReadString('\n')
		_, _ = brw.WriteString("echo:" + line)
		_ = brw.Flush()
	}))
	conn, err := netDial(strings.TrimPrefix(h.front.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /v1/openai/v1/realtime?model=gpt-realtime HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nAuthorization: Bearer sk\r\nX-ASO-API-Key: "+h.key+"\r\n\r\n")
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 101 || !uuidRE.MatchString(res.Header.Get("X-ASO-Request-Id")) {
		t.Fatalf("status %d, request id %q", res.StatusCode, res.Header.Get("X-ASO-Request-Id"))
	}
	_, _ = io.WriteString(conn, "ping\n")
	if line, _ := br.ReadString('\n'); line != "echo:ping\n" {
		t.Fatalf("relayed %q", line)
	}
	conn.Close()
	if ev := h.sink.waitEvents(t, 1); ev[0].HTTPStatus != 101 || ev[0].Endpoint != "/v1/realtime" {
		t.Fatalf("event %+v", ev[0])
	}
}

// A client that closes the connection right after the last byte (as SDKs do
// on "data: [DONE]") got a complete response: the event says completed.
func TestCloseAfterLastByteIsCompleted(t *testing.T) {
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: {\"choices\":[]}\n\ndata: [DONE]\n\n")
	}))
	for i := 0; i < 20; i++ {
		conn, err := netDial(strings.TrimPrefix(h.front.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(conn, "POST /v1/openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 15\r\nX-ASO-API-Key: "+h.key+"\r\n\r\n{\"stream\":true}")
		br := bufio.NewReader(conn)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if line == "data: [DONE]\n" {
				break
			}
		}
		conn.Close()
	}
	for _, e := range h.sink.waitEvents(t, 20) {
		if e.Outcome != usage.OutcomeCompleted {
			t.Fatalf("outcome %s for a fully delivered stream", e.Outcome)
		}
	}
}

// Upstream connections use HTTP/2 where the provider offers it, and are
// pooled: many sequential requests share one connection.
func TestUpstreamHTTP2Pooled(t *testing.T) {
	var conns sync.Map
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conns.Store(r.RemoteAddr, r.Proto)
		_, _ = io.WriteString(w, "{}")
	}))
	up.EnableHTTP2 = true
	up.StartTLS()
	defer up.Close()
	h := newHarness(t, http.NotFoundHandler(), func(c *Config) {
		c.Transport = NewTransport(TransportConfig{TLSClientConfig: up.Client().Transport.(*http.Transport).TLSClientConfig})
		reg, err := provider.New(nil, map[string]string{"openai": up.URL})
		if err != nil {
			t.Fatal(err)
		}
		c.Registry = reg
	})
	for i := 0; i < 20; i++ {
		res, err := http.DefaultClient.Do(h.request(t, "GET", "/v1/openai/v1/models", nil, nil))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	n := 0
	conns.Range(func(k, v any) bool {
		n++
		if v != "HTTP/2.0" {
			t.Errorf("upstream saw %v", v)
		}
		return true
	})
	if n != 1 {
		t.Fatalf("%d upstream connections for 20 sequential requests", n)
	}
}

// A client that leaves after "data: [DONE]" while the provider still holds
// the connection open got the whole stream: completed, not cancelled.
func TestLeaveAfterDoneWhileUpstreamLingers(t *testing.T) {
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\ndata: [DONE]\n\n")
		w.(http.Flusher).Flush()
		select { // linger before ending the body
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}), func(c *Config) { c.Extractors = extract.New })
	conn, err := netDial(strings.TrimPrefix(h.front.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(conn, "POST /v1/openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 15\r\nX-ASO-API-Key: "+h.key+"\r\n\r\n{\"stream\":true}")
	br := bufio.NewReader(conn)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "data: [DONE]\n" {
			break
		}
	}
	conn.Close()
	ev := h.sink.waitEvents(t, 1)
	if ev[0].Outcome != usage.OutcomeCompleted || ev[0].UsageSource != usage.SourceProvider {
		t.Fatalf("event %+v", ev[0])
	}
}
