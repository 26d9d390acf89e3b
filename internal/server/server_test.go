package server

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/spendops/spendops/internal/config"
)

const adminToken = "test-admin-token-0123456789"

type env struct {
	base string
	up   *httptest.Server
	stop func() error
	dir  string
}

// mockProvider answers like OpenAI (chat JSON and SSE, honouring
// stream_options.include_usage) and Anthropic (messages JSON).
func mockProvider() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct {
			Model         string `json:"model"`
			Stream        bool   `json:"stream"`
			StreamOptions *struct {
				IncludeUsage bool `json:"include_usage"`
			} `json:"stream_options"`
		}
		_ = json.Unmarshal(body, &req)
		switch {
		case r.Header.Get("X-Test-Gzip") != "":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			fmt.Fprintf(zw, `{"id":"chatcmpl-gz","object":"chat.completion","model":%q,"choices":[],"usage":{"prompt_tokens":70,"completion_tokens":30,"total_tokens":100}}`, req.Model)
			_ = zw.Close()
		case strings.HasSuffix(r.URL.Path, "/count_tokens"):
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"input_tokens":42}`)
		case req.Model == "cut-stream":
			// Dies after two content chunks, before any usage.
			w.Header().Set("Content-Type", "text/event-stream")
			for _, tok := range []string{"The answer", " is forty-two, as everyone knows."} {
				fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}]}\n\n", tok)
				w.(http.Flusher).Flush()
			}
			panic(http.ErrAbortHandler)
		case req.Model == "rate-limited":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(429)
			_, _ = io.WriteString(w, `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`)
		case strings.HasSuffix(r.URL.Path, "/messages"):
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id":"msg_1","type":"message","role":"assistant","model":%q,"content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn","usage":{"input_tokens":100,"cache_creation_input_tokens":200,"cache_read_input_tokens":300,"output_tokens":50}}`, req.Model)
		case req.Stream:
			// Like OpenAI: with include_usage every chunk carries
			// "usage":null and a usage-only chunk comes last.
			withUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
			nullUsage := ""
			if withUsage {
				nullUsage = `,"usage":null`
			}
			w.Header().Set("Content-Type", "text/event-stream")
			for _, tok := range []string{"Hel", "lo"} {
				fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-s\",\"object\":\"chat.completion.chunk\",\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}]%s}\n\n", req.Model, tok, nullUsage)
				w.(http.Flusher).Flush()
				time.Sleep(10 * time.Millisecond)
			}
			fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-s\",\"object\":\"chat.completion.chunk\",\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]%s}\n\n", req.Model, nullUsage)
			if withUsage {
				fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-s\",\"object\":\"chat.completion.chunk\",\"model\":%q,\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":2,\"total_tokens\":14}}\n\n", req.Model)
			}
			_, _ = io.WriteString(w, "data: [DONE]\n\n")
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id":"chatcmpl-1","object":"chat.completion","model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":400}}}`, req.Model)
		}
	})
}

