package textcount

import (
	"strings"
	"testing"
)

// wordCounter counts words and remembers how many batches it was given.
type wordCounter struct{ calls int }

func (w *wordCounter) Count(s string) int64 {
	w.calls++
	return int64(len(strings.Fields(s)))
}

func TestWithoutCounter(t *testing.T) {
	var tl Tally
	tl.Add("héllo")
	tl.Add("")
	tl.Add(" wörld")
	if tl.Chars() != 11 {
		t.Errorf("chars = %d, want 11 (runes, not bytes)", tl.Chars())
	}
	if got := tl.Estimate(); got != 3 {
		t.Errorf("estimate = %d, want ceil(11/4) = 3", got)
	}
}

// Long text reaches the Counter in batches cut at whitespace, so that no
// word is split and the count equals counting the whole text at once.
func TestBatchesCutAtWhitespace(t *testing.T) {
	wc := &wordCounter{}
	tl := Tally{Counter: wc}
	words := 0
	for i := 0; i < 10000; i++ {
		tl.Add("lorem ipsum dolor ")
		words += 3
	}
	if got := tl.Estimate(); got != int64(words) {
		t.Errorf("estimate = %d, want %d", got, words)
	}
	if wc.calls < 2 {
		t.Errorf("counter called %d times: text was not batched", wc.calls)
	}
	if tl.Chars() != int64(len("lorem ipsum dolor "))*10000 {
		t.Errorf("chars = %d", tl.Chars())
	}
}

// Text without whitespace is still flushed (the cut falls back to the
// whole buffer) so memory stays bounded.
func TestNoWhitespace(t *testing.T) {
	wc := &wordCounter{}
	tl := Tally{Counter: wc}
	for i := 0; i < 3*flushAt/1024; i++ {
		tl.Add(strings.Repeat("x", 1024))
	}
	if len(tl.buf) >= flushAt {
		t.Errorf("buffer holds %d bytes, cap %d", len(tl.buf), flushAt)
	}
	if tl.Estimate() == 0 || tl.buf != nil {
		t.Errorf("final flush: buf=%d", len(tl.buf))
	}
}
