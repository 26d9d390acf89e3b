// Package mockupstream is a loopback stand-in for the OpenAI chat completions API, used by the benchmark so that
// every target (direct, bare proxy, SpendOps, peer) talks to the same deterministic, fast upstream.
//
// A request chooses the response shape through query parameters, X-Mock-* headers or, because some gateways
// forward neither, a suffix of the "model" field ("gpt-4o-mini@chunks=100,delay_ms=20"). Later sources override
// earlier ones in that order: model suffix, query, headers.
//
//	size      small (default) or large: fixed non-streaming bodies of ~0.4 KiB and ~16 KiB
//	bytes     non-streaming body of at least this many bytes, written incrementally (the mock never holds it)
//	chunks    streaming: number of content chunks (default 10)
//	delay_ms  streaming: pause between content chunks in milliseconds (default 0)
//	hold_ms   streaming: after the first content chunk, keep the stream open this long (open-stream tests)
//
// Each streamed content chunk carries its send time: the delta content is "t<unix nanoseconds>", so a client on
// the same host can compute how long the chunk spent in the proxies between the mock and itself.
package mockupstream

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Config is the response shape requested by one call.
type Config struct {
	Size   string
	Bytes  int64
	Chunks int
	Delay  time.Duration
	Hold   time.Duration
	Stream bool
	Usage  bool // stream_options.include_usage
	Model  string
}

// Server is the mock upstream handler. The zero value is not usable; call New.
type Server struct {
	requests atomic.Int64
	streams  atomic.Int64
	seq      atomic.Int64
	small    []byte
	large    []byte
}

// New returns a mock upstream.
func New() *Server {
	s := &Server{}
	s.small = completionBody("gpt-4o-mini", "chatcmpl-mock", "Hello! How can I help you today?", 12, 9)
	s.large = completionBody("gpt-4o-mini", "chatcmpl-mock", strings.Repeat("lorem ipsum dolor sit amet ", 600), 850, 3600)
	return s
}

// Requests is the number of completion requests served so far.
func (s *Server) Requests() int64 { return s.requests.Load() }

// OpenStreams is the number of streaming responses in progress.
func (s *Server) OpenStreams() int64 { return s.streams.Load() }

// ServeHTTP answers /v1/chat/completions (and /chat/completions, for gateways whose custom host already ends in
// /v1) and /healthz.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		w.WriteHeader(http.StatusOK)
		return
	case "/v1/chat/completions", "/chat/completions":
	default:
		http.Error(w, `{"error":{"message":"mock: unknown path","type":"invalid_request_error"}}`, http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, `{"error":{"message":"mock: POST only"}}`, http.StatusMethodNotAllowed)
		return
	}
	s.requests.Add(1)
	var req struct {
		Model         string `json:"model"`
		Stream        bool   `json:"stream"`
		StreamOptions *struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil || json.Unmarshal(body, &req) != nil {
		http.Error(w, `{"error":{"message":"mock: bad JSON body"}}`, http.StatusBadRequest)
		return
	}
	cfg := ParseConfig(req.Model, r)
	cfg.Stream = req.Stream
	cfg.Usage = req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	if cfg.Stream {
		s.stream(w, r, cfg)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "req_mock")
	switch {
	case cfg.Bytes > 0:
		s.writeBig(w, cfg)
	case cfg.Size == "large":
		w.Header().Set("Content-Length", strconv.Itoa(len(s.large)))
		_, _ = w.Write(s.large)
	default:
		w.Header().Set("Content-Length", strconv.Itoa(len(s.small)))
		_, _ = w.Write(s.small)
	}
}

// maxBytes bounds the "bytes" option so a typo cannot fill a disk or a pipe for minutes.
const maxBytes = 1 << 30

// ParseConfig reads the response options from the model suffix, the query and X-Mock-* headers, in that order
// of precedence (last wins). The returned Model has the suffix removed.
func ParseConfig(model string, r *http.Request) Config {
	cfg := Config{Size: "small", Chunks: 10, Model: model}
	set := func(k, v string) {
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "size":
			cfg.Size = v
		case "bytes":
			cfg.Bytes = min(max(n, 0), maxBytes)
		case "chunks":
			cfg.Chunks = int(min(max(n, 0), 1_000_000))
		case "delay_ms":
			cfg.Delay = time.Duration(max(n, 0)) * time.Millisecond
		case "hold_ms":
			cfg.Hold = time.Duration(max(n, 0)) * time.Millisecond
		}
	}
	if i := strings.IndexByte(model, '@'); i >= 0 {
		cfg.Model = model[:i]
		for _, kv := range strings.Split(model[i+1:], ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				set(k, v)
			}
		}
	}
	if cfg.Model == "" {
		cfg.Model = "gpt-4o-mini"
	}
	if r != nil {
		for _, k := range []string{"size", "bytes", "chunks", "delay_ms", "hold_ms"} {
			if v := r.URL.Query().Get(k); v != "" {
				set(k, v)
			}
		}
		for _, k := range []string{"size", "bytes", "chunks", "delay_ms", "hold_ms"} {
			if v := r.Header.Get("X-Mock-" + strings.ReplaceAll(k, "_", "-")); v != "" {
				set(k, v)
			}
		}
	}
	return cfg
}

