package gemini

import (
	"github.com/spendops/spendops/internal/extract/internal/wire"
	"github.com/spendops/spendops/internal/usage"
)

type modalityCount struct {
	Modality   string   `json:"modality"`
	TokenCount wire.Num `json:"tokenCount"`
}

// usageMetadata is GenerateContentResponse.usageMetadata. Every field may be
// absent (genai-prices found responses without candidatesTokenCount).
type usageMetadata struct {
	PromptTokenCount           wire.Num        `json:"promptTokenCount"`
	CachedContentTokenCount    wire.Num        `json:"cachedContentTokenCount"`
	CandidatesTokenCount       wire.Num        `json:"candidatesTokenCount"`
	ThoughtsTokenCount         wire.Num        `json:"thoughtsTokenCount"`
	ToolUsePromptTokenCount    wire.Num        `json:"toolUsePromptTokenCount"`
	TotalTokenCount            wire.Num        `json:"totalTokenCount"`
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
	t.Prompt = wire.Add(u.PromptTokenCount.V, u.ToolUsePromptTokenCount.V)
	t.Completion = wire.Add(u.CandidatesTokenCount.V, u.ThoughtsTokenCount.V)
	t.Total = wire.Add(t.Prompt, t.Completion)
	t.Reasoning = u.ThoughtsTokenCount.V
	t.CacheRead = min(u.CachedContentTokenCount.V, t.Prompt)
	t.PromptAudio = min(wire.Add(modality(u.PromptTokensDetails, "AUDIO"), modality(u.ToolUsePromptTokensDetails, "AUDIO")), t.Prompt)
	t.PromptImage = min(wire.Add(wire.Add(modality(u.PromptTokensDetails, "IMAGE"), modality(u.PromptTokensDetails, "DOCUMENT")),
		wire.Add(modality(u.ToolUsePromptTokensDetails, "IMAGE"), modality(u.ToolUsePromptTokensDetails, "DOCUMENT"))), t.Prompt)
	t.CompletionAudio = min(modality(u.CandidatesTokensDetails, "AUDIO"), t.Completion)
	t.CompletionImage = min(wire.Add(modality(u.CandidatesTokensDetails, "IMAGE"), modality(u.CandidatesTokensDetails, "DOCUMENT")), t.Completion)
	return t, u.ServiceTier
}

// modality returns the token count of the first entry for m, as
// genai-prices' array-match does (real responses list a modality once).
func modality(details []modalityCount, m string) int64 {
	for _, d := range details {
		if d.Modality == m {
			return d.TokenCount.V
		}
	}
	return 0
}
