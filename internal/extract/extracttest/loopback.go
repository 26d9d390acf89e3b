package extracttest

import (
	"bytes"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/spendops/spendops/internal/usage"
)

// Upstream is a real loopback HTTP server standing in for a provider: it
// answers every request with Chunks, each written and flushed on its own
// (the way a provider streams and the proxy tees), Pause apart.
type Upstream struct {
	ContentType string
	Chunks      [][]byte
	Pause       time.Duration
	// Check, if set, sees the request body; an error answers 400.
	Check func(reqBody []byte) error
}

// Post starts the server, POSTs body to path on it and returns the
// response. The server is closed when the test ends; the caller closes the
// response body.
func (u Upstream) Post(t testing.TB, path string, body []byte) *http.Response {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, _ := io.ReadAll(r.Body)
		if u.Check != nil {
			if err := u.Check(in); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		w.Header().Set("Content-Type", u.ContentType)
		rc := http.NewResponseController(w)
		for _, c := range u.Chunks {
			_, _ = w.Write(c)
			_ = rc.Flush()
			if u.Pause > 0 {
				time.Sleep(u.Pause)
			}
		}
	}))
	t.Cleanup(srv.Close)
	resp, err := http.Post(srv.URL+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// Extract POSTs to req.Path on the upstream and feeds the response body, as
// it arrives, to an extractor made for req with the response's status and
// Content-Type; it returns the extractor's report.
func (u Upstream) Extract(t testing.TB, newExtractor New, req usage.Request) usage.Report {
	t.Helper()
	resp := u.Post(t, req.Path, nil)
	defer resp.Body.Close()
	req.StatusCode = resp.StatusCode
	req.ContentType = resp.Header.Get("Content-Type")
	e := newExtractor(req)
	if _, err := io.Copy(e, resp.Body); err != nil {
		t.Fatal(err)
	}
	return e.Report()
}

// ChunkedUpstream serves body the way a provider streams it: in random
// chunks of 1 to 64 bytes (from a fixed seed), flushed 50µs apart, with the
// Content-Type of the fixture's extension (text/event-stream for .sse,
// application/json otherwise).
func ChunkedUpstream(fixture string, body []byte) Upstream {
	ct := "application/json"
	if filepath.Ext(fixture) == ".sse" {
		ct = "text/event-stream"
	}
	return Upstream{ContentType: ct, Chunks: RandomChunks(rand.New(rand.NewSource(5)), body), Pause: 50 * time.Microsecond}
}
