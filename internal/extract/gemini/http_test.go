package gemini

import (
	"testing"

	"github.com/spendops/spendops/internal/extract/extracttest"
	"github.com/spendops/spendops/internal/usage"
)

// Over a real loopback connection, a stream written in small flushed chunks
// (the way the proxy tees it) gives the same report as the file in one piece.
func TestLoopbackStream(t *testing.T) {
	for _, name := range []string{"stream.sse", "stream_array.json", "generate_grounding.json"} {
		body := extracttest.ReadTestdata(t, name)
		got := extracttest.ChunkedUpstream(name, body).Extract(t, New, usage.Request{Method: "POST", Path: flash + ":streamGenerateContent"})
		f := fixture{file: name, method: "POST", path: flash + ":streamGenerateContent"}
		if got, want := extracttest.Canon(t, got), extracttest.Canon(t, run(f.request(), body)); got != want {
			t.Errorf("%s over HTTP:\n%s\nwant\n%s", name, got, want)
		}
	}
}
