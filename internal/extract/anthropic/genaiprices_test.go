package anthropic

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/spendops/spendops/internal/extract/extracttest"
	"github.com/spendops/spendops/internal/extract/internal/wire"
	"github.com/spendops/spendops/internal/usage"
)

// buckets are the genai-prices usage keys and the Report fields they match:
// the shared ones and the cache write TTL split.
func buckets(r usage.Report) map[string]int64 {
	m := extracttest.Buckets(r)
	m["cache_write_5m_tokens"] = r.Tokens.CacheWrite5m
	m["cache_write_1h_tokens"] = r.Tokens.CacheWrite1h
	return m
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
	blocks := extracttest.GenaiUsages(t)
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
		want := b.Want("anthropic", "default")
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
			wire.CompactJSON(b.Body.Usage) + "}\n\n"
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
			if d.applies(raw) && extracttest.Subset(diff, d.keys) {
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

func withOutput(t *testing.T, raw json.RawMessage, out int) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["output_tokens"], _ = json.Marshal(out)
	b, _ := json.Marshal(m)
	return b
}
