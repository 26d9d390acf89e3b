// Package estimate guesses token counts when a provider reports no usage (a
// cut stream, a client abort, a provider without stream usage).
//
// For OpenAI model families it runs the real BPE tokenizer offline:
// o200k_base (gpt-4o, gpt-4.1, gpt-4.5, gpt-5.x, o1, o3, o4, gpt-image,
// gpt-oss …) or cl100k_base (gpt-4, gpt-3.5, text-embedding-3, ada-002).
// The vocabularies are compiled into the binary by
// github.com/tiktoken-go/tokenizer (about 10 MB of stripped binary) and are
// built on the heap only the first time a counter of that encoding counts
// something (o200k: about 25 ms and 7 MiB; cl100k: about 7 ms and 3 MiB),
// never at process start (package init costs under 1 ms and 40 kB) and
// never over the network. BPE counting runs at about 7 MB/s of text, so it
// belongs off the request path, where estimates are made anyway. Every other model is counted as characters/4, rounded up, on
// Unicode characters rather than bytes, so CJK text is not counted three
// times over.
//
// Whatever the method, the result is an estimate: callers must mark events
// built from it as usage_source "estimate" (or "partial"), never "provider".
// Even the exact tokenizer misses hidden reasoning tokens, tool-schema
// overhead and the provider's own message framing.
package estimate

import (
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/spendops/spendops/internal/usage"
	"github.com/tiktoken-go/tokenizer"
	"github.com/tiktoken-go/tokenizer/codec"
)

// Encoding names how a [Counter] counts.
type Encoding string

const (
	// O200k is OpenAI's o200k_base BPE (gpt-4o and later).
	O200k Encoding = "o200k_base"
	// Cl100k is OpenAI's cl100k_base BPE (gpt-4, gpt-3.5, embeddings v2/v3).
	Cl100k Encoding = "cl100k_base"
	// CharsPer4 is the heuristic: ceil(characters / 4).
	CharsPer4 Encoding = "chars/4"
)

// Counter is a [usage.Counter] that also says how it counts. Counters
// returned by this package are safe for concurrent use and cheap to create.
type Counter interface {
	usage.Counter
	// Encoding reports the method. BPE counts are exact for the text given
	// but remain estimates of what the provider bills.
	Encoding() Encoding
}

// CounterFor returns the counter for a model served by a provider: BPE for
// OpenAI model families (on any provider, e.g. openrouter "openai/gpt-4o" or
// groq "openai/gpt-oss-120b"), chars/4 for everything else. A model name the
// table does not know on provider "openai" or an Azure provider (whose
// deployment names are arbitrary) gets o200k, the encoding of all current
// OpenAI models.
func CounterFor(provider, model string) usage.Counter {
	return counterFor(EncodingFor(provider, model))
}

func counterFor(e Encoding) Counter {
	switch e {
	case O200k:
		return bpeCounter{enc: e, codec: o200kCodec}
	case Cl100k:
		return bpeCounter{enc: e, codec: cl100kCodec}
	default:
		return charCounter{}
	}
}

// family maps a model-name prefix to its encoding. Order matters: a more
// specific prefix must come before a shorter one it extends across a
// boundary ("gpt-4.1" before "gpt-4").
var family = []struct {
	prefix string
	enc    Encoding
}{
	{"gpt-4o", O200k},
	{"chatgpt-4o", O200k},
	{"gpt-4.1", O200k},
	{"gpt-4.5", O200k},
	{"gpt-5", O200k},
	{"gpt-oss", O200k}, // o200k_harmony: o200k plus chat special tokens
	{"gpt-image", O200k},
	{"gpt-realtime", O200k},
	{"gpt-audio", O200k},
	{"o1", O200k},
	{"o3", O200k},
	{"o4", O200k},
	{"codex-mini", O200k},
	{"computer-use-preview", O200k},
	{"omni-moderation", O200k},
	{"gpt-4", Cl100k},
	{"gpt-3.5", Cl100k},
	{"gpt-35", Cl100k}, // Azure's spelling
	{"text-embedding-3", Cl100k},
	{"text-embedding-ada-002", Cl100k},
	{"davinci-002", Cl100k},
	{"babbage-002", Cl100k},
}

