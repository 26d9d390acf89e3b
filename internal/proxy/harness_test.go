package proxy

import (
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/spendops/spendops/internal/keys"
	"github.com/spendops/spendops/internal/provider"
	"github.com/spendops/spendops/internal/store"
	"github.com/spendops/spendops/internal/usage"
)

func netDial(addr string) (net.Conn, error) { return net.Dial("tcp", addr) }

// memSink records events for assertions.
type memSink struct {
	mu      sync.Mutex
	events  []usage.Event
	denials []usage.Denial
}

func (s *memSink) Usage(e usage.Event) { s.mu.Lock(); s.events = append(s.events, e); s.mu.Unlock() }
func (s *memSink) Denial(d usage.Denial) {
	s.mu.Lock()
	s.denials = append(s.denials, d)
	s.mu.Unlock()
}

func (s *memSink) snapshot() ([]usage.Event, []usage.Denial) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]usage.Event(nil), s.events...), append([]usage.Denial(nil), s.denials...)
}

// waitEvents waits until n usage events arrived (events are emitted after
// the response body ends, which can be just after the client read it).
func (s *memSink) waitEvents(t *testing.T, n int) []usage.Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ev, _ := s.snapshot()
		if len(ev) >= n {
			return ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d usage events, want %d", len(ev), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type harness struct {
	upstream *httptest.Server
	front    *httptest.Server
	key      string
	keys     *keys.Store
	cache    *keys.Cache
	sink     *memSink
	logs     *syncBuffer
}

// newHarness starts a real upstream and a real front server with the proxy,
// a SQLite key store and one active key. Every provider points at the
// upstream (keeping its base path), so routes can be asserted end to end.
func newHarness(t testing.TB, up http.Handler, mutate ...func(*Config)) *harness {
	t.Helper()
	h := &harness{sink: &memSink{}, logs: &syncBuffer{}}
	h.upstream = httptest.NewServer(up)
	t.Cleanup(h.upstream.Close)
	overrides := map[string]string{}
	for _, d := range provider.Builtins() {
		base, _ := provider.New(nil, nil)
		p, _ := base.Lookup(d.Name)
		overrides[d.Name] = h.upstream.URL + p.BaseURL.Path
	}
	reg, err := provider.New(nil, overrides)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h.keys, err = keys.NewStore(t.Context(), db, bytes.Repeat([]byte("s"), 32))
	if err != nil {
		t.Fatal(err)
	}
	_, h.key, err = h.keys.Create(t.Context(), keys.CreateInput{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	h.cache, err = keys.NewCache(t.Context(), h.keys, slog.New(slog.NewTextHandler(h.logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Registry: reg, Auth: h.cache, Sink: h.sink, AccessLog: true,
		Logger: slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	ph, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.front = httptest.NewServer(ph)
	t.Cleanup(h.front.Close)
	return h
}

func (h *harness) request(t *testing.T, method, path string, body []byte, hdr map[string]string) *http.Request {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	var req *http.Request
	var err error
	if rd != nil {
		req, err = http.NewRequestWithContext(t.Context(), method, h.front.URL+path, rd)
	} else {
		req, err = http.NewRequestWithContext(t.Context(), method, h.front.URL+path, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-ASO-API-Key", h.key)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return req
}
