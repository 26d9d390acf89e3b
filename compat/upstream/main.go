// Command upstream is the compatibility suite's scripted provider: it answers
// OpenAI (chat completions, responses, embeddings), Anthropic (messages) and
// Gemini (generateContent, streamGenerateContent, embedContent) requests the
// way the real APIs do — bodies, headers, SSE framing, gzip and pacing — so
// that real SDKs can be driven through SpendOps without network access.
//
// Every reply is a pure function of the request's X-Compat-Trace header (the
// part before '#', the "seed") and its body, so a call sent directly and the
// same call sent through the proxy produce byte-identical streams that the
// suite can compare. The usage it reports is recorded, already normalised to
// the SpendOps event convention, in a log served at GET /_compat/log; the
// suite compares each recorded event with it.
//
// A seed containing "error429" gets the provider's rate-limit error instead.
package main

import (
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// expect is the usage an event must carry for a request, in SpendOps' event
// convention (decisions.md: prompt_tokens includes cache reads and writes,
// completion_tokens includes reasoning).
type expect struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
	CacheReadTokens  int64 `json:"cache_read_tokens"`
	CacheWriteTokens int64 `json:"cache_write_tokens"`
	ReasoningTokens  int64 `json:"reasoning_tokens"`
}

// entry is one served request as the suite sees it in /_compat/log.
type entry struct {
	Seq      int    `json:"seq"`
	Trace    string `json:"trace"`
	Provider string `json:"provider"`
	Method   string `json:"method"`
	Path     string `json:"path"`
	Query    string `json:"query"`
	Stream   bool   `json:"stream"`
	// IncludeUsage is stream_options.include_usage as received (nil: absent).
	IncludeUsage *bool `json:"include_usage"`
	// ASOHeaders lists X-ASO-* header names that reached the provider; the
	// proxy must strip them, so the suite expects this to be empty.
	ASOHeaders []string `json:"aso_headers"`
	// Auth is which provider credential header arrived (never its value).
	Auth    []string `json:"auth"`
	Status  int      `json:"status"`
	Gzipped bool     `json:"gzipped"`
	// Expect is the usage the provider reported, nil when it reported none
	// (errors, Gemini embeddings).
	Expect *expect `json:"expect"`
	// UsageReported is false when the response carried no usage at all (an
	// OpenAI stream without include_usage, an error, Gemini embeddings).
	UsageReported bool `json:"usage_reported"`
}

type server struct {
	gap time.Duration // pause between streamed events

	mu  sync.Mutex
	log []entry
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	addrFile := flag.String("addr-file", "", "write the bound host:port to this file once listening")
	gap := flag.Duration("gap", 50*time.Millisecond, "pause between streamed events (real providers pace tokens; wide enough that a buffering proxy is told apart from CPU stalls)")
	flag.Parse()

	s := &server{gap: *gap}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		slog.Error("listen", "err", err)
		os.Exit(1)
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()), 0o644); err != nil {
			slog.Error("write addr file", "err", err)
			os.Exit(1)
		}
	}
	slog.Info("scripted upstream listening", "addr", ln.Addr().String())
	srv := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil {
		slog.Error("serve", "err", err)
		os.Exit(1)
	}
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_compat/log", s.serveLog)
	mux.HandleFunc("GET /_compat/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("POST /v1/chat/completions", s.openaiChat)
	mux.HandleFunc("POST /v1/responses", s.openaiResponses)
	mux.HandleFunc("POST /v1/embeddings", s.openaiEmbeddings)
	mux.HandleFunc("POST /v1/messages", s.anthropicMessages)
	mux.HandleFunc("POST /v1beta/models/{call}", s.gemini)
	mux.HandleFunc("POST /v1/models/{call}", s.gemini)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		slog.Warn("unscripted request", "method", r.Method, "path", r.URL.Path)
		writeJSON(w, r, http.StatusNotFound, map[string]any{"error": map[string]any{
			"message": fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path), "type": "invalid_request_error", "param": nil, "code": nil,
		}})
	})
	return mux
}