// EncodingFor is the encoding [CounterFor] would use.
func EncodingFor(provider, model string) Encoding {
	m := normalizeModel(model)
	for _, f := range family {
		if hasFamilyPrefix(m, f.prefix) {
			return f.enc
		}
	}
	p := strings.ToLower(provider)
	if p == "openai" || strings.Contains(p, "azure") {
		return O200k
	}
	return CharsPer4
}

// normalizeModel lowercases and strips routing decorations: a vendor path
// ("openai/gpt-4o", "accounts/fireworks/models/gpt-oss-20b"), a fine-tune
// prefix ("ft:gpt-4o-mini-2024-07-18:org::id"), and an OpenRouter variant
// suffix ("openai/gpt-4o:online").
func normalizeModel(model string) string {
	m := strings.ToLower(strings.TrimSpace(model))
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	m = strings.TrimPrefix(m, "ft:")
	if i := strings.IndexByte(m, ':'); i >= 0 {
		m = m[:i]
	}
	return m
}

// hasFamilyPrefix reports whether m is prefix or starts with prefix followed
// by a non-alphanumeric byte, so "o1-mini" is o1 but "o1x" is not, and
// "gpt-4o" is not "gpt-4".
func hasFamilyPrefix(m, prefix string) bool {
	if !strings.HasPrefix(m, prefix) {
		return false
	}
	if len(m) == len(prefix) {
		return true
	}
	c := m[len(prefix)]
	return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9')
}

// charCounter is the chars/4 heuristic.
type charCounter struct{}

func (charCounter) Count(text string) int64 {
	return charsToTokens(int64(utf8.RuneCountInString(text)))
}

func (charCounter) Encoding() Encoding { return CharsPer4 }

func charsToTokens(chars int64) int64 { return (chars + 3) / 4 }

// The codecs are built on first use: building o200k's vocabulary map costs
// tens of milliseconds and megabytes, which a proxy that never needs an
// estimate should not pay.
var (
	o200kCodec  = lazyCodec(func() tokenizer.Codec { return codec.NewO200kBase() })
	cl100kCodec = lazyCodec(func() tokenizer.Codec { return codec.NewCl100kBase() })
)

// loaded counts vocabularies built so far; tests use it to prove laziness.
var loaded atomic.Int32

// lazyCodec builds a codec once, on first call. The codec constructors are
// called directly rather than through tokenizer.Get, whose switch would also
// link the unused r50k and p50k vocabularies (about 2.4 MB of binary).
func lazyCodec(build func() tokenizer.Codec) func() tokenizer.Codec {
	return sync.OnceValue(func() tokenizer.Codec {
		loaded.Add(1)
		return build()
	})
}

type bpeCounter struct {
	enc   Encoding
	codec func() tokenizer.Codec
}

func (b bpeCounter) Encoding() Encoding { return b.enc }

// chunkSize bounds one tokenizer call: the split regexp works on a []rune
// copy of its input, so counting a multi-megabyte text in one call would
// allocate four times its size at once.
const chunkSize = 32 << 10

func (b bpeCounter) Count(text string) int64 {
	c := b.codec()
	var n int64
	for len(text) > 0 {
		cut := splitPoint(text, chunkSize)
		k, err := c.Count(text[:cut])
		if err != nil {
			// Unreachable in the library's default error mode; count the
			// piece rather than lose it.
			k = int(charCounter{}.Count(text[:cut]))
		}
		n += int64(k)
		text = text[cut:]
	}
	return n
}

// splitPoint returns where to cut text so that the first piece is at most
// about max bytes. It prefers a space between two ASCII letters: the
// pre-tokenizer of both encodings ends a piece at the letter before such a
// space and starts the next piece with the space, so cutting there does not
// change the token count. Failing that it cuts at a rune boundary, which can
// add a token or two per chunk.
func splitPoint(text string, max int) int {
	if len(text) <= max {
		return len(text)
	}
	lo := max / 2
	for i := max; i > lo; i-- {
		if text[i] == ' ' && isASCIILetter(text[i-1]) && i+1 < len(text) && isASCIILetter(text[i+1]) {
			return i
		}
	}
	i := max
	for i > 0 && !utf8.RuneStart(text[i]) {
		i--
	}
	if i == 0 {
		return max
	}
	return i
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

var _ Counter = bpeCounter{}
var _ Counter = charCounter{}