func start(t *testing.T, dir string, up *httptest.Server, mutate ...func(*config.Config)) *env {
	t.Helper()
	cfg := config.Default()
	cfg.Addr, cfg.DataDir, cfg.AdminToken = "127.0.0.1:0", dir, adminToken
	cfg.Upstreams = map[string]string{"openai": up.URL, "anthropic": up.URL, "mistral": up.URL}
	cfg.Log.Access = new(bool)
	for _, m := range mutate {
		m(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	var once sync.Once
	var serr error
	stop := func() error { once.Do(func() { cancel(); serr = <-done }); return serr }
	t.Cleanup(func() { _ = stop() })
	return &env{base: "http://" + addr.String(), up: up, stop: stop, dir: dir}
}

func (e *env) admin(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func (e *env) createKey(t *testing.T, policy map[string]any) string {
	t.Helper()
	code, out := e.admin(t, "POST", "/api/v1/keys", map[string]any{"name": "e2e", "tenant": "acme", "policy": policy})
	if code != 201 {
		t.Fatalf("create key: %d %v", code, out)
	}
	return out["key"].(string)
}

func (e *env) proxy(t *testing.T, key, path, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-ASO-API-Key", key)
	req.Header.Set("Authorization", "Bearer sk-test")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b)
}

// event polls the events API until the request's event is queryable
// (interface.md: within 2 s of the response ending).
func (e *env) event(t *testing.T, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		code, out := e.admin(t, "GET", "/api/v1/events?request_id="+id, nil)
		if code != 200 {
			t.Fatalf("events API: %d %v", code, out)
		}
		if evs, _ := out["events"].([]any); len(evs) == 1 {
			return evs[0].(map[string]any)
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s not queryable within 2s", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestEndToEndUsageCostAndDims(t *testing.T) {
	up := httptest.NewServer(mockProvider())
	defer up.Close()
	e := start(t, t.TempDir(), up)
	key := e.createKey(t, nil)

	// Non-streaming: provider usage, exact cost, dims.
	res, _ := e.proxy(t, key, "/v1/openai/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`, "X-ASO-Dims", "team=search,env=prod")
	ev := e.event(t, res.Header.Get("X-ASO-Request-Id"))
	// gpt-4o-mini: $0.15/M input, $0.075/M cached, $0.60/M output:
	// 600*0.15e-6 + 400*0.075e-6 + 500*0.6e-6 = 0.00009 + 0.00003 + 0.0003
	want := map[string]any{"provider": "openai", "model": "gpt-4o-mini", "prompt_tokens": 1000.0, "completion_tokens": 500.0,
		"cache_read_tokens": 400.0, "usage_source": "provider", "outcome": "completed", "cost_source": "standard",
		"total_cost_usd": "0.00042", "tenant_id": "acme", "http_status": 200.0}
	for k, v := range want {
		if got := ev[k]; fmt.Sprint(got) != fmt.Sprint(v) && !(k == "total_cost_usd" && costEq(got, v)) {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	if d, _ := ev["dims"].(map[string]any); d["team"] != "search" || d["env"] != "prod" {
		t.Errorf("dims = %v", ev["dims"])
	}

	// Streaming without include_usage: injected upstream, stripped from the
	// client's stream, provider usage on the event.
	const streamBody = `{"model":"gpt-4o-mini","stream":true,"messages":[]}`
	res, body := e.proxy(t, key, "/v1/openai/v1/chat/completions", streamBody)
	dres, err := http.Post(up.URL+"/v1/chat/completions", "application/json", strings.NewReader(streamBody))
	if err != nil {
		t.Fatal(err)
	}
	direct, _ := io.ReadAll(dres.Body)
	dres.Body.Close()
	if body != string(direct) {
		t.Fatalf("client stream through SpendOps differs from the direct stream:\n%s\nwant\n%s", body, direct)
	}
	ev = e.event(t, res.Header.Get("X-ASO-Request-Id"))
	if ev["usage_source"] != "provider" || ev["prompt_tokens"] != 12.0 || ev["stream"] != true {
		t.Fatalf("streamed event = %v", ev)
	}
	// A client that asked for usage gets it untouched.
	_, body = e.proxy(t, key, "/v1/openai/v1/chat/completions", `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}}`)
	if !strings.Contains(body, `"choices":[],"usage"`) {
		t.Fatalf("client's own usage chunk removed:\n%s", body)
	}

	// A gzip-encoded response reaches the client compressed; the usage comes
	// from the proxy's decompressed copy.
	req, _ := http.NewRequest("POST", e.base+"/v1/openai/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini"}`))
	req.Header.Set("X-ASO-API-Key", key)
	req.Header.Set("X-Test-Gzip", "1")
	req.Header.Set("Accept-Encoding", "gzip")
	gres, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	gz, _ := io.ReadAll(gres.Body)
	gres.Body.Close()
	if gres.Header.Get("Content-Encoding") != "gzip" || len(gz) < 2 || gz[0] != 0x1f || gz[1] != 0x8b {
		t.Fatalf("client did not get the gzip bytes: %q %x", gres.Header.Get("Content-Encoding"), gz[:min(len(gz), 4)])
	}
	ev = e.event(t, gres.Header.Get("X-ASO-Request-Id"))
	if ev["usage_source"] != "provider" || ev["prompt_tokens"] != 70.0 || ev["completion_tokens"] != 30.0 {
		t.Fatalf("gzip event = %v", ev)
	}

	// Token counting is recorded but never billed.
	res, _ = e.proxy(t, key, "/v1/anthropic/v1/messages/count_tokens", `{"model":"claude-sonnet-4-20250514","messages":[]}`)
	ev = e.event(t, res.Header.Get("X-ASO-Request-Id"))
	if ev["cost_source"] != "not_billed" || !costEq(ev["total_cost_usd"], "0") || ev["endpoint_class"] != "count_tokens" {
		t.Fatalf("count_tokens event = %v", ev)
	}

	// Anthropic: cache buckets normalised, priced.
	res, _ = e.proxy(t, key, "/v1/anthropic/v1/messages", `{"model":"claude-sonnet-4-20250514","max_tokens":10,"messages":[]}`)
	ev = e.event(t, res.Header.Get("X-ASO-Request-Id"))
	if ev["prompt_tokens"] != 600.0 || ev["cache_write_tokens"] != 200.0 || ev["cache_read_tokens"] != 300.0 || ev["cost_source"] != "standard" {
		t.Fatalf("anthropic event = %v", ev)
	}
	// Sonnet 4: 100*3e-6 + 200*3.75e-6 + 300*0.3e-6 + 50*15e-6 = 0.0003+0.00075+0.00009+0.00075
	if !costEq(ev["total_cost_usd"], "0.00189") {
		t.Fatalf("anthropic cost = %v", ev["total_cost_usd"])
	}
}

func costEq(got, want any) bool {
	g, ok := got.(string)
	if !ok {
		return false
	}
	a, err1 := decimal.NewFromString(g)
	b, err2 := decimal.NewFromString(want.(string))
	return err1 == nil && err2 == nil && a.Equal(b)
}

// An unpriced model's events show null cost and appear in the unpriced
// list; adding an override re-prices them and totals change.
func TestUnpricedThenOverride(t *testing.T) {
	up := httptest.NewServer(mockProvider())
	defer up.Close()
	e := start(t, t.TempDir(), up)
	key := e.createKey(t, nil)
	res, _ := e.proxy(t, key, "/v1/openai/v1/chat/completions", `{"model":"acme-secret-model-9","messages":[]}`)
	id := res.Header.Get("X-ASO-Request-Id")
	ev := e.event(t, id)
	if ev["total_cost_usd"] != nil || ev["cost_source"] != "none" || ev["pricing_matched"] != false {
		t.Fatalf("unpriced event = %v", ev)
	}
	code, out := e.admin(t, "GET", "/api/v1/pricing/unpriced", nil)
	if code != 200 || !strings.Contains(fmt.Sprint(out), "acme-secret-model-9") {
		t.Fatalf("unpriced list: %d %v", code, out)
	}
	code, out = e.admin(t, "POST", "/api/v1/pricing/overrides", map[string]any{
		"tenant_id": "acme", "provider": "openai", "model": "acme-secret-model-9", "rates": map[string]string{"input": "2", "output": "8"}})
	if code/100 != 2 {
		t.Fatalf("add override: %d %v", code, out)
	}
	ev = e.event(t, id)
	// 1000*2e-6 + 500*8e-6 = 0.002 + 0.004 (cached tokens at the input rate when no cache price is set)
	if ev["cost_source"] != "custom" || !costEq(ev["total_cost_usd"], "0.006") {
		t.Fatalf("after override: %v", ev)
	}
}

// Policy denials are enforced and recorded as denial events.
func TestEndToEndPolicyDenials(t *testing.T) {
	up := httptest.NewServer(mockProvider())
	defer up.Close()
	e := start(t, t.TempDir(), up)
	key := e.createKey(t, map[string]any{"providers": []string{"openai"}, "models": []string{"openai:gpt-4*"},
		"dims": map[string]any{"required": true}})
	for _, c := range []struct {
		path, body, dims string
		status           int
		msg, typ         string
	}{
		{"/v1/anthropic/v1/messages", `{"model":"claude"}`, "team=a", 403, "Provider not allowed by API key policy", "provider_blocked"},
		{"/v1/openai/v1/chat/completions", `{"model":"gpt-4.1"}`, "", 400, "Dimensions are required (X-ASO-Dims header)", "dimension_validation"},
		{"/v1/openai/v1/chat/completions", `{"model":"gpt-5"}`, "team=a", 403, "Model not allowed by API key policy", "model_blocked"},
		{"/v1/openai/v1/chat/completions", `{"model":"gpt-4.1"}`, "department=x", 400, `Dimension key "department" not allowed`, "dimension_validation"},
	} {
		res, body := e.proxy(t, key, c.path, c.body, "X-ASO-Dims", c.dims)
		var eb struct{ Error string }
		_ = json.Unmarshal([]byte(body), &eb)
		if res.StatusCode != c.status || eb.Error != "AISpendOps: "+c.msg {
			t.Errorf("%s %s: %d %s", c.path, c.body, res.StatusCode, body)
			continue
		}
		id := res.Header.Get("X-ASO-Request-Id")
		var d map[string]any
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			_, out := e.admin(t, "GET", "/api/v1/denials?request_id="+id, nil)
			if ds, _ := out["denials"].([]any); len(ds) == 1 {
				d = ds[0].(map[string]any)
				break
			}
		}
		if d == nil || d["type"] != c.typ || d["http_status"] != float64(c.status) || d["tenant_id"] != "acme" {
			t.Errorf("denial for %s = %v", c.body, d)
		}
		_, out := e.admin(t, "GET", "/api/v1/events?request_id="+id, nil)
		if evs, _ := out["events"].([]any); len(evs) != 0 {
			t.Errorf("denied request has a usage event: %v", evs)
		}
	}
	// A non-JSON Content-Type carrying JSON is still inspected end to end.
	if res, body := e.proxy(t, key, "/v1/openai/v1/chat/completions", `{"model":"gpt-5"}`, "X-ASO-Dims", "team=a", "Content-Type", "text/plain"); res.StatusCode != 403 {
		t.Fatalf("model hidden behind text/plain: %d %s", res.StatusCode, body)
	}
	res, _ := e.proxy(t, key, "/v1/openai/v1/chat/completions", `{"model":"gpt-4.1"}`, "X-ASO-Dims", "team=a")
	if res.StatusCode != 200 {
		t.Fatalf("allowed request: %d", res.StatusCode)
	}
	id := res.Header.Get("X-ASO-Request-Id")
	if ev := e.event(t, id); ev["dims"].(map[string]any)["team"] != "a" {
		t.Fatalf("allowed request event = %v", ev)
	}
	if _, out := e.admin(t, "GET", "/api/v1/denials?request_id="+id, nil); len(out["denials"].([]any)) != 0 {
		t.Fatalf("allowed request has a denial: %v", out)
	}
}

// A stream cut before its usage chunk is estimated and priced, never $0
// (peers.md section 5: streamed requests recorded at $0).
func TestCutStreamEstimatedNotZero(t *testing.T) {
	up := httptest.NewServer(mockProvider())
	defer up.Close()
	e := start(t, t.TempDir(), up)
	key := e.createKey(t, nil)
	req, _ := http.NewRequest("POST", e.base+"/v1/openai/v1/chat/completions",
		strings.NewReader(`{"model":"cut-stream","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"What is the answer to everything?"}]}`))
	req.Header.Set("X-ASO-API-Key", key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(res.Body); err == nil {
		t.Fatal("cut stream ended cleanly for the client")
	}
	res.Body.Close()
	ev := e.event(t, res.Header.Get("X-ASO-Request-Id"))
	if ev["outcome"] != "error" || ev["usage_source"] != "estimate" || ev["completion_tokens"].(float64) < 5 || ev["prompt_tokens"].(float64) < 5 {
		t.Fatalf("cut stream event = %v", ev)
	}
	// Priced with the response model's price: estimated tokens, real money.
	if c, err := decimal.NewFromString(fmt.Sprint(ev["total_cost_usd"])); err != nil || !c.IsPositive() || ev["cost_source"] != "standard" {
		t.Fatalf("cut stream cost = %v (%v)", ev["total_cost_usd"], ev["cost_source"])
	}
}

// SIGTERM under load: in-flight streams finish, and every request that got
// a response has its event after the drain.
func TestDrainKeepsEveryEvent(t *testing.T) {
	up := httptest.NewServer(mockProvider())
	defer up.Close()
	dir := t.TempDir()
	e := start(t, dir, up)
	key := e.createKey(t, nil)
	var mu sync.Mutex
	var ids []string
	var wg sync.WaitGroup
	stopLoad := make(chan struct{})
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stopLoad:
					return
				default:
				}
				req, _ := http.NewRequest("POST", e.base+"/v1/openai/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","stream":true}`))
				req.Header.Set("X-ASO-API-Key", key)
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					return // server stopped accepting
				}
				sc := bufio.NewScanner(res.Body)
				complete := false
				for sc.Scan() {
					if sc.Text() == "data: [DONE]" {
						complete = true
					}
				}
				res.Body.Close()
				if complete {
					mu.Lock()
					ids = append(ids, res.Header.Get("X-ASO-Request-Id"))
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	if err := e.stop(); err != nil {
		t.Fatalf("serve returned %v", err)
	}
	close(stopLoad)
	wg.Wait()
	if len(ids) < 10 {
		t.Fatalf("only %d requests completed", len(ids))
	}
	// Restart on the same data dir and look every response's event up.
	e2 := start(t, dir, up)
	missing := 0
	for _, id := range ids {
		_, out := e2.admin(t, "GET", "/api/v1/events?request_id="+id, nil)
		if evs, _ := out["events"].([]any); len(evs) != 1 {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d completed requests have no event after SIGTERM", missing, len(ids))
	}
}

// A policy change through the admin API reaches the proxy within 1 second,
// and the audit log records it.
func TestPolicyChangeWithinOneSecond(t *testing.T) {
	up := httptest.NewServer(mockProvider())
	defer up.Close()
	e := start(t, t.TempDir(), up)
	key := e.createKey(t, nil)
	id := strings.SplitN(strings.TrimPrefix(key, "aso_k_"), ".", 2)[0]
	if res, _ := e.proxy(t, key, "/v1/openai/v1/chat/completions", `{"model":"gpt-4o-mini"}`); res.StatusCode != 200 {
		t.Fatalf("before: %d", res.StatusCode)
	}
	code, out := e.admin(t, "PATCH", "/api/v1/keys/"+id, map[string]any{"policy": map[string]any{"providers": []string{"anthropic"}}})
	if code != 200 {
		t.Fatalf("patch: %d %v", code, out)
	}
	changed := time.Now()
	for {
		res, _ := e.proxy(t, key, "/v1/openai/v1/chat/completions", `{"model":"gpt-4o-mini"}`)
		if res.StatusCode == 403 {
			break
		}
		if time.Since(changed) > time.Second {
			t.Fatalf("policy change not in force after 1s (status %d)", res.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, out = e.admin(t, "PATCH", "/api/v1/keys/"+id, map[string]any{"policy": map[string]any{"models": []string{"openai:gpt-4*", "bad pattern"}}})
	if code != 400 {
		t.Fatalf("invalid policy accepted: %d %v", code, out)
	}
	_, out = e.admin(t, "GET", "/api/v1/audit?key_id="+id, nil)
	if s := fmt.Sprint(out); !strings.Contains(s, "create") || !strings.Contains(s, "policy_change") {
		t.Fatalf("audit = %v", out)
	}
}

// Responses outside the proxy carry a request id too, and unknown paths get
// a JSON error, not a redirect or plain text.
func TestNonProxyResponses(t *testing.T) {
	up := httptest.NewServer(mockProvider())
	defer up.Close()
	e := start(t, t.TempDir(), up)
	for path, status := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/nope": 404, "/api/v1/keys": 401} {
		res, err := http.Get(e.base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != status || res.Header.Get("X-ASO-Request-Id") == "" {
			t.Errorf("%s: %d, request id %q", path, res.StatusCode, res.Header.Get("X-ASO-Request-Id"))
		}
		if status >= 400 && !strings.HasPrefix(string(b), `{"error":"AISpendOps: `) {
			t.Errorf("%s: body %s", path, b)
		}
	}
}
