package pricing

import (
	"testing"
	"time"

	"github.com/spendops/spendops/internal/provider"
)

// Names that must stay unpriced rather than borrow a neighbour's price.
func TestLookupNoFalseMatch(t *testing.T) {
	c := mustLoad(t)
	for _, tt := range [][2]string{{"openai", "gpt-4o-mini-foo"}, {"openai", ""}, {"anthropic", "gpt-4o"}, {"my-vllm", "gpt-4o"}} {
		if mp, ok := c.Lookup(tt[0], tt[1], aug2026); ok {
			t.Errorf("%v matched %s/%s", tt, mp.Provider, mp.Model.ID)
		}
	}
}

func mustLoad(t testing.TB) *Catalog {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The example models of the provider pages (aso-docs.md 2.15–2.28) and the
// names responses really carry must all resolve.
func TestLookupProviderPageModels(t *testing.T) {
	c := mustLoad(t)
	at := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct{ provider, model, want string }{
		{"openai", "gpt-4o", "gpt-4o"},
		{"openai", "gpt-4o-2024-08-06", "gpt-4o"},
		{"anthropic", "claude-sonnet-4-20250514", "claude-sonnet-4-0"},
		{"google", "gemini-2.0-flash", "gemini-2.0-flash"},
		{"google", "models/gemini-2.0-flash", "gemini-2.0-flash"},
		{"openrouter", "anthropic/claude-sonnet-4-20250514", ""},
		{"xai", "grok-3", "grok-3"},
		{"groq", "llama-3.3-70b-versatile", "llama-3.3-70b-versatile"},
		{"deepinfra", "meta-llama/Llama-3.3-70B-Instruct", "meta-llama/Llama-3.3-70B-Instruct"},
		{"deepseek", "deepseek-chat", "deepseek-chat"},
		{"mistral", "mistral-large-latest", ""},
		{"perplexity", "sonar-pro", "sonar-pro"},
		{"fireworks", "accounts/fireworks/models/llama-v3p3-70b-instruct", ""},
		{"cerebras", "llama-3.3-70b", ""},
		{"nebius", "meta-llama/Llama-3.3-70B-Instruct", ""},
		{"zai", "glm-4.5", "glm-4.5"},
		{"novita", "meta-llama/llama-3.3-70b-instruct", ""},
		// normalisation: case, provider prefixes, dated snapshots, OpenRouter vendor ids
		{"openai", "GPT-4O", "gpt-4o"},
		{"openai", "openai/gpt-4o", "gpt-4o"},
		{"openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"},
		{"openai", "gpt-5-mini-2025-08-07", "gpt-5-mini"},
		{"google", "gemini/gemini-2.0-flash", "gemini-2.0-flash"},
		{"google", "gemini-2.5-pro-preview-06-05", "gemini-2.5-pro"},
		{"google-ai-studio", "gemini-2.0-flash", "gemini-2.0-flash"},
		{"anthropic", "claude-3-5-haiku-20241022", "claude-3-5-haiku-latest"},
		{"anthropic", "claude-opus-4-1-20250805", "claude-opus-4-1"},
		{"openrouter", "openai/gpt-4o", "openai/gpt-4o"},
		{"openrouter", "anthropic/claude-sonnet-4.5:beta", "anthropic/claude-sonnet-4.5"},
		{"openrouter", "o1-mini-2024-09-12", "o1-mini"},
		{"mistral", "mistral-small-2506", ""},
	}
	for _, tt := range tests {
		mp, ok := c.Lookup(provider.Canonical(tt.provider), tt.model, at)
		if !ok {
			t.Errorf("%s %s: no price", tt.provider, tt.model)
			continue
		}
		if tt.want != "" && mp.Model.ID != tt.want {
			t.Errorf("%s %s: matched %s, want %s", tt.provider, tt.model, mp.Model.ID, tt.want)
		}
		t.Logf("%s %s -> %s/%s", tt.provider, tt.model, mp.Provider, mp.Model.ID)
	}
}
