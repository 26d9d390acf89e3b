package gemini

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/spendops/spendops/internal/usage"
)

// num is a provider token count, parsed from the JSON integer literal so that
// counts never pass through float64. Anything but a non-negative integer
// literal counts as absent (0) instead of failing the whole object.
type num struct {
	v  int64
	ok bool
}

func (n *num) UnmarshalJSON(b []byte) error {
	*n = num{}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err == nil && v >= 0 {
		*n = num{v: v, ok: true}
	}
	return nil
}

type modalityCount struct {
	Modality   string `json:"modality"`
	TokenCount num    `json:"tokenCount"`
}

// usageMetadata is GenerateContentResponse.usageMetadata. Every field may be
// absent (genai-prices found responses without candidatesTokenCount).
type usageMetadata struct {
	PromptTokenCount           num             `json:"promptTokenCount"`
	CachedContentTokenCount    num             `json:"cachedContentTokenCount"`
	CandidatesTokenCount       num             `json:"candidatesTokenCount"`
	ThoughtsTokenCount         num             `json:"thoughtsTokenCount"`
	ToolUsePromptTokenCount    num             `json:"toolUsePromptTokenCount"`
	TotalTokenCount            num             `json:"totalTokenCount"`
	PromptTokensDetails        []modalityCount `json:"promptTokensDetails"`
	CandidatesTokensDetails    []modalityCount `json:"candidatesTokensDetails"`
	ToolUsePromptTokensDetails []modalityCount `json:"toolUsePromptTokensDetails"`
	ServiceTier                string          `json:"serviceTier"`
}

// normalise maps usageMetadata onto SpendOps' OpenAI-style Tokens
// (decisions.md, "Usage and cost"):
//
//   - promptTokenCount already includes cached content; tool-use prompt
//     tokens (tool results fed back to the model) sit outside it and are
//     billed as input: Prompt = promptTokenCount + toolUsePromptTokenCount.
//   - thoughtsTokenCount sits outside candidatesTokenCount and is billed as
//     output: Completion = candidatesTokenCount + thoughtsTokenCount,
//     Reasoning = thoughtsTokenCount.
//   - CacheRead = cachedContentTokenCount. Gemini reports no cache writes
//     (explicit caches are billed as storage).
//   - Modality subsets, as genai-prices maps them: PromptAudio is AUDIO of
//     promptTokensDetails plus toolUsePromptTokensDetails, PromptImage is
//     IMAGE and DOCUMENT (PDF pages are billed as images) of both;
//     CompletionAudio and CompletionImage likewise from
//     candidatesTokensDetails. VIDEO and TEXT have no bucket of their own.
//
// Subsets are capped at their parent so that a malformed report can never
// make an uncached or text remainder negative.
func (u usageMetadata) normalise() (t usage.Tokens, tier string) {
	t.Prompt = add(u.PromptTokenCount.v, u.ToolUsePromptTokenCount.v)
	t.Completion = add(u.CandidatesTokenCount.v, u.ThoughtsTokenCount.v)
	t.Total = add(t.Prompt, t.Completion)
	t.Reasoning = u.ThoughtsTokenCount.v
	t.CacheRead = min(u.CachedContentTokenCount.v, t.Prompt)
	t.PromptAudio = min(add(modality(u.PromptTokensDetails, "AUDIO"), modality(u.ToolUsePromptTokensDetails, "AUDIO")), t.Prompt)
	t.PromptImage = min(add(add(modality(u.PromptTokensDetails, "IMAGE"), modality(u.PromptTokensDetails, "DOCUMENT")),
		add(modality(u.ToolUsePromptTokensDetails, "IMAGE"), modality(u.ToolUsePromptTokensDetails, "DOCUMENT"))), t.Prompt)
	t.CompletionAudio = min(modality(u.CandidatesTokensDetails, "AUDIO"), t.Completion)
	t.CompletionImage = min(add(modality(u.CandidatesTokensDetails, "IMAGE"), modality(u.CandidatesTokensDetails, "DOCUMENT")), t.Completion)
	return t, u.ServiceTier
}

// modality returns the token count of the first entry for m, as
// genai-prices' array-match does (real responses list a modality once).
func modality(details []modalityCount, m string) int64 {
	for _, d := range details {
		if d.Modality == m {
			return d.TokenCount.v
		}
	}
	return 0
}

// add saturates instead of wrapping.
func add(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// decode unmarshals b into v, tolerating wrongly typed members (they are
// left zero) but not malformed JSON.
func decode(b []byte, v any) bool {
	err := json.Unmarshal(b, v)
	if err == nil {
		return true
	}
	_, typeErr := err.(*json.UnmarshalTypeError)
	return typeErr
}

func isObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
}
