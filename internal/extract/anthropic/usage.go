package anthropic

import (
	"github.com/spendops/spendops/internal/extract/internal/wire"
	"github.com/spendops/spendops/internal/usage"
)

// num is a provider token count (wire.Num: parsed without floats, and
// whether it was present and non-null, which the stream merge needs).
type num struct{ wire.Num }

// merge takes o's value when o is present. A zero never replaces a
// non-zero value: the fields are cumulative totals, which cannot fall back
// to zero, and some Anthropic-compatible servers zero-fill fields of
// message_delta that they do not track, which must not erase message_start's
// input count.
func (n *num) merge(o num) {
	if o.OK && (o.V > 0 || n.V == 0) {
		*n = o
	}
}

type cacheCreation struct {
	Ephemeral5m num `json:"ephemeral_5m_input_tokens"`
	Ephemeral1h num `json:"ephemeral_1h_input_tokens"`
}

type serverToolUse struct {
	WebSearchRequests num `json:"web_search_requests"`
	WebFetchRequests  num `json:"web_fetch_requests"`
}

type outputDetails struct {
	ThinkingTokens num `json:"thinking_tokens"`
}

// apiUsage is Anthropic's Usage / MessageDeltaUsage object. Nested objects
// are pointers so that an absent or null object leaves the merged value alone.
type apiUsage struct {
	InputTokens              num            `json:"input_tokens"`
	OutputTokens             num            `json:"output_tokens"`
	CacheCreationInputTokens num            `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     num            `json:"cache_read_input_tokens"`
	CacheCreation            *cacheCreation `json:"cache_creation"`
	ServerToolUse            *serverToolUse `json:"server_tool_use"`
	OutputTokensDetails      *outputDetails `json:"output_tokens_details"`
	ServiceTier              *string        `json:"service_tier"`
}

// parseUsage decodes a usage object. It reports false when raw is not a JSON
// object; wrongly typed members are skipped, not fatal.
func parseUsage(raw []byte) (apiUsage, bool) {
	var u apiUsage
	if !wire.IsObject(raw) {
		return u, false
	}
	if !wire.Decode(raw, &u) {
		return apiUsage{}, false
	}
	return u, true
}

// merge overwrites every field that o carries (present and non-null), the
// rule for message_delta usage: its fields are cumulative totals, so the
// latest value replaces the earlier one and nothing is ever added.
func (u *apiUsage) merge(o apiUsage) {
	u.InputTokens.merge(o.InputTokens)
	u.OutputTokens.merge(o.OutputTokens)
	u.CacheCreationInputTokens.merge(o.CacheCreationInputTokens)
	u.CacheReadInputTokens.merge(o.CacheReadInputTokens)
	if o.CacheCreation != nil {
		if u.CacheCreation == nil {
			u.CacheCreation = &cacheCreation{}
		}
		u.CacheCreation.Ephemeral5m.merge(o.CacheCreation.Ephemeral5m)
		u.CacheCreation.Ephemeral1h.merge(o.CacheCreation.Ephemeral1h)
	}
	if o.ServerToolUse != nil {
		if u.ServerToolUse == nil {
			u.ServerToolUse = &serverToolUse{}
		}
		u.ServerToolUse.WebSearchRequests.merge(o.ServerToolUse.WebSearchRequests)
		u.ServerToolUse.WebFetchRequests.merge(o.ServerToolUse.WebFetchRequests)
	}
	if o.OutputTokensDetails != nil {
		if u.OutputTokensDetails == nil {
			u.OutputTokensDetails = &outputDetails{}
		}
		u.OutputTokensDetails.ThinkingTokens.merge(o.OutputTokensDetails.ThinkingTokens)
	}
	if o.ServiceTier != nil {
		u.ServiceTier = o.ServiceTier
	}
}

// normalise maps Anthropic's additive buckets onto SpendOps' OpenAI-style
// Tokens (decisions.md, "Usage and cost"):
//
//   - input_tokens excludes cache reads and writes, so Prompt is the sum of
//     input_tokens, cache_read_input_tokens and cache_creation_input_tokens;
//     each is taken once from the merged usage, which is what keeps a stream's
//     cache creation from being counted twice (Bifrost #3451, LiteLLM #9812).
//   - CacheWrite is cache_creation_input_tokens. Its TTL split comes from
//     cache_creation.ephemeral_5m/1h_input_tokens; creation tokens the split
//     does not cover (older responses have no split) are counted as 5-minute
//     writes, the default TTL. If the split sums to more than the total, the
//     split wins and CacheWrite grows to match.
//   - Completion is output_tokens, which already includes thinking; Reasoning
//     is output_tokens_details.thinking_tokens when present.
func (u apiUsage) normalise() (t usage.Tokens, webSearches int64, tier string) {
	var w5, w1 int64
	if u.CacheCreation != nil {
		w5, w1 = u.CacheCreation.Ephemeral5m.V, u.CacheCreation.Ephemeral1h.V
	}
	write := u.CacheCreationInputTokens.V
	if split := wire.Add(w5, w1); write < split {
		write = split
	} else {
		w5 = wire.Add(w5, write-split)
	}
	t.CacheRead = u.CacheReadInputTokens.V
	t.CacheWrite = write
	t.CacheWrite5m = w5
	t.CacheWrite1h = w1
	t.Prompt = wire.Add(wire.Add(u.InputTokens.V, t.CacheRead), t.CacheWrite)
	t.Completion = u.OutputTokens.V
	if u.OutputTokensDetails != nil {
		t.Reasoning = min(u.OutputTokensDetails.ThinkingTokens.V, t.Completion)
	}
	t.Total = wire.Add(t.Prompt, t.Completion)
	if u.ServerToolUse != nil {
		webSearches = u.ServerToolUse.WebSearchRequests.V
	}
	if u.ServiceTier != nil {
		tier = *u.ServiceTier
	}
	return t, webSearches, tier
}
