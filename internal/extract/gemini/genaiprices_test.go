package gemini

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/spendops/spendops/internal/usage"
)

// sharedDir finds /work/shared: $SPENDOPS_SHARED_DIR, else ../shared beside
// the repository root. Missing data skips locally and fails in CI.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SPENDOPS_SHARED_DIR")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = filepath.Join(d, "..", "shared")
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, err := os.Stat(dir); dir == "" || err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared data dir not found (%q); set SPENDOPS_SHARED_DIR", dir)
		}
		t.Skipf("shared data dir not found (%q)", dir)
	}
	return dir
}

// genaiBlock is one entry of genai-prices' tests/dataset/usages.json.
type genaiBlock struct {
	Body struct {
		File          string          `json:"file"`
		ModelVersion  string          `json:"modelVersion"`
		UsageMetadata json.RawMessage `json:"usageMetadata"`
	} `json:"body"`
	Extracted []struct {
		Extractors []struct {
			ProviderID string `json:"provider_id"`
			APIFlavor  string `json:"api_flavor"`
		} `json:"extractors"`
		Usage map[string]int64 `json:"usage"`
	} `json:"extracted"`
}

func buckets(r usage.Report) map[string]int64 {
	t := r.Tokens
	return map[string]int64{
		"input_tokens":            t.Prompt,
		"output_tokens":           t.Completion,
		"output_reasoning_tokens": t.Reasoning,
		"cache_read_tokens":       t.CacheRead,
		"cache_write_tokens":      t.CacheWrite,
		"input_audio_tokens":      t.PromptAudio,
		"input_image_tokens":      t.PromptImage,
		"output_audio_tokens":     t.CompletionAudio,
		"output_image_tokens":     t.CompletionImage,
		"web_searches":            r.WebSearchRequests,
	}
}

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
	path := filepath.Join(sharedDir(t), "pricing-reference", "genai-prices", "tests", "dataset", "usages.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []genaiBlock
	if err := json.Unmarshal(data, &blocks); err != nil {
		t.Fatal(err)
	}
	var total, agree int
	hits := make([]int, len(expectedDisagreements))
	for i, b := range blocks {
		if len(b.Body.UsageMetadata) == 0 {
			continue
		}
		var want map[string]int64
		for _, ex := range b.Extracted {
			for _, e := range ex.Extractors {
				if e.ProviderID == "google" && e.APIFlavor == "default" {
					want = ex.Usage
				}
			}
		}
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
		got := buckets(r)
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
			if subset(diff, d.keys) {
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

func subset(a, b []string) bool {
	for _, x := range a {
		found := false
		for _, y := range b {
			found = found || x == y
		}
		if !found {
			return false
		}
	}
	return true
}
