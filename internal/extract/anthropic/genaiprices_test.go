package anthropic

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
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

// genaiBlock is one entry of genai-prices' tests/dataset/usages.json: a
// recorded usage object and the usage each provider extractor made of it.
type genaiBlock struct {
	Body struct {
		File  string          `json:"file"`
		Model string          `json:"model"`
		Usage json.RawMessage `json:"usage"`
	} `json:"body"`
	Extracted []struct {
		Extractors []struct {
			ProviderID string `json:"provider_id"`
			APIFlavor  string `json:"api_flavor"`
		} `json:"extractors"`
		Usage map[string]int64 `json:"usage"`
	} `json:"extracted"`
}

// buckets are the genai-prices usage keys and the Report fields they match.
func buckets(r usage.Report) map[string]int64 {
	t := r.Tokens
	return map[string]int64{
		"input_tokens":            t.Prompt,
		"output_tokens":           t.Completion,
		"output_reasoning_tokens": t.Reasoning,
		"cache_read_tokens":       t.CacheRead,
		"cache_write_tokens":      t.CacheWrite,
		"cache_write_5m_tokens":   t.CacheWrite5m,
		"cache_write_1h_tokens":   t.CacheWrite1h,
		"input_audio_tokens":      t.PromptAudio,
		"input_image_tokens":      t.PromptImage,
		"output_audio_tokens":     t.CompletionAudio,
		"output_image_tokens":     t.CompletionImage,
		"web_searches":            r.WebSearchRequests,
	}
}

// expectedDisagreements lists where SpendOps deliberately differs from
// genai-prices' Anthropic extractor. Each rule says which keys may differ and
// why; a block that differs in any other way fails the test.
var expectedDisagreements = []struct {
	reason string
	keys   []string
	// applies reports whether the rule covers this raw usage object.
	applies func(raw map[string]json.RawMessage) bool
}{
	{
		reason: "cache writes with no cache_creation TTL split count as 5-minute writes (the default TTL); genai-prices leaves cache_write_5m_tokens empty and prices them at the generic write rate",
		keys:   []string{"cache_write_5m_tokens"},
		applies: func(raw map[string]json.RawMessage) bool {
			_, split := raw["cache_creation"]
			return !split
		},
	},
}

func TestGenaiPricesAnthropic(t *testing.T) {
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
		if !strings.HasPrefix(b.Body.Model, "claude") || len(b.Body.Usage) == 0 {
			continue
		}
		var raw map[string]json.RawMessage
		if json.Unmarshal(b.Body.Usage, &raw) != nil {
			continue
		}
		if _, openai := raw["prompt_tokens"]; openai {
			continue // an OpenAI-compatible gateway's shape, not the Messages API
		}
		var want map[string]int64
		for _, ex := range b.Extracted {
			for _, e := range ex.Extractors {
				if e.ProviderID == "anthropic" && e.APIFlavor == "default" {
					want = ex.Usage
				}
			}
		}
		if want == nil {
			t.Errorf("block %d (%s): genai-prices' anthropic extractor did not apply", i, b.Body.File)
			continue
		}
		total++
		body, _ := json.Marshal(map[string]any{"id": "msg_x", "type": "message", "model": b.Body.Model, "usage": b.Body.Usage})
		r := run(usage.Request{Method: "POST", Path: "/v1/messages", ContentType: "application/json"}, body)
		if !r.Found {
			t.Errorf("block %d (%s): usage not found", i, b.Body.File)
			continue
		}
		got := buckets(r)
		// The same usage streamed (message_start with a provisional output
		// count, then a cumulative message_delta repeating the input side)
		// must give the same buckets.
		stream := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_x\",\"usage\":" +
			string(withOutput(t, b.Body.Usage, 1)) + "}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":" +
			compactJSON(b.Body.Usage) + "}\n\n"
		if rs := run(usage.Request{Method: "POST", Path: "/v1/messages", ContentType: "text/event-stream"}, []byte(stream)); rs.Tokens != r.Tokens || rs.WebSearchRequests != r.WebSearchRequests {
			t.Errorf("block %d: streamed %+v, JSON %+v", i, rs.Tokens, r.Tokens)
		}
		var diff []string
		for k, v := range got {
			if want[k] != v {
				diff = append(diff, k)
			}
		}
		for k := range want {
			if _, known := got[k]; !known {
				t.Errorf("block %d: genai-prices key %q has no SpendOps bucket", i, k)
			}
		}
		if len(diff) == 0 {
			agree++
			continue
		}
		sort.Strings(diff)
		explained := false
		for j, d := range expectedDisagreements {
			if d.applies(raw) && subset(diff, d.keys) {
				hits[j]++
				explained = true
				break
			}
		}
		if !explained {
			t.Errorf("block %d (%s): unexpected disagreement on %v\nusage %s\ngot %v\nwant %v", i, b.Body.File, diff, b.Body.Usage, got, want)
		}
	}
	if total < 100 {
		t.Fatalf("only %d Anthropic blocks found; dataset changed?", total)
	}
	t.Logf("genai-prices Anthropic blocks: %d, exact agreement %d (%.1f%%)", total, agree, 100*float64(agree)/float64(total))
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

func withOutput(t *testing.T, raw json.RawMessage, out int) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["output_tokens"], _ = json.Marshal(out)
	b, _ := json.Marshal(m)
	return b
}
