package estimate

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/tiktoken-go/tokenizer"
)

func TestEncodingFor(t *testing.T) {
	tests := []struct {
		provider, model string
		want            Encoding
	}{
		{"openai", "gpt-4o", O200k},
		{"openai", "gpt-4o-mini-2024-07-18", O200k},
		{"openai", "chatgpt-4o-latest", O200k},
		{"openai", "gpt-4.1-nano", O200k},
		{"openai", "gpt-4.5-preview", O200k},
		{"openai", "gpt-5", O200k},
		{"openai", "gpt-5.1-codex", O200k},
		{"openai", "GPT-5-Mini", O200k},
		{"openai", "o1", O200k},
		{"openai", "o3-mini", O200k},
		{"openai", "o4-mini-deep-research", O200k},
		{"openai", "gpt-image-1", O200k},
		{"openai", "ft:gpt-4o-mini-2024-07-18:acme::abc123", O200k},
		{"openai", "gpt-4", Cl100k},
		{"openai", "gpt-4-turbo", Cl100k},
		{"openai", "gpt-4-0613", Cl100k},
		{"openai", "gpt-3.5-turbo", Cl100k},
		{"openai", "text-embedding-3-small", Cl100k},
		{"openai", "text-embedding-ada-002", Cl100k},
		{"openai", "ft:gpt-3.5-turbo-0125:acme::x", Cl100k},
		{"azure", "gpt-35-turbo", Cl100k},
		{"azure-east", "my-deployment", O200k},
		{"openai", "", O200k},
		{"openai", "some-future-model", O200k},
		{"openrouter", "openai/gpt-4o", O200k},
		{"openrouter", "openai/gpt-4o:online", O200k},
		{"openrouter", "openai/gpt-4", Cl100k},
		{"groq", "openai/gpt-oss-120b", O200k},
		{"fireworks", "accounts/fireworks/models/gpt-oss-20b", O200k},
		{"openrouter", "anthropic/claude-sonnet-4.5", CharsPer4},
		{"anthropic", "claude-opus-4-1", CharsPer4},
		{"google", "gemini-2.5-pro", CharsPer4},
		{"mistral", "mistral-large-latest", CharsPer4},
		{"deepseek", "deepseek-chat", CharsPer4},
		{"groq", "llama-3.3-70b-versatile", CharsPer4},
		// Prefix boundaries: these are not OpenAI families.
		{"openrouter", "o1x", CharsPer4},
		{"openrouter", "o3de-model", CharsPer4},
		{"ollama", "gpt-4all", CharsPer4},
	}
	for _, tt := range tests {
		t.Run(tt.provider+"/"+tt.model, func(t *testing.T) {
			if got := EncodingFor(tt.provider, tt.model); got != tt.want {
				t.Errorf("EncodingFor(%q, %q) = %s, want %s", tt.provider, tt.model, got, tt.want)
			}
			c := CounterFor(tt.provider, tt.model).(Counter)
			if got := c.Encoding(); got != tt.want {
				t.Errorf("CounterFor(%q, %q).Encoding() = %s, want %s", tt.provider, tt.model, got, tt.want)
			}
		})
	}
}

// Expected counts come from tiktoken-go/tokenizer's own tests (token id
// lists), which match OpenAI's Python tiktoken.
func TestBPECount(t *testing.T) {
	tests := []struct {
		text          string
		o200k, cl100k int64
	}{
		{"", 0, 0},
		{"hello world", 2, 2},
		{"hello  world", 3, 3},
		{"hello   world", 3, 3},
		{"'RE", 2, 1},
		{"supercalifragilistic", 6, 7},
		{"We know what we are, but know not what we may be.", 14, 14},
	}
	o := CounterFor("openai", "gpt-4o")
	c := CounterFor("openai", "gpt-4")
	for _, tt := range tests {
		if got := o.Count(tt.text); got != tt.o200k {
			t.Errorf("o200k Count(%q) = %d, want %d", tt.text, got, tt.o200k)
		}
		if got := c.Count(tt.text); got != tt.cl100k {
			t.Errorf("cl100k Count(%q) = %d, want %d", tt.text, got, tt.cl100k)
		}
	}
}

