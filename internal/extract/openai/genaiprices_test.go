package openai

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/spendops/spendops/internal/extract/extracttest"
	"github.com/spendops/spendops/internal/extract/internal/wire"
	"github.com/spendops/spendops/internal/usage"
)

// flavour maps a genai-prices extractor (provider_id, api_flavor) of the
// OpenAI dialect to the SpendOps provider and upstream path it stands for.
// The huggingface_* router rows stand in for Nebius and Novita, which have no
// extractor of their own there.
var flavours = map[string]struct{ provider, path string }{
	"openai/chat":                   {"openai", "/v1/chat/completions"},
	"openai/responses":              {"openai", "/v1/responses"},
	"openai/embeddings":             {"openai", "/v1/embeddings"},
	"x-ai/chat":                     {"xai", "/v1/chat/completions"},
	"groq/default":                  {"groq", "/openai/v1/chat/completions"},
	"deepseek/chat":                 {"deepseek", "/chat/completions"},
	"perplexity/default":            {"perplexity", "/chat/completions"},
	"openrouter/chat":               {"openrouter", "/api/v1/chat/completions"},
	"mistral/default":               {"mistral", "/v1/chat/completions"},
	"cerebras/chat":                 {"cerebras", "/v1/chat/completions"},
	"fireworks/chat":                {"fireworks", "/inference/v1/chat/completions"},
	"zai/chat":                      {"zai", "/api/paas/v4/chat/completions"},
	"google/chat":                   {"google", "/v1beta/openai/chat/completions"},
	"anthropic/chat":                {"anthropic", "/v1/chat/completions"},
	"huggingface_nebius/chat":       {"nebius", "/v1/chat/completions"},
	"huggingface_novita/chat":       {"novita", "/openai/v1/chat/completions"},
	"huggingface_fireworks-ai/chat": {"fireworks", "/inference/v1/chat/completions"},
}

// expectedDiffs lists every class of disagreement with genai-prices'
// extractors that is on purpose. A disagreement matching none fails the
// test. Each class names the bucket, the flavours it applies to, and why.
var expectedDiffs = []struct {
	name, why string
	match     func(flavour, bucket string, u map[string]json.RawMessage, ours, theirs int64) bool
}{
	{"xai-total-proves-reasoning-included",
		"genai-prices' x-ai chat extractor always adds reasoning_tokens to output; we add it only when " +
			"total_tokens does not already equal prompt+completion (true for xAI's own responses, false for " +
			"the OpenAI/Groq/OpenRouter-recorded blocks the dataset also runs through it)",
		func(fl, b string, u map[string]json.RawMessage, ours, theirs int64) bool {
			return fl == "x-ai/chat" && b == "output_tokens" && theirs-ours == num(u, "completion_tokens_details", "reasoning_tokens") &&
				num(u, "total_tokens") == num(u, "prompt_tokens")+num(u, "completion_tokens")
		}},
	{"gemini-compat-thinking-from-total",
		"Gemini's OpenAI-compatible endpoint can leave thinking out of completion_tokens; we add " +
			"total-prompt-completion to output (and reasoning); genai-prices reads completion_tokens only",
		func(fl, b string, u map[string]json.RawMessage, ours, theirs int64) bool {
			gap := num(u, "total_tokens") - num(u, "prompt_tokens") - num(u, "completion_tokens")
			return fl == "google/chat" && gap > 0 && (b == "output_tokens" || b == "output_reasoning_tokens") && ours-theirs <= gap
		}},
	{"mistral-num-cached-tokens",
		"Mistral reports cache hits as num_cached_tokens (a subset of prompt_tokens); no genai-prices " +
			"extractor reads it; we read it whatever the host",
		func(fl, b string, u map[string]json.RawMessage, ours, theirs int64) bool {
			return b == "cache_read_tokens" && theirs == 0 && ours == num(u, "num_cached_tokens")
		}},
	{"generic-details-for-every-host",
		"we read prompt_tokens_details.{cached,cache_write,audio,image}_tokens and completion_tokens_details." +
			"{reasoning,audio,image}_tokens for every host (the fields mean the same everywhere); some genai-prices " +
			"extractors map only a subset",
		func(fl, b string, u map[string]json.RawMessage, ours, theirs int64) bool {
			if theirs != 0 {
				return false
			}
			switch b {
			case "cache_read_tokens":
				return ours == num(u, "prompt_tokens_details", "cached_tokens")
			case "output_reasoning_tokens":
				return ours == num(u, "completion_tokens_details", "reasoning_tokens")
			case "cache_write_tokens":
				return ours == num(u, "prompt_tokens_details", "cache_write_tokens") || ours == num(u, "input_tokens_details", "cache_write_tokens")
			case "input_audio_tokens":
				return ours == num(u, "prompt_tokens_details", "audio_tokens")
			case "output_audio_tokens":
				return ours == num(u, "completion_tokens_details", "audio_tokens")
			case "input_image_tokens":
				return ours == num(u, "prompt_tokens_details", "image_tokens")
			case "output_image_tokens":
				return ours == num(u, "completion_tokens_details", "image_tokens")
			}
			return false
		}},
	{"embeddings-flavour-on-chat-blocks",
		"genai-prices' embeddings extractor reads only prompt_tokens; the dataset runs chat usage blocks " +
			"through it, whose completion and detail counts we keep (a body on /embeddings that reports " +
			"them would be billed for them)",
		func(fl, b string, u map[string]json.RawMessage, ours, theirs int64) bool {
			return fl == "openai/embeddings" && b != "input_tokens" && theirs == 0
		}},
	{"deepseek-cache-hit-for-every-host",
		"prompt_cache_hit_tokens (DeepSeek's name for cache reads) is read whatever the host",
		func(fl, b string, u map[string]json.RawMessage, ours, theirs int64) bool {
			return b == "cache_read_tokens" && ours == num(u, "prompt_cache_hit_tokens") && theirs < ours
		}},
	{"perplexity-citation-tokens",
		"genai-prices adds Perplexity citation_tokens to output; Tokens has no citation bucket and " +
			"Perplexity's reported usage.cost.total_cost prices them, so we leave them in Raw",
		func(fl, b string, u map[string]json.RawMessage, ours, theirs int64) bool {
			return fl == "perplexity/default" && b == "output_tokens" && theirs-ours == num(u, "citation_tokens")
		}},
}

