package extracttest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/spendops/spendops/internal/usage"
)

// SharedDir finds the shared data dir (specs, pricing reference): env
// SPENDOPS_SHARED_DIR, else ../shared beside the repository root (the
// directory holding go.mod). When it is missing the test is skipped
// locally and fails when env CI is set, so that CI cannot pass by skipping.
func SharedDir(t testing.TB) string {
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

// GenaiBlock is one entry of genai-prices' tests/dataset/usages.json: a
// recorded usage object (usage and model in OpenAI's and Anthropic's
// shapes, usageMetadata and modelVersion in Gemini's) and the usage each
// of genai-prices' extractors made of it.
type GenaiBlock struct {
	Body struct {
		File          string          `json:"file"`
		Model         string          `json:"model"`
		Usage         json.RawMessage `json:"usage"`
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

// Want returns the usage genai-prices' extractor (provider, flavor) made of
// the block, or nil if that extractor did not apply to it.
func (b GenaiBlock) Want(provider, flavor string) map[string]int64 {
	var want map[string]int64
	for _, ex := range b.Extracted {
		for _, e := range ex.Extractors {
			if e.ProviderID == provider && e.APIFlavor == flavor {
				want = ex.Usage
			}
		}
	}
	return want
}

// GenaiUsages loads genai-prices' usage dataset from the shared data dir
// (see SharedDir for when it is missing).
func GenaiUsages(t testing.TB) []GenaiBlock {
	t.Helper()
	path := filepath.Join(SharedDir(t), "pricing-reference", "genai-prices", "tests", "dataset", "usages.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []GenaiBlock
	if err := json.Unmarshal(data, &blocks); err != nil {
		t.Fatal(err)
	}
	return blocks
}

// BucketKeys are the genai-prices usage keys that every extractor's Report
// has a field for, in the order the comparisons report them. Anthropic
// adds cache_write_5m_tokens and cache_write_1h_tokens.
var BucketKeys = []string{
	"input_tokens", "cache_read_tokens", "cache_write_tokens", "input_audio_tokens", "input_image_tokens",
	"output_tokens", "output_reasoning_tokens", "output_audio_tokens", "output_image_tokens", "web_searches",
}

// Buckets maps a Report onto the genai-prices keys of BucketKeys.
func Buckets(r usage.Report) map[string]int64 {
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

// Subset reports whether every string of a is in b.
func Subset(a, b []string) bool {
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
