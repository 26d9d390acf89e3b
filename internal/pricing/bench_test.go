package pricing

import (
	"testing"

	"github.com/spendops/spendops/internal/usage"
)

func BenchmarkPrice(b *testing.B) {
	en := newTestEngine(b, nil)
	cases := []usage.Event{
		{Provider: "openai", Model: "gpt-4o", ResponseModel: "gpt-4o-2024-08-06", TS: aug2026, Tokens: usage.Tokens{Prompt: 1000, CacheRead: 200, Completion: 100}},
		{Provider: "anthropic", Model: "claude-sonnet-4-5-20250929", TS: aug2026, Tokens: usage.Tokens{Prompt: 1000, Completion: 100}},
		{Provider: "openrouter", Model: "anthropic/claude-4.5-sonnet-20250929", TS: aug2026, Tokens: usage.Tokens{Prompt: 1000, Completion: 100}},
		{Provider: "openai", Model: "unknown-model", TS: aug2026},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e := cases[i%len(cases)]
		en.Price(&e)
	}
}
