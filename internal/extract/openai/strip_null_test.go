package openai

import (
	"bytes"
	"testing"
)

// With include_usage injected, OpenAI adds "usage":null to every chunk; the
// stripper removes exactly that member, so the client gets the bytes the
// provider sends without the option.
func TestDropNullUsage(t *testing.T) {
	tests := []struct{ in, want string }{
		{`data: {"id":"c","choices":[{"delta":{"content":"hi"}}],"usage":null}` + "\n\n",
			`data: {"id":"c","choices":[{"delta":{"content":"hi"}}]}` + "\n\n"},
		{`data: {"usage":null,"id":"c","choices":[]}` + "\n\n", `data: {"id":"c","choices":[]}` + "\n\n"},
		{`data: {"id":"c", "usage": null, "choices":[]}` + "\r\n\r\n", `data: {"id":"c", "choices":[]}` + "\r\n\r\n"},
		{`data: {"usage":null}` + "\n\n", `data: {}` + "\n\n"},
		// Not top level, inside a string, not null, invalid JSON, several data lines: untouched.
		{`data: {"x":{"usage":null}}` + "\n\n", ""},
		{`data: {"c":"a,\"usage\":null}"}` + "\n\n", ""},
		{`data: {"usage":{"prompt_tokens":1}}` + "\n\n", ""},
		{`data: {"usage":null` + "\n\n", ""},
		{"data: {\"a\":1,\ndata: \"usage\":null}\n\n", ""},
		{"data: [DONE]\n\n", ""},
	}
	for _, tt := range tests {
		want := tt.want
		if want == "" {
			want = tt.in
		}
		if got := string(dropNullUsage([]byte(tt.in))); got != want {
			t.Errorf("dropNullUsage(%q) = %q, want %q", tt.in, got, want)
		}
	}
}

func TestStripperRemovesNullUsageAndUsageChunk(t *testing.T) {
	withOption := "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}],\"usage\":null}\n\n" +
		"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n" +
		"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}}\n\n" +
		"data: [DONE]\n\n"
	without := "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n" +
		"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
		"data: [DONE]\n\n"
	for split := 1; split < len(withOption); split += 7 {
		var out bytes.Buffer
		s := NewUsageChunkStripperFor("openai", &out)
		_, _ = s.Write([]byte(withOption[:split]))
		_, _ = s.Write([]byte(withOption[split:]))
		_ = s.Close()
		if out.String() != without {
			t.Fatalf("split %d:\n%s\nwant\n%s", split, out.String(), without)
		}
	}
}

// Hosts not known to add "usage":null only with the option keep it.
func TestStripperKeepsNullUsageForOtherHosts(t *testing.T) {
	in := "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"delta\":{}}],\"usage\":null}\n\n"
	for _, p := range []string{"deepseek", "groq", ""} {
		var out bytes.Buffer
		s := NewUsageChunkStripperFor(p, &out)
		_, _ = s.Write([]byte(in))
		_ = s.Close()
		if out.String() != in {
			t.Fatalf("%s: %q", p, out.String())
		}
	}
}