// record appends e to the log, filling what every entry shares.
func (s *server) record(r *http.Request, e entry) {
	e.Trace = r.Header.Get("X-Compat-Trace")
	e.Method, e.Path, e.Query = r.Method, r.URL.Path, r.URL.RawQuery
	for name := range r.Header {
		if strings.HasPrefix(strings.ToLower(name), "x-aso-") {
			e.ASOHeaders = append(e.ASOHeaders, name)
		}
	}
	for _, h := range []string{"Authorization", "X-Api-Key", "X-Goog-Api-Key"} {
		if r.Header.Get(h) != "" {
			e.Auth = append(e.Auth, h)
		}
	}
	if r.URL.Query().Get("key") != "" {
		e.Auth = append(e.Auth, "?key")
	}
	sort.Strings(e.ASOHeaders)
	s.mu.Lock()
	e.Seq = len(s.log) + 1
	s.log = append(s.log, e)
	s.mu.Unlock()
}

func (s *server) serveLog(w http.ResponseWriter, r *http.Request) {
	trace := r.URL.Query().Get("trace")
	s.mu.Lock()
	out := []entry{}
	for _, e := range s.log {
		if trace == "" || e.Trace == trace {
			out = append(out, e)
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"entries": out})
}

// seed is the deterministic part of a request's trace.
func seed(r *http.Request) string {
	t := r.Header.Get("X-Compat-Trace")
	if i := strings.IndexByte(t, '#'); i >= 0 {
		t = t[:i]
	}
	if t == "" {
		t = "untraced" + r.URL.Path
	}
	return t
}

// hash32 spreads a seed into the numbers a reply is built from.
func hash32(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}

// hexID returns n hex digits derived from the seed, for ids that must be
// equal between a direct and a proxied call.
func hexID(seed, salt string, n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%08x", hash32(fmt.Sprintf("%s|%s|%d", seed, salt, i)))
	}
	return b.String()[:n]
}

// alnumID returns an n-character base62 id derived from the seed.
func alnumID(seed, salt string, n int) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	out := make([]byte, n)
	for i := range out {
		out[i] = digits[hash32(fmt.Sprintf("%s|%s|%d", seed, salt, i))%62]
	}
	return string(out)
}

// replyWords is the scripted assistant text, streamed word by word.
var replyWords = []string{"Hello", " from", " the", " scripted", " upstream", "."}

func replyText() string { return strings.Join(replyWords, "") }

// wantsGzip reports whether the client accepts gzip, as every SDK here does;
// the real providers compress non-streaming JSON then.
func wantsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		if strings.TrimSpace(strings.SplitN(part, ";", 2)[0]) == "gzip" {
			return true
		}
	}
	return false
}

// writeJSON writes v as a complete JSON response, gzip-compressed when the
// client accepts it. It reports whether the body was compressed.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) bool {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return false
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	if wantsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Add("Vary", "Accept-Encoding")
		w.WriteHeader(status)
		zw := gzip.NewWriter(w)
		_, _ = zw.Write(body)
		_ = zw.Close()
		return true
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return false
}

// streamWriter paces SSE output the way providers do: headers first, then
// one flushed write per event with a gap between events.
type streamWriter struct {
	w     http.ResponseWriter
	rc    *http.ResponseController
	gap   time.Duration
	first bool
	burst bool
}

func (s *server) startStream(w http.ResponseWriter, contentType string) *streamWriter {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	return &streamWriter{w: w, rc: rc, gap: s.gap, first: true}
}

// trailer marks the end of generation: providers send the closing events
// (finish chunk, usage, [DONE]; message_delta, message_stop; response.*.done,
// response.completed) back to back, so the rest is written without pauses.
func (sw *streamWriter) trailer() { sw.burst = true }

// write sends one framed event and flushes it.
func (sw *streamWriter) write(frame string) {
	if !sw.first && !sw.burst {
		time.Sleep(sw.gap)
	}
	sw.first = false
	_, _ = sw.w.Write([]byte(frame))
	_ = sw.rc.Flush()
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// decodeBody reads a JSON request body into v; providers answer 400 to bad JSON.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		http.Error(w, `{"error":{"message":"We could not parse the JSON body of your request.","type":"invalid_request_error","param":null,"code":null}}`, http.StatusBadRequest)
		return false
	}
	return true
}