func TestCharsPer4(t *testing.T) {
	tests := []struct {
		text string
		want int64
	}{
		{"", 0},
		{"a", 1},
		{"abcd", 1},
		{"abcde", 2},
		{"abcdefgh", 2},
		{"日本語", 1},      // 3 characters, 9 bytes: bytes/4 would say 3
		{"日本語テキスト", 2},  // 7 characters, 21 bytes
		{"🙂🙂🙂🙂🙂", 2},    // 5 characters, 20 bytes
		{"h\xffllo", 2}, // an invalid byte counts as one character
		{strings.Repeat("é", 400), 100},
	}
	c := CounterFor("anthropic", "claude-sonnet-4-5")
	for _, tt := range tests {
		if got := c.Count(tt.text); got != tt.want {
			t.Errorf("chars/4 Count(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

// Long texts are tokenized in chunks; cutting at a space between letters
// must not change the count.
func TestChunkedCountMatchesWhole(t *testing.T) {
	text := strings.Repeat("We know what we are, but know not what we may be. Supercalifragilistic\n", 2000)
	if len(text) < 4*chunkSize {
		t.Fatalf("text of %d bytes does not span several chunks", len(text))
	}
	for _, enc := range []tokenizer.Encoding{tokenizer.O200kBase, tokenizer.Cl100kBase} {
		codec, err := tokenizer.Get(enc)
		if err != nil {
			t.Fatal(err)
		}
		want, err := codec.Count(text)
		if err != nil {
			t.Fatal(err)
		}
		got := counterFor(Encoding(enc)).Count(text)
		if got != int64(want) {
			t.Errorf("%s: chunked count %d, whole-text count %d", enc, got, want)
		}
	}
}

// Text with no spaces is cut at rune boundaries: the count may drift by a
// token or so per chunk, never more, and multibyte runes are not split.
func TestChunkedCountNoSpaces(t *testing.T) {
	text := strings.Repeat("日本語のテキスト", 6000) // 144 kB, no ASCII spaces
	codec, err := tokenizer.Get(tokenizer.O200kBase)
	if err != nil {
		t.Fatal(err)
	}
	want, err := codec.Count(text)
	if err != nil {
		t.Fatal(err)
	}
	got := CounterFor("openai", "gpt-4o").Count(text)
	chunks := int64(len(text)/chunkSize + 1)
	if d := got - int64(want); d < -chunks || d > 2*chunks {
		t.Errorf("chunked count %d, whole-text count %d: off by more than %d chunks", got, want, chunks)
	}
}

func TestSplitPoint(t *testing.T) {
	tests := []struct {
		text string
		max  int
		want int
	}{
		{"short", 10, 5},
		{"aaaa bbbb cccc", 12, 9},    // the space before "cccc"
		{"aaaaaaaaaaaaaa", 8, 8},     // no space: cut at max
		{"aa日本語日本語", 6, 5},           // back to a rune start (byte 5)
		{"a, b, c, d, e, f", 10, 10}, // no letter-space-letter: rune boundary
	}
	for _, tt := range tests {
		if got := splitPoint(tt.text, tt.max); got != tt.want {
			t.Errorf("splitPoint(%q, %d) = %d, want %d", tt.text, tt.max, got, tt.want)
		}
	}
}

// The vocabularies must not be built until a BPE count is needed. It runs in
// a fresh process, since other tests in this binary load them.
func TestLazyLoading(t *testing.T) {
	if os.Getenv("ESTIMATE_LAZY_CHILD") == "1" {
		lazyChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLazyLoading$", "-test.v")
	cmd.Env = append(os.Environ(), "ESTIMATE_LAZY_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "lazy-ok") {
		t.Fatalf("child did not run the check:\n%s", out)
	}
}

func lazyChild(t *testing.T) {
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	c := CounterFor("openai", "gpt-4o")
	CounterFor("openai", "gpt-4").(Counter).Encoding()
	CounterFor("anthropic", "claude").Count("no BPE here")
	if n := loaded.Load(); n != 0 {
		t.Fatalf("%d vocabularies loaded before any BPE count", n)
	}
	if h := heap(); h > 2<<20 {
		t.Fatalf("heap is %d bytes before any BPE count", h)
	}
	if got := c.Count("hello world"); got != 2 {
		t.Fatalf("Count = %d, want 2", got)
	}
	if n := loaded.Load(); n != 1 {
		t.Fatalf("%d vocabularies loaded after one o200k count, want 1", n)
	}
	after := heap()
	t.Logf("lazy-ok: heap %d KiB before, %d KiB after loading o200k", before>>10, after>>10)
}

func BenchmarkCount(b *testing.B) {
	text := strings.Repeat("We know what we are, but know not what we may be. ", 80) // 4 kB
	for _, name := range []string{"gpt-4o", "gpt-4", "claude-sonnet-4-5"} {
		c := CounterFor("", name)
		c.Count("warm up")
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				c.Count(text)
			}
		})
	}
}
