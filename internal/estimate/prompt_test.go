package estimate

import (
	"strings"
	"testing"
	"time"
)

// Expected values are worked out by hand. With chars/4 the text characters
// are summed and rounded up once; framing is 3 per message plus its role's
// tokens (chars/4 of "user" is 1, of "assistant" 3, of "system" 2, of "model"
// 2), 1 per name, and 3 for the reply primer.
func TestPromptTokens(t *testing.T) {
	const tools = `[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]`
	tests := []struct {
		name            string
		provider, model string
		body            string
		tokens, chars   int64
	}{
		{
			name:     "openai chat strings",
			provider: "mistral", model: "mistral-large-latest",
			body: `{"model":"mistral-large-latest","messages":[{"role":"system","content":"abcd"},{"role":"user","content":"efghijkl"}]}`,
			// text 12 chars = 3; framing (3+2) + (3+1) + 3 = 12
			tokens: 15, chars: 12,
		},
		{
			name:     "openai chat parts skip images",
			provider: "mistral", model: "pixtral",
			body: `{"messages":[{"role":"user","content":[{"type":"text","text":"abcd"},{"type":"image_url","image_url":{"url":"data:image/png;base64,` + strings.Repeat("QUFB", 1000) + `"}},{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}`,
			// text 4 = 1; framing 3+1+3 = 7
			tokens: 8, chars: 4,
		},
		{
			name:     "openai chat name and tool calls",
			provider: "deepseek", model: "deepseek-chat",
			body: `{"messages":[{"role":"user","name":"bo","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get","arguments":"{\"a\":1}"}}]},{"role":"tool","tool_call_id":"call_1","content":"ok"}]}`,
			// text bo2 + hi2 + get3 + {"a":1}7 + ok2 = 16 chars = 4
			// framing (3+1+1) + (3+3) + (3+1) + 3 = 18
			tokens: 22, chars: 16,
		},
		{
			name:     "openai chat tools counted as JSON",
			provider: "groq", model: "llama-3.3-70b-versatile",
			body:   `{"messages":[{"role":"user","content":"abcd"}],"tools":` + tools + `}`,
			tokens: (4+int64(len(tools))+3)/4 + 7, chars: 4 + int64(len(tools)),
		},
		{
			name:     "legacy prompt string",
			provider: "fireworks", model: "llama-v3p1-8b",
			body:   `{"prompt":"abcdefgh","max_tokens":5}`,
			tokens: 2, chars: 8,
		},
		{
			name:     "legacy prompt token ids are exact",
			provider: "openai", model: "gpt-3.5-turbo-instruct",
			body:   `{"prompt":[[1,2,3],[4,5]]}`,
			tokens: 5, chars: 0,
		},
		{
			name:     "embeddings strings",
			provider: "mistral", model: "mistral-embed",
			body:   `{"input":["abcd","efgh","i"]}`,
			tokens: 3, chars: 9,
		},
		{
			name:     "embeddings token ids",
			provider: "openai", model: "text-embedding-3-small",
			body:   `{"input":[15339,1917]}`,
			tokens: 2, chars: 0,
		},
		{
			name:     "responses items",
			provider: "xai", model: "grok-4",
			body: `{"instructions":"abcd","input":[{"role":"user","content":[{"type":"input_text","text":"efgh"},{"type":"input_image","image_url":"https://example.com/x.png"}]},{"type":"function_call","call_id":"c","name":"fn","arguments":"{}"},{"type":"function_call_output","call_id":"c","output":"ijkl"}]}`,
			// text abcd4 efgh4 fn2 {}2 ijkl4 = 16 = 4
			// framing (3+1) + 3 + 3 + 3 = 13
			tokens: 17, chars: 16,
		},
		{
			name:     "responses string input",
			provider: "xai", model: "grok-4",
			body:   `{"input":"abcdefgh"}`,
			tokens: 2, chars: 8,
		},
		{
			name:     "anthropic messages",
			provider: "anthropic", model: "claude-sonnet-4-5",
			body: `{"system":[{"type":"text","text":"abcd","cache_control":{"type":"ephemeral"}}],"messages":[` +
				`{"role":"user","content":[{"type":"text","text":"efgh"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]},` +
				`{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{"q":1}}]},` +
				`{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"ok"}]}]}`,
			// text abcd4 efgh4 f1 {"q":1}7 ok2 = 18 = 5
			// framing (3+1) + (3+3) + (3+1) + 3 = 17
			tokens: 22, chars: 18,
		},
		{
			name:     "anthropic string system",
			provider: "anthropic", model: "claude-haiku-4-5",
			body:   `{"system":"abcdefgh","messages":[{"role":"user","content":"ijkl"}]}`,
			tokens: 3 + 7, chars: 12,
		},
		{
			name:     "gemini contents",
			provider: "google", model: "gemini-2.5-flash",
			body: `{"systemInstruction":{"parts":[{"text":"abcd"}]},"contents":[` +
				`{"role":"user","parts":[{"text":"efgh"},{"inlineData":{"mimeType":"image/png","data":"AAAA"}}]},` +
				`{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]}]}`,
			// text abcd4 efgh4 {"name":"f","args":{}}22 = 30 = 8
			// framing (3+1) + (3+2) + 3 = 12
			tokens: 20, chars: 30,
		},
		{
			name:     "gemini snake case system instruction",
			provider: "google", model: "gemini-2.5-flash",
			body:   `{"system_instruction":{"parts":[{"text":"abcdefgh"}]},"contents":[{"parts":[{"text":"ijkl"}]}]}`,
			tokens: 3 + 3 + 3, chars: 12,
		},
		{
			name:     "multibyte counts characters",
			provider: "anthropic", model: "claude-sonnet-4-5",
			body:   `{"messages":[{"role":"user","content":"日本語テキスト"}]}`,
			tokens: 2 + 7, chars: 7,
		},
		{
			name:     "json escapes are decoded",
			provider: "anthropic", model: "claude-sonnet-4-5",
			body:   `{"messages":[{"role":"user","content":"\u65e5\u672c\n\"x\""}]}`,
			tokens: 2 + 7, chars: 6,
		},
		{
			name:     "bpe chat gpt-4o",
			provider: "openai", model: "gpt-4o",
			body: `{"model":"gpt-4o","messages":[{"role":"user","content":"hello world"}]}`,
			// "hello world" 2; framing 3 + "user" 1 + 3
			tokens: 9, chars: 11,
		},
		{
			name:     "bpe chat parts gpt-4",
			provider: "openai", model: "gpt-4",
			body:   `{"messages":[{"role":"user","content":[{"type":"text","text":"supercalifragilistic"}]}]}`,
			tokens: 7 + 7, chars: 20,
		},
		{
			name:     "bpe sums per text, not per character",
			provider: "openrouter", model: "openai/gpt-4o",
			body:   `{"prompt":["hello world","supercalifragilistic"]}`,
			tokens: 2 + 6, chars: 31,
		},
		{
			name:     "bpe embeddings",
			provider: "openai", model: "text-embedding-3-small",
			body:   `{"input":"We know what we are, but know not what we may be."}`,
			tokens: 14, chars: 49,
		},
		{name: "empty body", provider: "openai", model: "gpt-4o", body: ``},
		{name: "invalid json", provider: "openai", model: "gpt-4o", body: `{"messages":[`},
		{name: "not an object", provider: "openai", model: "gpt-4o", body: `"hello"`},
		{name: "no text fields", provider: "openai", model: "gpt-4o", body: `{"model":"gpt-4o","n":2}`},
		{name: "nulls", provider: "openai", model: "gpt-4o", body: `{"messages":null,"input":null,"tools":null,"system":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tokens, chars := PromptTokens(tt.provider, tt.model, []byte(tt.body))
			if tokens != tt.tokens || chars != tt.chars {
				t.Errorf("PromptTokens = %d tokens, %d chars; want %d, %d", tokens, chars, tt.tokens, tt.chars)
			}
		})
	}
}

// Nesting makes the decode quadratic, so a body deeper than maxDepth is
// estimated from its whole size instead, and quickly.
func TestPromptTokensDeepNesting(t *testing.T) {
	wrap := func(depth int) string {
		return `{"messages":[{"role":"user","content":` + strings.Repeat(`[{"content":`, depth) + `"abcd"` + strings.Repeat(`}]`, depth) + `}]}`
	}
	// Just within the limit: decoded normally.
	tokens, chars := PromptTokens("anthropic", "claude", []byte(wrap(maxDepth/2-2)))
	if chars != 4 || tokens != 1+7 {
		t.Errorf("depth %d: got %d tokens, %d chars; want 8, 4", maxDepth-4, tokens, chars)
	}
	// Far beyond: the whole body counts, in linear time.
	body := wrap(4990) // about 10000 levels, encoding/json's own limit
	start := time.Now()
	tokens, chars = PromptTokens("anthropic", "claude", []byte(body))
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("took %v", d)
	}
	if chars != int64(len(body)) || tokens != (int64(len(body))+3)/4 {
		t.Errorf("got %d tokens, %d chars; want %d, %d", tokens, chars, (len(body)+3)/4, len(body))
	}
	// Brackets inside strings are not nesting.
	if d := jsonDepth([]byte(`{"a":"[[[[\"[[["}`)); d != 1 {
		t.Errorf("jsonDepth = %d, want 1", d)
	}
}

func BenchmarkPromptTokens(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"model":"gpt-4o","messages":[`)
	for i := range 20 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"role":"user","content":"We know what we are, but know not what we may be. Tell me more about it."}`)
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	for _, model := range []string{"gpt-4o", "claude-sonnet-4-5"} {
		PromptTokens("", model, body)
		b.Run(model, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				PromptTokens("", model, body)
			}
		})
	}
}

func FuzzPromptTokens(f *testing.F) {
	for _, s := range []string{
		`{"messages":[{"role":"user","content":"hello world"}]}`,
		`{"messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"tool_result","content":[{"type":"text","text":"x"}]}]}]}`,
		`{"input":[[1,2],[3]],"prompt":["a",[4]]}`,
		`{"contents":[{"parts":[{"text":"a"}]}],"systemInstruction":{"parts":[{"text":"b"}]}}`,
		`{"input":[{"role":"user","content":"x"},{"type":"function_call_output","output":[{"type":"input_text","text":"y"}]}]}`,
		`[[[[`,
	} {
		f.Add(s, "gpt-4o")
		f.Add(s, "claude-sonnet-4-5")
	}
	f.Fuzz(func(t *testing.T, body, model string) {
		tokens, chars := PromptTokens("openrouter", model, []byte(body))
		if tokens < 0 || chars < 0 {
			t.Fatalf("negative estimate: %d tokens, %d chars", tokens, chars)
		}
		if chars > int64(len(body)) {
			t.Fatalf("%d chars counted in a %d-byte body", chars, len(body))
		}
	})
}
