package anthropic

import (
	"math/rand"
	"testing"

	"github.com/spendops/spendops/internal/extract/extracttest"
	"github.com/spendops/spendops/internal/usage"
)

// FuzzExtractor checks that no body panics the extractor, that chunking
// never changes the report, and that the normalised buckets stay consistent.
func FuzzExtractor(f *testing.F) {
	for _, b := range extracttest.FixtureBodies(f) {
		f.Add(b, int64(7), uint8(0))
		f.Add(b, int64(3), uint8(2))
	}
	f.Add([]byte(`data: {"type":"message_start","message":{"usage":{"input_tokens":9223372036854775807,"cache_read_input_tokens":9223372036854775807,"output_tokens":-1}}}`+"\n\n"), int64(1), uint8(1))
	f.Fuzz(func(t *testing.T, body []byte, seed int64, ct uint8) {
		req := usage.Request{Method: "POST", Path: "/v1/messages"}
		switch ct % 4 {
		case 1:
			req.ContentType = "text/event-stream"
		case 2:
			req.ContentType = "application/json"
		case 3:
			req.Path = "/v1/messages/count_tokens"
		}
		want := run(req, body)
		rng := rand.New(rand.NewSource(seed))
		if got := run(req, extracttest.RandomChunks(rng, body)...); extracttest.Canon(t, got) != extracttest.Canon(t, want) {
			t.Fatalf("chunking changed the report:\n%s\nvs\n%s", extracttest.Canon(t, got), extracttest.Canon(t, want))
		}
		tk := want.Tokens
		if tk.CacheWrite5m+tk.CacheWrite1h != tk.CacheWrite && tk.CacheWrite != 1<<63-1 {
			t.Errorf("cache write split %d+%d != %d", tk.CacheWrite5m, tk.CacheWrite1h, tk.CacheWrite)
		}
		if tk.Reasoning > tk.Completion || tk.CacheRead > tk.Prompt || tk.CacheWrite > tk.Prompt {
			t.Errorf("subset exceeds its parent: %+v", tk)
		}
		for _, v := range []int64{tk.Prompt, tk.Completion, tk.Total, tk.CacheRead, tk.CacheWrite, want.WebSearchRequests, want.OutputChars, want.OutputTokensEstimate} {
			if v < 0 {
				t.Errorf("negative count: %+v", want)
			}
		}
	})
}
