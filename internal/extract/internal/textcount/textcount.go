// Package textcount tallies the output text of a response for the token
// estimate an extractor reports when the provider gives no usage (or gives
// it only provisionally, as a cut Anthropic stream does).
package textcount

import (
	"bytes"
	"unicode/utf8"

	"github.com/spendops/spendops/internal/usage"
)

// flushAt is how much output text is held before it is handed to the
// Counter. Counting in batches cut at whitespace keeps memory bounded while
// staying close to counting the whole text at once (tokenizers merge across
// delta boundaries, so counting every delta alone would over-estimate).
const flushAt = 16 << 10

// Tally counts output text for estimates. The text itself is only held
// until it is counted and is never logged or kept. The zero value counts
// characters only; set Counter to count tokens too.
type Tally struct {
	Counter usage.Counter
	chars   int64
	tokens  int64
	buf     []byte
}

// Add counts s, a whole decoded piece of output text (a JSON string value or
// stream delta).
func (t *Tally) Add(s string) {
	if s == "" {
		return
	}
	t.chars += int64(utf8.RuneCountInString(s))
	if t.Counter == nil {
		return
	}
	t.buf = append(t.buf, s...)
	if len(t.buf) >= flushAt {
		t.flush(false)
	}
}

func (t *Tally) flush(final bool) {
	cut := len(t.buf)
	if !final {
		// Cut after the last whitespace in the second half of the buffer so
		// that a word is not split across batches. Added strings are whole
		// decoded JSON strings, so the buffer always ends on a rune boundary.
		if i := bytes.LastIndexAny(t.buf, " \n\t"); i >= len(t.buf)/2 {
			cut = i + 1
		}
	}
	if cut > 0 {
		t.tokens += t.Counter.Count(string(t.buf[:cut]))
	}
	rest := copy(t.buf, t.buf[cut:])
	t.buf = t.buf[:rest]
	if final {
		t.buf = nil
	}
}

// Chars is the number of runes added so far.
func (t *Tally) Chars() int64 { return t.chars }

// Estimate returns the Counter's count, or chars/4 (rounded up) without one.
// It flushes what is held, so it is called once, when the response ended.
func (t *Tally) Estimate() int64 {
	if t.Counter == nil {
		return (t.chars + 3) / 4
	}
	t.flush(true)
	return t.tokens
}
