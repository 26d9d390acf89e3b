package openai

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/spendops/spendops/internal/usage"
)

// count is a token count that tolerates the shapes providers send: integers,
// integral floats ("12.0"), numeric strings and null (zero). A count that is
// not a number at all decodes as zero instead of failing the whole usage
// object.
type count int64

func (c *count) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `" `)
	if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		*c = count(n)
		return nil
	}
	if d, err := decimal.NewFromString(string(b)); err == nil {
		*c = count(d.IntPart())
	}
	return nil
}

// rawUsage is the union of the usage objects the OpenAI dialect sends: chat
// and legacy completions (prompt/completion), Responses, images and
// transcriptions (input/output), and each host's extras.
type rawUsage struct {
	PromptTokens     *count `json:"prompt_tokens"`
	CompletionTokens *count `json:"completion_tokens"`
	TotalTokens      *count `json:"total_tokens"`
	PromptDetails    struct {
		Cached     count `json:"cached_tokens"`
		CacheWrite count `json:"cache_write_tokens"`
		Audio      count `json:"audio_tokens"`
		Image      count `json:"image_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionDetails struct {
		Reasoning count `json:"reasoning_tokens"`
		Audio     count `json:"audio_tokens"`
		Image     count `json:"image_tokens"`
	} `json:"completion_tokens_details"`

	InputTokens  *count `json:"input_tokens"`
	OutputTokens *count `json:"output_tokens"`
	InputDetails struct {
		Cached     count `json:"cached_tokens"`
		CacheWrite count `json:"cache_write_tokens"`
		Audio      count `json:"audio_tokens"`
		Image      count `json:"image_tokens"`
	} `json:"input_tokens_details"`
	// Transcriptions spell it in the singular.
	InputTokenDetails struct {
		Audio count `json:"audio_tokens"`
	} `json:"input_token_details"`
	OutputDetails struct {
		Reasoning count  `json:"reasoning_tokens"`
		Image     *count `json:"image_tokens"`
	} `json:"output_tokens_details"`

	// Transcriptions billed by time: {type:"duration", seconds}.
	Type    string          `json:"type"`
	Seconds json.RawMessage `json:"seconds"`

	// DeepSeek.
	CacheHit  *count `json:"prompt_cache_hit_tokens"`
	CacheMiss *count `json:"prompt_cache_miss_tokens"`
	// Mistral.
	NumCached count `json:"num_cached_tokens"`
	// Anthropic's OpenAI-compatible endpoint and some routers: top level.
	TopCached count `json:"cached_tokens"`
	// Perplexity (reasoning_tokens at the top level: Sonar Deep Research).
	Reasoning        *count `json:"reasoning_tokens"`
	NumSearchQueries count  `json:"num_search_queries"`

	// Reported costs: xAI ticks, OpenRouter number, Perplexity object,
	// DeepInfra estimate.
	CostTicks     json.RawMessage `json:"cost_in_usd_ticks"`
	Cost          json.RawMessage `json:"cost"`
	IsBYOK        bool            `json:"is_byok"`
	CostDetails   json.RawMessage `json:"cost_details"`
	EstimatedCost json.RawMessage `json:"estimated_cost"`
}

// normalized is what one usage object says, in usage.Report's terms.
type normalized struct {
	tokens       usage.Tokens
	ok           bool // the object held token counts (or billed seconds)
	cost         *decimal.Decimal
	webSearches  int64
	audioSeconds decimal.Decimal
}

// quirks are the per-host differences in what the counts mean.
type quirks struct {
	// reasoningOutside: completion_tokens may exclude
	// completion_tokens_details.reasoning_tokens (xAI).
	reasoningOutside bool
	// topReasoning: a top-level reasoning_tokens is billed output beside
	// completion_tokens (Perplexity Sonar Deep Research; total_tokens
	// leaves it out, so the total cannot tell).
	topReasoning bool
	// thinkingInTotal: completion_tokens may omit thinking that total_tokens
	// includes (Gemini's OpenAI-compatible endpoint).
	thinkingInTotal bool
	// imageOutput: output tokens with no detail are image tokens
	// (gpt-image models on /images).
	imageOutput bool
	// audioOutput: output tokens are audio tokens (/audio/speech).
	audioOutput bool
}

func normalize(raw json.RawMessage, q quirks) normalized {
	var n normalized
	var u rawUsage
	if len(raw) == 0 || json.Unmarshal(raw, &u) != nil {
		return n
	}
	t := &n.tokens
	switch {
	case u.PromptTokens != nil || u.CompletionTokens != nil || u.CacheHit != nil:
		n.ok = true
		t.Prompt = int64(deref(u.PromptTokens))
		if u.PromptTokens == nil && u.CacheHit != nil && u.CacheMiss != nil {
			t.Prompt = int64(*u.CacheHit + *u.CacheMiss)
		}
		t.Completion = int64(deref(u.CompletionTokens))
		t.CacheRead = int64(u.PromptDetails.Cached)
		if u.CacheHit != nil && int64(*u.CacheHit) > t.CacheRead {
			t.CacheRead = int64(*u.CacheHit)
		}
		if t.CacheRead == 0 {
			t.CacheRead = int64(max(u.NumCached, u.TopCached))
		}
		t.CacheWrite = int64(u.PromptDetails.CacheWrite)
		t.PromptAudio = int64(u.PromptDetails.Audio)
		t.PromptImage = int64(u.PromptDetails.Image)
		t.Reasoning = int64(u.CompletionDetails.Reasoning)
		t.CompletionAudio = int64(u.CompletionDetails.Audio)
		t.CompletionImage = int64(u.CompletionDetails.Image)
		if q.topReasoning && u.Reasoning != nil && *u.Reasoning > 0 {
			t.Reasoning += int64(*u.Reasoning)
			t.Completion += int64(*u.Reasoning)
		}
	case u.InputTokens != nil || u.OutputTokens != nil:
		n.ok = true
		t.Prompt = int64(deref(u.InputTokens))
		t.Completion = int64(deref(u.OutputTokens))
		t.CacheRead = int64(u.InputDetails.Cached)
		t.CacheWrite = int64(u.InputDetails.CacheWrite)
		t.PromptAudio = int64(u.InputDetails.Audio)
		if t.PromptAudio == 0 {
			t.PromptAudio = int64(u.InputTokenDetails.Audio)
		}
		t.PromptImage = int64(u.InputDetails.Image)
		t.Reasoning = int64(u.OutputDetails.Reasoning)
		if u.OutputDetails.Image != nil {
			t.CompletionImage = int64(*u.OutputDetails.Image)
		} else if q.imageOutput {
			t.CompletionImage = t.Completion
		}
		if q.audioOutput {
			t.CompletionAudio = t.Completion
		}
	case u.Type == "duration" && len(u.Seconds) > 0:
		if d, err := decimal.NewFromString(string(bytes.Trim(u.Seconds, `"`))); err == nil {
			n.ok = true
			n.audioSeconds = d
		}
	}
	if n.ok && u.TotalTokens != nil {
		reported := int64(*u.TotalTokens)
		sum := t.Prompt + t.Completion
		switch {
		case q.reasoningOutside && t.Reasoning > 0 && reported != sum:
			// xAI documents completion_tokens without reasoning
			// (prompt + completion + reasoning = total). Trust that unless
			// the total shows reasoning already inside completion.
			t.Completion += t.Reasoning
		case q.thinkingInTotal && reported > sum:
			// Gemini's OpenAI-compatible endpoint has been seen reporting
			// completion_tokens without thinking while total_tokens counts
			// it: the difference is thinking, billed as output.
			extra := reported - sum
			if t.Reasoning < extra {
				t.Reasoning = extra
			}
			t.Completion += extra
		}
	} else if n.ok && q.reasoningOutside && t.Reasoning > 0 {
		t.Completion += t.Reasoning
	}
	t.Total = t.Prompt + t.Completion
	n.webSearches = int64(u.NumSearchQueries)
	n.cost = reportedCost(&u)
	return n
}

