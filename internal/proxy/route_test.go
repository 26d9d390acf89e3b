package proxy

import (
	"testing"

	"github.com/spendops/spendops/internal/provider"
)

// Every provider route, the alias, and every documented SDK base URL
// (aso-docs.md 2.15-2.28) reach the provider's real endpoint.
func TestUpstreamURLs(t *testing.T) {
	reg, err := provider.New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		clientPath string // as the client sends it, query included
		want       string
	}{
		// OpenAI SDK base .../v1/openai/v1
		{"/v1/openai/v1/chat/completions", "https://api.openai.com/v1/chat/completions"},
		{"/v1/openai/v1/embeddings", "https://api.openai.com/v1/embeddings"},
		{"/v1/openai/v1/models", "https://api.openai.com/v1/models"},
		{"/v1/openai/v1/responses?stream=true", "https://api.openai.com/v1/responses?stream=true"},
		{"/v1/openai/v1/files/file-abc/content", "https://api.openai.com/v1/files/file-abc/content"},
		// Anthropic SDK base .../v1/anthropic
		{"/v1/anthropic/v1/messages", "https://api.anthropic.com/v1/messages"},
		{"/v1/anthropic/v1/messages/count_tokens", "https://api.anthropic.com/v1/messages/count_tokens"},
		{"/v1/anthropic/v1/messages?beta=true", "https://api.anthropic.com/v1/messages?beta=true"},
		// Google SDK base .../v1/google, OpenAI SDK .../v1/google/v1beta/openai
		{"/v1/google/v1beta/models/gemini-2.0-flash:generateContent", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent"},
		{"/v1/google/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&key=k", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&key=k"},
		{"/v1/google/v1beta/openai/chat/completions", "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions"},
		{"/v1/google-ai-studio/v1beta/models/gemini-2.0-flash:generateContent", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent"},
		{"/v1/google-ai-studio/v1beta/openai/chat/completions", "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions"},
		// OpenAI-compatible hosts: SDK base .../v1/{provider}/v1
		{"/v1/openrouter/v1/chat/completions", "https://openrouter.ai/api/v1/chat/completions"},
		{"/v1/xai/v1/chat/completions", "https://api.x.ai/v1/chat/completions"},
		{"/v1/groq/v1/chat/completions", "https://api.groq.com/openai/v1/chat/completions"},
		{"/v1/deepseek/v1/chat/completions", "https://api.deepseek.com/v1/chat/completions"},
		{"/v1/mistral/v1/chat/completions", "https://api.mistral.ai/v1/chat/completions"},
		{"/v1/perplexity/v1/chat/completions", "https://api.perplexity.ai/v1/chat/completions"},
		{"/v1/fireworks/v1/chat/completions", "https://api.fireworks.ai/inference/v1/chat/completions"},
		{"/v1/cerebras/v1/chat/completions", "https://api.cerebras.ai/v1/chat/completions"},
		{"/v1/nebius/v1/chat/completions", "https://api.tokenfactory.nebius.com/v1/chat/completions"},
		// DeepInfra and Novita: the base already is the OpenAI root, so the
		// SDK's /v1 is dropped (provider.Definition.StripPrefix).
		{"/v1/deepinfra/v1/chat/completions", "https://api.deepinfra.com/v1/openai/chat/completions"},
		{"/v1/deepinfra/chat/completions", "https://api.deepinfra.com/v1/openai/chat/completions"},
		{"/v1/deepinfra/v1/embeddings", "https://api.deepinfra.com/v1/openai/embeddings"},
		{"/v1/novita/v1/chat/completions", "https://api.novita.ai/v3/openai/chat/completions"},
		{"/v1/novita/chat/completions", "https://api.novita.ai/v3/openai/chat/completions"},
		{"/v1/novita/v1models", "https://api.novita.ai/v3/openai/v1models"}, // prefix strips only a whole segment
		// z.ai SDK base .../v1/zai (no /v1)
		{"/v1/zai/chat/completions", "https://api.z.ai/api/paas/v4/chat/completions"},
		// Escapes that are legitimate stay verbatim.
		{"/v1/openai/v1/files/a%20b", "https://api.openai.com/v1/files/a%20b"},
		{"/v1/openai", "https://api.openai.com"},
	}
	for _, tt := range tests {
		t.Run(tt.clientPath, func(t *testing.T) {
			path, query, _ := cutQuery(tt.clientPath)
			name, rest, err := splitRoute(path)
			if err != nil {
				t.Fatalf("splitRoute: %v", err)
			}
			if err := checkRest(rest); err != nil {
				t.Fatalf("checkRest(%q): %v", rest, err)
			}
			p, ok := reg.Lookup(name)
			if !ok {
				t.Fatalf("no provider %q", name)
			}
			u, err := upstreamURL(p, rest, query)
			if err != nil {
				t.Fatal(err)
			}
			if got := u.String(); got != tt.want {
				t.Fatalf("upstream = %s, want %s", got, tt.want)
			}
		})
	}
	if n := len(reg.Names()); n != 15 {
		t.Fatalf("registry has %d providers, want 15", n)
	}
}

func cutQuery(s string) (path, query string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func TestSplitRoute(t *testing.T) {
	tests := []struct {
		path, name, rest string
		err              error
	}{
		{"/v1/openai/v1/x", "openai", "/v1/x", nil},
		{"/v1/openai", "openai", "", nil},
		{"/v1/", "", "", errUnknownProvider},
		{"/v1", "", "", errUnknownProvider},
		{"/v2/openai/x", "", "", errNotProxyPath},
		{"/", "", "", errNotProxyPath},
	}
	for _, tt := range tests {
		name, rest, err := splitRoute(tt.path)
		if name != tt.name || rest != tt.rest || err != tt.err {
			t.Errorf("splitRoute(%q) = %q, %q, %v; want %q, %q, %v", tt.path, name, rest, err, tt.name, tt.rest, tt.err)
		}
	}
}

// Path-escape attempts: each is rejected before anything is sent.
var escapePaths = []string{
	"/../x", "/v1/../../x", "/v1/..", "/./x", "/%2e%2e/x", "/%2E%2E/x", "/.%2e/x", "/%2e./x",
	"/v1%2f..%2fx", "/v1%2F..", "//evil.example/x", "/v1//x", "/@evil.example/x", "/v1@evil/x",
	"/v1\\..\\x", "/v1%5c..%5cx", "/v1/x%00", "/v1/\x00x", "/v1/%252e%252e/x", "/v1/x\r\nHost: evil",
	"/v1/%40evil", "/v1/\x7f", "/v1/caf\xc3\xa9",
}

func TestCheckRestRejects(t *testing.T) {
	for _, p := range escapePaths {
		if err := checkRest(p); err == nil {
			t.Errorf("checkRest(%q) accepted", p)
		}
	}
	for _, ok := range []string{"", "/v1/chat/completions", "/v1beta/models/gemini-2.5-flash:streamGenerateContent", "/v1/files/file-1/content", "/v1/a%20b", "/v1/x.y/z..w"} {
		if err := checkRest(ok); err != nil {
			t.Errorf("checkRest(%q) = %v, want ok", ok, err)
		}
	}
}
