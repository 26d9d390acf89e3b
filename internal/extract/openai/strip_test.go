package openai

import (
	"bytes"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spendops/spendops/internal/extract/extracttest"
)

const usageChunk = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}`

func strip(t testing.TB, pieces ...[]byte) string {
	t.Helper()
	var out bytes.Buffer
	s := NewUsageChunkStripper(&out)
	for _, p := range pieces {
		if n, err := s.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestStripper(t *testing.T) {
	content := `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}`
	finishWithUsage := `data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`
	tests := []struct{ name, in, want string }{
		{"drops usage-only chunk",
			content + "\n\n" + usageChunk + "\n\ndata: [DONE]\n\n",
			content + "\n\ndata: [DONE]\n\n"},
		{"crlf",
			content + "\r\n\r\n" + usageChunk + "\r\n\r\ndata: [DONE]\r\n\r\n",
			content + "\r\n\r\ndata: [DONE]\r\n\r\n"},
		{"cr",
			content + "\r\r" + usageChunk + "\r\rdata: [DONE]\r\r",
			content + "\r\rdata: [DONE]\r\r"},
		{"comments kept, data without space",
			": OPENROUTER PROCESSING\n\n" + content + "\n\n" + strings.Replace(usageChunk, "data: ", "data:", 1) + "\n\n",
			": OPENROUTER PROCESSING\n\n" + content + "\n\n"},
		{"usage on a chunk with choices is left alone",
			content + "\n\n" + finishWithUsage + "\n\ndata: [DONE]\n\n",
			content + "\n\n" + finishWithUsage + "\n\ndata: [DONE]\n\n"},
		{"null usage with empty choices kept",
			`data: {"object":"chat.completion.chunk","choices":[],"usage":null}` + "\n\n",
			`data: {"object":"chat.completion.chunk","choices":[],"usage":null}` + "\n\n"},
		{"other object kept",
			`data: {"object":"response","choices":[],"usage":{"input_tokens":1}}` + "\n\n",
			`data: {"object":"response","choices":[],"usage":{"input_tokens":1}}` + "\n\n"},
		{"legacy completions usage chunk dropped",
			`data: {"object":"text_completion","choices":[],"usage":{"prompt_tokens":1}}` + "\n\ndata: [DONE]\n\n",
			"data: [DONE]\n\n"},
		{"multi-line data joined",
			"data: {\"object\":\"chat.completion.chunk\",\ndata: \"choices\":[],\"usage\":{\"prompt_tokens\":1}}\n\ndata: [DONE]\n\n",
			"data: [DONE]\n\n"},
		{"unterminated trailing event flushed on close",
			content + "\n\n" + usageChunk,
			content + "\n\n" + usageChunk},
		{"extra blank lines kept", "\n\n" + content + "\n\n\n", "\n\n" + content + "\n\n\n"},
		{"invalid json kept", "data: {\"choices\":[],\"usage\":{\n\n", "data: {\"choices\":[],\"usage\":{\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strip(t, []byte(tt.in)); got != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
			in := []byte(tt.in)
			for i := 0; i <= len(in); i++ {
				if got := strip(t, in[:i], in[i:]); got != tt.want {
					t.Fatalf("split at %d: got %q\nwant %q", i, got, tt.want)
				}
			}
			var pieces [][]byte
			for _, b := range in {
				pieces = append(pieces, []byte{b})
			}
			if got := strip(t, pieces...); got != tt.want {
				t.Fatalf("byte by byte: got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// Each complete event reaches the client when its blank line arrives, not
// later: the stripper adds no latency to the stream.
func TestStripperForwardsPromptly(t *testing.T) {
	var out bytes.Buffer
	s := NewUsageChunkStripper(&out)
	ev := "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"
	_, _ = s.Write([]byte(ev[:10]))
	if out.Len() != 0 {
		t.Fatalf("forwarded a partial event: %q", out.String())
	}
	_, _ = s.Write([]byte(ev[10 : len(ev)-1]))
	if out.Len() != 0 {
		t.Fatalf("forwarded before the blank line: %q", out.String())
	}
	_, _ = s.Write([]byte(ev[len(ev)-1:]))
	if out.String() != ev {
		t.Fatalf("event not forwarded at its blank line: %q", out.String())
	}
	// CRLF: the event is complete at the blank line's CR; its LF follows.
	out.Reset()
	_, _ = s.Write([]byte("data: x\r\n\r"))
	if out.String() != "data: x\r\n\r" {
		t.Fatalf("CRLF event not forwarded at CR: %q", out.String())
	}
	_, _ = s.Write([]byte("\n"))
	if out.String() != "data: x\r\n\r\n" {
		t.Fatalf("LF after CR lost: %q", out.String())
	}
}

// An event past the cap is forwarded as it arrives, byte-exact.
func TestStripperCap(t *testing.T) {
	big := "data: {\"choices\":[],\"usage\":{},\"pad\":\"" + strings.Repeat("x", MaxHeldEvent) + "\"}\n\n"
	var out bytes.Buffer
	s := NewUsageChunkStripper(&out)
	_, _ = s.Write([]byte(big[:MaxHeldEvent+10]))
	if out.Len() < MaxHeldEvent {
		t.Fatalf("held %d bytes beyond the cap", MaxHeldEvent+10-out.Len())
	}
	_, _ = s.Write([]byte(big[MaxHeldEvent+10:] + usageChunk + "\n\n"))
	_ = s.Close()
	if out.String() != big {
		t.Fatalf("oversized event changed or usage chunk after it kept (len %d vs %d)", out.Len(), len(big))
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("client gone") }

func TestStripperWriteError(t *testing.T) {
	s := NewUsageChunkStripper(failWriter{})
	if _, err := s.Write([]byte("data: x\n\n")); err == nil {
		t.Fatal("write error not reported")
	}
}

// The stripper applied to every recorded stream: output equals input with
// exactly the usage-only events removed.
func TestStripperFixtures(t *testing.T) {
	for _, f := range fixtures {
		if filepath.Ext(f.file) != ".sse" {
			continue
		}
		in := f.read(t)
		var want strings.Builder
		for _, ev := range strings.SplitAfter(string(in), "\n\n") {
			if !usageOnly([]byte(ev)) {
				want.WriteString(ev)
			}
		}
		rng := rand.New(rand.NewSource(1))
		got := strip(t, extracttest.RandomChunks(rng, in)...)
		if got != want.String() {
			t.Errorf("%s: stripped stream differs", f.file)
		}
		dropped := len(in) - len(got)
		switch f.file {
		case "openai_chat_stream_usage.sse", "openai_completions_stream.sse", "openrouter_stream.sse", "fireworks_stream.sse":
			if dropped == 0 {
				t.Errorf("%s: usage-only chunk not dropped", f.file)
			}
			if e := extract(f.request(), []byte(got)); e.Found {
				t.Errorf("%s: usage still visible after stripping", f.file)
			}
		default:
			if dropped != 0 {
				t.Errorf("%s: %d bytes dropped from a stream without a usage-only chunk", f.file, dropped)
			}
		}
	}
}

func FuzzStripper(f *testing.F) {
	for _, fx := range fixtures {
		if filepath.Ext(fx.file) == ".sse" {
			b, err := os.ReadFile(filepath.Join("testdata", fx.file))
			if err == nil {
				f.Add(b, uint8(7))
			}
		}
	}
	f.Add([]byte(usageChunk+"\r\n\r\n: c\r"), uint8(3))
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		got := strip(t, extracttest.FixedChunks(in, int(step%64)+1)...)
		whole := strip(t, in)
		if got != whole {
			t.Fatalf("chunking changed the output:\n%q\n%q", got, whole)
		}
		if !bytes.Contains(in, []byte(`"usage"`)) && got != string(in) {
			t.Fatalf("stream without usage changed:\n in %q\nout %q", in, got)
		}
		if len(got) > len(in) {
			t.Fatal("output longer than input")
		}
	})
}
