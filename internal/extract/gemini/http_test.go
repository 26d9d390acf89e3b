package gemini

import (
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/spendops/spendops/internal/usage"
)

// Over a real loopback connection, a stream written in small flushed chunks
// (the way the proxy tees it) gives the same report as the file in one piece.
func TestLoopbackStream(t *testing.T) {
	for _, name := range []string{"stream.sse", "stream_array.json", "generate_grounding.json"} {
		body := readFixture(t, name)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			if name[len(name)-4:] == "json" {
				w.Header().Set("Content-Type", "application/json")
			}
			rc := http.NewResponseController(w)
			for _, c := range randomChunks(rand.New(rand.NewSource(5)), body) {
				_, _ = w.Write(c)
				_ = rc.Flush()
				time.Sleep(50 * time.Microsecond)
			}
		}))
		resp, err := http.Post(srv.URL+flash+":streamGenerateContent", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		e := New(usage.Request{Method: "POST", Path: flash + ":streamGenerateContent", StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type")})
		if _, err := io.Copy(e, resp.Body); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		srv.Close()
		f := fixture{file: name, method: "POST", path: flash + ":streamGenerateContent"}
		if got, want := canon(t, e.Report()), canon(t, run(f.request(), body)); got != want {
			t.Errorf("%s over HTTP:\n%s\nwant\n%s", name, got, want)
		}
	}
}