func completionBody(model, id, content string, prompt, completion int) []byte {
	b, _ := json.Marshal(map[string]any{
		"id":      id,
		"object":  "chat.completion",
		"created": 1732000000,
		"model":   model,
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": content},
			"finish_reason": "stop",
		}},
		"usage": map[string]any{
			"prompt_tokens":     prompt,
			"completion_tokens": completion,
			"total_tokens":      prompt + completion,
		},
		"system_fingerprint": "fp_mock",
	})
	return b
}

// writeBig streams a chat completion whose content pads the body to cfg.Bytes, without ever holding it.
func (s *Server) writeBig(w http.ResponseWriter, cfg Config) {
	head := `{"id":"chatcmpl-big","object":"chat.completion","created":1732000000,"model":"` + jsonSafe(cfg.Model) +
		`","choices":[{"index":0,"message":{"role":"assistant","content":"`
	tail := `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":100,"total_tokens":110}}`
	pad := max(cfg.Bytes-int64(len(head)+len(tail)), 0)
	w.Header().Set("Content-Length", strconv.FormatInt(int64(len(head)+len(tail))+pad, 10))
	bw := bufio.NewWriterSize(w, 64<<10)
	_, _ = bw.WriteString(head)
	block := []byte(strings.Repeat("abcdefgh", 4096))
	for pad > 0 {
		n := min(pad, int64(len(block)))
		if _, err := bw.Write(block[:n]); err != nil {
			return
		}
		pad -= n
	}
	_, _ = bw.WriteString(tail)
	_ = bw.Flush()
}

func jsonSafe(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// stream writes an OpenAI-style SSE completion: a role chunk, cfg.Chunks content chunks stamped with their send
// time, a finish chunk, the usage chunk (choices:[]) when asked for, and [DONE].
func (s *Server) stream(w http.ResponseWriter, r *http.Request, cfg Config) {
	s.streams.Add(1)
	defer s.streams.Add(-1)
	fl, _ := w.(http.Flusher)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Request-Id", "req_mock")
	w.WriteHeader(http.StatusOK)
	id := "chatcmpl-s" + strconv.FormatInt(s.seq.Add(1), 10)
	model := jsonSafe(cfg.Model)
	prefix := `data: {"id":"` + id + `","object":"chat.completion.chunk","created":1732000000,"model":"` + model + `","choices":[`
	buf := make([]byte, 0, 512)
	send := func(b []byte) bool {
		if _, err := w.Write(b); err != nil {
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		return true
	}
	buf = append(append(buf[:0], prefix...), `{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`+"\n\n"...)
	if !send(buf) {
		return
	}
	var timer *time.Timer
	wait := func(d time.Duration) bool {
		if d <= 0 {
			return r.Context().Err() == nil
		}
		if timer == nil {
			timer = time.NewTimer(d)
		} else {
			timer.Reset(d)
		}
		select {
		case <-timer.C:
			return true
		case <-r.Context().Done():
			timer.Stop()
			return false
		}
	}
	for k := 0; k < cfg.Chunks; k++ {
		if k > 0 && !wait(cfg.Delay) {
			return
		}
		buf = append(buf[:0], prefix...)
		buf = append(buf, `{"index":0,"delta":{"content":"t`...)
		buf = strconv.AppendInt(buf, time.Now().UnixNano(), 10)
		buf = append(buf, `"},"finish_reason":null}]}`+"\n\n"...)
		if !send(buf) {
			return
		}
		if k == 0 && cfg.Hold > 0 && !wait(cfg.Hold) {
			return
		}
	}
	buf = append(append(buf[:0], prefix...), `{"index":0,"delta":{},"finish_reason":"stop"}]}`+"\n\n"...)
	if !send(buf) {
		return
	}
	if cfg.Usage {
		buf = append(append(buf[:0], prefix...), `],"usage":{"prompt_tokens":12,"completion_tokens":`...)
		buf = strconv.AppendInt(buf, int64(cfg.Chunks), 10)
		buf = append(buf, `,"total_tokens":`...)
		buf = strconv.AppendInt(buf, int64(cfg.Chunks+12), 10)
		buf = append(buf, "}}\n\n"...)
		if !send(buf) {
			return
		}
	}
	send([]byte("data: [DONE]\n\n"))
}

// ParseStamp extracts the send time from a streamed content chunk line written by the mock ("t<unix ns>" as the
// delta content). ok is false for chunks without a stamp (role, finish, usage, [DONE]).
func ParseStamp(line []byte) (ns int64, ok bool) {
	const marker = `"content":"t`
	i := bytes.Index(line, []byte(marker))
	if i < 0 {
		return 0, false
	}
	j := i + len(marker)
	var n int64
	start := j
	for j < len(line) && line[j] >= '0' && line[j] <= '9' {
		n = n*10 + int64(line[j]-'0')
		j++
	}
	if j == start || j >= len(line) || line[j] != '"' {
		return 0, false
	}
	return n, true
}
