package pricing

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spendops/spendops/internal/usage"
)

// For random usages over random catalog models: the cost equals the sum of
// its leaves, no leaf is negative, leaves never cover more tokens than the
// usage has, and summing events' stored costs is exact.
func TestPropertyCostIsSumOfLeaves(t *testing.T) {
	en := newTestEngine(t, nil)
	models := en.Catalog().Models()
	rng := rand.New(rand.NewPCG(1, 2))
	var sum, sumAgain = dec("0"), dec("0")
	for i := 0; i < 3000; i++ {
		pm := models[rng.IntN(len(models))]
		prompt := rng.Int64N(400_000)
		comp := rng.Int64N(50_000)
		part := func(n int64) int64 {
			if n == 0 {
				return 0
			}
			return rng.Int64N(n + n/4 + 1) // sometimes inconsistent (subset > parent)
		}
		tk := usage.Tokens{Prompt: prompt, Completion: comp, CacheRead: part(prompt / 2), CacheWrite: part(prompt / 3),
			Reasoning: part(comp), PromptAudio: part(prompt / 10), CompletionAudio: part(comp / 10)}
		tk.CacheWrite1h = part(tk.CacheWrite)
		tiers := []string{"", "batch", "flex", "priority"}
		e := usage.Event{Provider: pm.Provider, Model: pm.Model.ID, TS: aug2026, Tokens: tk,
			ServiceTier: tiers[rng.IntN(len(tiers))], WebSearchRequests: rng.Int64N(3)}
		q := en.Quote(&e)
		if !q.Matched {
			t.Fatalf("%s/%s does not resolve to itself", pm.Provider, pm.Model.ID)
		}
		leaves := dec("0")
		var inTok, outTok int64
		for _, l := range q.Breakdown.Lines {
			if l.Cost.IsNegative() || l.Quantity.IsNegative() {
				t.Fatalf("negative leaf %+v", l)
			}
			leaves = leaves.Add(l.Cost)
			switch l.Unit {
			case "cache_read", "cache_write", "cache_write_1h", "input_audio", "input_image", "input":
				inTok += l.Quantity.IntPart()
			case "reasoning", "output_audio", "output_image", "output":
				outTok += l.Quantity.IntPart()
			}
		}
		if !leaves.Equal(q.Breakdown.Total) {
			t.Fatalf("%s/%s: total %s != sum of leaves %s", pm.Provider, pm.Model.ID, q.Breakdown.Total, leaves)
		}
		if inTok > tk.Prompt || outTok > tk.Completion {
			t.Fatalf("%s/%s: leaves bill %d/%d tokens of %d/%d", pm.Provider, pm.Model.ID, inTok, outTok, tk.Prompt, tk.Completion)
		}
		if q.Total != nil {
			if -q.Total.Exponent() > Scale {
				t.Fatalf("cost %s has more than %d fractional digits", q.Total, Scale)
			}
			sum = sum.Add(*q.Total)
			sumAgain = sumAgain.Add(dec(q.Total.String())) // as stored and read back
		}
	}
	if !sum.Equal(sumAgain) {
		t.Fatalf("sum of stored costs %s != %s", sumAgain, sum)
	}
}

// Money never passes through a float: the package's non-test sources
// (generator included) must not mention float types or float parsing.
func TestNoFloatsInCostMath(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	more, _ := filepath.Glob("gen/*.go")
	bad := regexp.MustCompile(`float32|float64|ParseFloat|NewFromFloat|InexactFloat64|math\.`)
	n := 0
	for _, f := range append(files, more...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n++
		if loc := bad.FindIndex(b); loc != nil {
			t.Errorf("%s: float use %q", f, b[loc[0]:loc[1]])
		}
	}
	if n < 5 {
		t.Fatalf("only %d source files checked", n)
	}
}

func FuzzCompute(f *testing.F) {
	f.Add(int64(1000), int64(100), int64(10), int64(5), int64(3), int64(50))
	f.Add(int64(0), int64(0), int64(0), int64(0), int64(0), int64(0))
	f.Add(int64(10), int64(10), int64(1000), int64(1000), int64(1000), int64(1000))
	r := Rates{Input: decp("3"), CacheRead: decp("0.3"), CacheWrite: decp("3.75"), CacheWrite1h: decp("6"), Output: decp("15")}
	f.Fuzz(func(t *testing.T, prompt, comp, cr, cw, cw1h, reasoning int64) {
		b := Compute(r, nil, Usage{Tokens: Tokens{Prompt: prompt, Completion: comp, CacheRead: cr, CacheWrite: cw, CacheWrite1h: cw1h, Reasoning: reasoning}})
		sum := dec("0")
		for _, l := range b.Lines {
			if l.Cost.IsNegative() {
				t.Fatalf("negative leaf %+v", l)
			}
			sum = sum.Add(l.Cost)
		}
		if !sum.Equal(b.Total) {
			t.Fatal("total != sum")
		}
	})
}