func deref(c *count) count {
	if c == nil {
		return 0
	}
	return *c
}

// reportedCost reads the cost a host reported, exactly from the JSON number
// text. xAI ticks are 1e-10 USD. OpenRouter's cost is its charge in credits
// (1 credit = 1 USD); with bring-your-own-key the upstream provider charges
// the key separately (cost_details.upstream_inference_cost), so both are
// added: that is what the request cost the team.
func reportedCost(u *rawUsage) *decimal.Decimal {
	if d, ok := decimalOf(u.CostTicks); ok {
		d = d.Shift(-10)
		return &d
	}
	if d, ok := decimalOf(u.Cost); ok {
		if u.IsBYOK {
			var cd struct {
				Upstream json.RawMessage `json:"upstream_inference_cost"`
			}
			if json.Unmarshal(u.CostDetails, &cd) == nil {
				if up, ok := decimalOf(cd.Upstream); ok {
					d = d.Add(up)
				}
			}
		}
		return &d
	}
	if len(u.Cost) > 0 && u.Cost[0] == '{' {
		var pc struct {
			Total json.RawMessage `json:"total_cost"`
		}
		if json.Unmarshal(u.Cost, &pc) == nil {
			if d, ok := decimalOf(pc.Total); ok {
				return &d
			}
		}
	}
	if d, ok := decimalOf(u.EstimatedCost); ok {
		return &d
	}
	return nil
}

// decimalOf parses a JSON number (or numeric string) exactly.
func decimalOf(raw json.RawMessage) (decimal.Decimal, bool) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" || s[0] == '{' || s[0] == '[' {
		return decimal.Decimal{}, false
	}
	s = strings.Trim(s, `"`)
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, false
	}
	return d, true
}
