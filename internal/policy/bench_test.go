package policy

import (
	"net/http"
	"os"
	"testing"

	"github.com/spendops/spendops/internal/keys"
)

func benchInput(b *testing.B) Input {
	body, err := os.ReadFile("testdata/chat_2k.json")
	if err != nil {
		b.Fatal(err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(DimsHeader, "team=search,app=product-search,env=prod")
	return Input{Provider: "openai", Method: "POST", Path: "/v1/chat/completions", Header: h, Body: body}
}

// BenchmarkEvaluate is the per-request cost for a typical 2 KB chat body
// with a restrictive model list, required dimensions and a default.
func BenchmarkEvaluate(b *testing.B) {
	in := benchInput(b)
	pol := keys.Policy{
		Providers: []string{"openai", "anthropic"},
		Models:    []string{"openai:gpt-4.1*", "openai:gpt-4o-mini", "anthropic:claude-sonnet-4*"},
		Dims:      keys.DimsPolicy{Required: true, Defaults: map[string]string{"cost-center": "cc-1"}},
	}
	b.SetBytes(int64(len(in.Body)))
	b.ReportAllocs()
	for b.Loop() {
		if d := Evaluate(pol, in); d.Denial != nil {
			b.Fatal(d.Denial.Message)
		}
	}
}

// BenchmarkEvaluateUnrestricted: the same request for a key with no model
// list (the body is still scanned once for the recorded model).
func BenchmarkEvaluateUnrestricted(b *testing.B) {
	in := benchInput(b)
	b.SetBytes(int64(len(in.Body)))
	b.ReportAllocs()
	for b.Loop() {
		if d := Evaluate(keys.Policy{}, in); d.Denial != nil {
			b.Fatal(d.Denial.Message)
		}
	}
}

func BenchmarkParseDimsJSON(b *testing.B) {
	v := []string{`{"team":"search","app":"product-search","env":"prod"}`}
	b.ReportAllocs()
	for b.Loop() {
		ParseDims(v, keys.DimsPolicy{})
	}
}
