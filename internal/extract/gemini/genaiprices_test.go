package gemini

import (
	"encoding/json"
	"sort"
	"testing"

	"github.com/spendops/spendops/internal/extract/extracttest"
	"github.com/spendops/spendops/internal/usage"
)

// genai-prices keys that SpendOps has no bucket for: finer modality and
// tool-use splits that Gemini prices at the parent's rate. They are checked
// to be subsets, not compared.
var noBucket = map[string]bool{
	"input_text_tokens": true, "output_text_tokens": true, "input_video_tokens": true, "output_video_tokens": true,
	"input_tool_tokens": true, "input_text_tool_tokens": true, "input_audio_tool_tokens": true,
	"input_image_tool_tokens": true, "input_video_tool_tokens": true,
	"cache_text_read_tokens": true, "cache_audio_read_tokens": true, "cache_image_read_tokens": true, "cache_video_read_tokens": true,
}

// expectedDisagreements lists where SpendOps deliberately differs from
// genai-prices' Google extractor; any other difference fails the test.
var expectedDisagreements = []struct {
	reason string
	keys   []string
}{
	// None so far: every bucket SpendOps has matches genai-prices exactly.
}

func TestGenaiPricesGemini(t *testing.T) {
	blocks := extracttest.GenaiUsages(t)
	var total, agree int
	hits := make([]int, len(expectedDisagreements))
	for i, b := range blocks {
		if len(b.Body.UsageMetadata) == 0 {
			continue
		}
		want := b.Want("google", "default")
		if want == nil {
			t.Errorf("block %d (%s): genai-prices' google extractor did not apply", i, b.Body.File)
			continue
		}
		total++
		body, _ := json.Marshal(map[string]any{"usageMetadata": b.Body.UsageMetadata, "modelVersion": b.Body.ModelVersion})
		r := run(usage.Request{Method: "POST", Path: flash + ":generateContent", ContentType: ctJSON}, body)
		if !r.Found || r.ResponseModel != b.Body.ModelVersion {
			t.Errorf("block %d (%s): found=%v model=%q", i, b.Body.File, r.Found, r.ResponseModel)
			continue
		}
		// The same object as the last chunk of an SSE stream after an early
		// partial snapshot gives the same buckets.
		sse := "data: {\"usageMetadata\":{\"promptTokenCount\":1}}\r\n\r\ndata: " + string(body) + "\r\n\r\n"
		if rs := run(usage.Request{Method: "POST", Path: flash + ":streamGenerateContent", ContentType: ctStream}, []byte(sse)); rs.Tokens != r.Tokens {
			t.Errorf("block %d: streamed %+v, JSON %+v", i, rs.Tokens, r.Tokens)
		}
		got := extracttest.Buckets(r)
		var diff []string
		for k, v := range got {
			if want[k] != v {
				diff = append(diff, k)
			}
		}
		for k, v := range want {
			if _, known := got[k]; known {
				continue
			}
			if !noBucket[k] {
				t.Errorf("block %d: genai-prices key %q has no SpendOps bucket", i, k)
			}
			if (k[:5] == "input" || k[:5] == "cache") && v > got["input_tokens"] || k[:6] == "output" && v > got["output_tokens"] {
				t.Errorf("block %d: %s=%d exceeds its parent", i, k, v)
			}
		}
		if len(diff) == 0 {
			agree++
			continue
		}
		sort.Strings(diff)
		explained := false
		for j, d := range expectedDisagreements {
			if extracttest.Subset(diff, d.keys) {
				hits[j]++
				explained = true
				break
			}
		}
		if !explained {
			t.Errorf("block %d (%s): unexpected disagreement on %v\nusage %s\ngot %v\nwant %v", i, b.Body.File, diff, b.Body.UsageMetadata, got, want)
		}
	}
	if total < 100 {
		t.Fatalf("only %d Gemini blocks found; dataset changed?", total)
	}
	t.Logf("genai-prices Gemini blocks: %d, exact agreement %d (%.1f%%)", total, agree, 100*float64(agree)/float64(total))
	for j, d := range expectedDisagreements {
		t.Logf("expected disagreement (%d blocks): %s", hits[j], d.reason)
	}
}
