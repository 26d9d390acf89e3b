// Package extracttest holds the test harness the usage extractors
// (openai, anthropic, gemini) share: fixtures and golden files under
// testdata/, feeding a body in every split and in random chunks, a real
// loopback upstream, and the genai-prices dataset in the shared data dir.
//
// It is imported by _test.go files only. Golden files are rewritten with
//
//	go test ./internal/extract/... -update
package extracttest

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spendops/spendops/internal/usage"
)

var update = flag.Bool("update", false, "rewrite testdata/*.usage.json golden files")

// New is an extractor factory: the package under test's New.
type New func(usage.Request) usage.Extractor

// Run feeds body to a fresh extractor in the given chunks and returns its
// report. It panics if a Write does not return len(p), nil: an extractor
// must never slow or fail the response it reads.
func Run(newExtractor New, req usage.Request, chunks ...[]byte) usage.Report {
	e := newExtractor(req)
	for _, c := range chunks {
		if n, err := e.Write(c); n != len(c) || err != nil {
			panic("Write must return len(p), nil")
		}
	}
	return e.Report()
}

// Canon is a report as the golden files hold it: indented JSON and a
// newline, so that Reports (Raw included) compare as text.
func Canon(t testing.TB, r usage.Report) string {
	t.Helper()
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatalf("marshal report: %v", err)
	}
	return string(b) + "\n"
}

// Compact is a report as one line of JSON, for comparisons that print both
// sides.
func Compact(r usage.Report) string {
	b, _ := json.Marshal(r)
	return string(b)
}

// ReadTestdata returns testdata/name.
func ReadTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// GoldenPath is the golden report of a fixture: testdata/<name without
// its extension>.usage.json.
func GoldenPath(fixture string) string {
	return filepath.Join("testdata", strings.TrimSuffix(fixture, filepath.Ext(fixture))+".usage.json")
}

// Golden compares got with the golden report of fixture, after rewriting
// the golden file when the test runs with -update.
func Golden(t testing.TB, fixture string, got []byte) {
	t.Helper()
	golden := GoldenPath(fixture)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("report differs from %s\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
}

// FixtureBodies returns every file in testdata/ except the golden
// *.usage.json reports (and directories such as testdata/fuzz), to seed
// fuzz tests.
func FixtureBodies(t testing.TB) [][]byte {
	files, _ := filepath.Glob(filepath.Join("testdata", "*"))
	var out [][]byte
	for _, name := range files {
		if strings.HasSuffix(name, ".usage.json") {
			continue
		}
		if b, err := os.ReadFile(name); err == nil {
			out = append(out, b)
		}
	}
	return out
}

// Report is what a chunking test compares: a report of the body fed in the
// given chunks, as text (Canon or Compact).
type Report func(chunks ...[]byte) string

// EverySplit checks that body cut in two at every step-th boundary (both
// ends included) reports want, and stops the test at the first that does
// not: no event, line ending or JSON token may depend on how TCP delivered
// it.
func EverySplit(t testing.TB, name string, body []byte, step int, want string, report Report) {
	t.Helper()
	for i := 0; i <= len(body); i += step {
		if got := report(body[:i], body[i:]); got != want {
			t.Fatalf("%s split at %d:\n got: %s\nwant: %s", name, i, got, want)
		}
	}
}

// FeedChunked checks that body cut into random chunks of 1 to 64 bytes
// reports want, in rounds cuts drawn from one seeded (repeatable) source.
func FeedChunked(t testing.TB, name string, body []byte, rounds int, want string, report Report) {
	t.Helper()
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < rounds; round++ {
		if got := report(RandomChunks(rng, body)...); got != want {
			t.Fatalf("%s random chunks (round %d):\n got: %s\nwant: %s", name, round, got, want)
		}
	}
}

// RandomChunks cuts b into chunks of 1 to 64 bytes drawn from rng.
func RandomChunks(rng *rand.Rand, b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		n := 1 + rng.Intn(min(len(b), 64))
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// FixedChunks cuts b into chunks of n bytes (the last may be shorter).
func FixedChunks(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		k := min(n, len(b))
		out = append(out, b[:k])
		b = b[k:]
	}
	return out
}

// WordCounter is a usage.Counter that counts whitespace-separated words, so
// that a test can tell what text an extractor handed to its Counter.
type WordCounter struct{}

// Count returns the number of words in s.
func (WordCounter) Count(s string) int64 { return int64(len(strings.Fields(s))) }

// Bench measures an extractor over body written in one piece.
func Bench(b *testing.B, newExtractor New, req usage.Request, body []byte) {
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		e := newExtractor(req)
		_, _ = e.Write(body)
		_ = e.Report()
	}
}