// num reads an integer at a path in a usage object (0 when absent).
func num(u map[string]json.RawMessage, path ...string) int64 {
	raw, ok := u[path[0]]
	if !ok {
		return 0
	}
	if len(path) > 1 {
		var inner map[string]json.RawMessage
		if json.Unmarshal(raw, &inner) != nil {
			return 0
		}
		return num(inner, path[1:]...)
	}
	var c count
	_ = json.Unmarshal(raw, &c)
	return int64(c)
}

// TestGenAIPricesDataset runs every usage block of genai-prices' dataset
// (1,577 blocks from recorded pydantic-ai cassettes) that an OpenAI-dialect
// extractor of theirs accepted through New, wrapped in a response body of
// the flavour's endpoint, and compares our normalised buckets with theirs.
func TestGenAIPricesDataset(t *testing.T) {
	blocks := extracttest.GenaiUsages(t)
	pairs, agree := 0, 0
	perFlavour := map[string][2]int{}
	classes := map[string]int{}
	var unexpected []string
	for _, b := range blocks {
		if len(b.Body.Usage) == 0 || b.Body.Usage[0] != '{' {
			continue
		}
		var u map[string]json.RawMessage
		if json.Unmarshal(b.Body.Usage, &u) != nil {
			continue
		}
		for _, ex := range b.Extracted {
			for _, x := range ex.Extractors {
				fl := x.ProviderID + "/" + x.APIFlavor
				target, ok := flavours[fl]
				if !ok {
					continue
				}
				req := usage.Request{Provider: target.provider, Method: "POST", Path: target.path,
					StatusCode: 200, ContentType: "application/json"}
				r := extract(req, wrapUsage(target.path, b.Body.Model, b.Body.Usage))
				pairs++
				ok = true
				if !r.Found && len(ex.Usage) > 0 {
					ok = false
					unexpected = append(unexpected, fmt.Sprintf("%s %s: usage not found", fl, b.Body.File))
				}
				got := extracttest.Buckets(r)
				for _, key := range extracttest.BucketKeys {
					ours, theirs := got[key], ex.Usage[key]
					if ours == theirs {
						continue
					}
					ok = false
					class := ""
					for _, d := range expectedDiffs {
						if d.match(fl, key, u, ours, theirs) {
							class = d.name
							break
						}
					}
					if class == "" {
						unexpected = append(unexpected, fmt.Sprintf("%s %s %s: ours %d theirs %d usage %s",
							fl, filepath.Base(b.Body.File), key, ours, theirs, wire.CompactJSON(b.Body.Usage)))
						continue
					}
					classes[class]++
				}
				c := perFlavour[fl]
				c[1]++
				if ok {
					agree++
					c[0]++
				}
				perFlavour[fl] = c
			}
		}
	}
	if pairs < 1000 {
		t.Fatalf("only %d block/extractor pairs compared; dataset shape changed?", pairs)
	}
	t.Logf("genai-prices agreement: %d of %d block/extractor pairs (%.1f%%) agree on every bucket",
		agree, pairs, 100*float64(agree)/float64(pairs))
	var fls []string
	for fl := range perFlavour {
		fls = append(fls, fl)
	}
	sort.Strings(fls)
	for _, fl := range fls {
		c := perFlavour[fl]
		t.Logf("  %-32s %4d/%4d", fl, c[0], c[1])
	}
	for _, d := range expectedDiffs {
		t.Logf("  expected difference %-38s %4d buckets: %s", d.name, classes[d.name], d.why)
	}
	if len(unexpected) > 0 {
		if len(unexpected) > 30 {
			unexpected = append(unexpected[:30], fmt.Sprintf("... and %d more", len(unexpected)-30))
		}
		t.Errorf("%d unexpected disagreements:\n%s", len(unexpected), strings.Join(unexpected, "\n"))
	}
}

func wrapUsage(path, model string, u json.RawMessage) []byte {
	m, _ := json.Marshal(model)
	switch {
	case strings.HasSuffix(path, "/responses"):
		return []byte(`{"id":"resp_1","object":"response","status":"completed","model":` + string(m) + `,"output":[],"usage":` + string(u) + `}`)
	case strings.HasSuffix(path, "/embeddings"):
		return []byte(`{"object":"list","data":[],"model":` + string(m) + `,"usage":` + string(u) + `}`)
	}
	return []byte(`{"id":"chatcmpl-1","object":"chat.completion","model":` + string(m) + `,"choices":[],"usage":` + string(u) + `}`)
}
