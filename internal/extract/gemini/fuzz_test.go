package gemini

import (
	"math/rand"
	"testing"

	"github.com/spendops/spendops/internal/extract/extracttest"
	"github.com/spendops/spendops/internal/usage"
)

// FuzzExtractor checks that no body panics the extractor, that chunking
// never changes the report, and that the buckets stay consistent.
func FuzzExtractor(f *testing.F) {
	for _, b := range extracttest.FixtureBodies(f) {
		f.Add(b, int64(7), uint8(0))
		f.Add(b, int64(3), uint8(1))
	}
	f.Add([]byte(`data: {"usageMetadata":{"promptTokenCount":9223372036854775807,"toolUsePromptTokenCount":5,"cachedContentTokenCount":-1}}`+"\n\n"), int64(1), uint8(2))
	f.Fuzz(func(t *testing.T, body []byte, seed int64, ct uint8) {
		req := usage.Request{Method: "POST", Path: flash + ":streamGenerateContent"}
		switch ct % 4 {
		case 1:
			req.ContentType = ctStream
		case 2:
			req.ContentType = ctJSON
		case 3:
			req.Path = flash + ":countTokens"
		}
		want := run(req, body)
		rng := rand.New(rand.NewSource(seed))
		if got := run(req, extracttest.RandomChunks(rng, body)...); extracttest.Canon(t, got) != extracttest.Canon(t, want) {
			t.Fatalf("chunking changed the report:\n%s\nvs\n%s", extracttest.Canon(t, got), extracttest.Canon(t, want))
		}
		tk := want.Tokens
		if tk.Reasoning > tk.Completion || tk.CacheRead > tk.Prompt || tk.PromptAudio > tk.Prompt ||
			tk.PromptImage > tk.Prompt || tk.CompletionAudio > tk.Completion || tk.CompletionImage > tk.Completion {
			t.Errorf("subset exceeds its parent: %+v", tk)
		}
		for _, v := range []int64{tk.Prompt, tk.Completion, tk.Total, tk.CacheRead, want.WebSearchRequests, want.OutputChars, want.OutputTokensEstimate} {
			if v < 0 {
				t.Errorf("negative count: %+v", want)
			}
		}
	})
}
