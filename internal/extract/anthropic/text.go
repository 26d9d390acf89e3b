package anthropic

import (
	"bytes"
	"unicode/utf8"

	"github.com/spendops/spendops/internal/usage"
)

// textFlushAt is how much output text is held before it is handed to the
// Counter. Counting in batches cut at whitespace keeps memory bounded while
// staying close to counting the whole text at once (tokenizers merge across
// delta boundaries, so counting every delta alone would over-estimate).
const textFlushAt = 16 << 10

// textTally counts output text for estimates. The text itself is only held
// until it is counted and is never logged or kept.
type textTally struct {
	counter usage.Counter
	chars   int64
	tokens  int64
	buf     []byte
}

func (t *textTally) add(s string) {
	if s == "" {
		return
	}
	t.chars += int64(utf8.RuneCountInString(s))
	if t.counter == nil {
		return
	}
	t.buf = append(t.buf, s...)
	if len(t.buf) >= textFlushAt {
		t.flush(false)
	}
}

func (t *textTally) flush(final bool) {
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
		t.tokens += t.counter.Count(string(t.buf[:cut]))
	}
	rest := copy(t.buf, t.buf[cut:])
	t.buf = t.buf[:rest]
	if final {
		t.buf = nil
	}
}

// estimate returns the Counter's count, or chars/4 (rounded up) without one.
func (t *textTally) estimate() int64 {
	if t.counter == nil {
		return (t.chars + 3) / 4
	}
	t.flush(true)
	return t.tokens
}
