package policy

import (
	"strings"
	"testing"

	"github.com/spendops/spendops/internal/keys"
)

func TestValidatePolicy(t *testing.T) {
	tests := []struct {
		name string
		p    keys.Policy
		errs []string // substrings, one per expected problem
	}{
		{name: "zero", p: keys.Policy{}},
		{name: "full", p: keys.Policy{
			Providers: []string{"openai", "anthropic", "google-ai-studio", "*"},
			Models:    []string{"*", "openai:gpt-4.1", "openai:gpt-4*", "anthropic:*", "openrouter:openai/gpt-4o:online"},
			Dims: keys.DimsPolicy{Required: true, Allowed: []string{"team", "cost-center", "*"}, MaxPairs: 64, MaxKeyLen: 128, MaxValueLen: 1024,
				Pinned: map[string]string{"tenant": "acme, inc."}, Defaults: map[string]string{"env": "prod"}},
		}},
		{name: "bad provider", p: keys.Policy{Providers: []string{"OpenAI", ""}}, errs: []string{`providers[0]: "OpenAI"`, `providers[1]: ""`}},
		{name: "bad patterns", p: keys.Policy{Models: []string{"gpt-4", "openai:", "openai:gpt*4", "open ai:x", ":x", "openai: gpt-4", "openai:gpt\x00"}},
			errs: []string{`models[0]: "gpt-4": want "*"`, "models[1]", `models[2]: "openai:gpt*4": "*" is allowed only at the end`, "models[3]", "models[4]", "models[5]", "models[6]"}},
		{name: "limits", p: keys.Policy{Dims: keys.DimsPolicy{MaxPairs: -1, MaxKeyLen: 129, MaxValueLen: -5}},
			errs: []string{"dims.max_pairs: -1", "dims.max_key_len: 129", "dims.max_value_len: -5"}},
		{name: "allowed keys", p: keys.Policy{Dims: keys.DimsPolicy{Allowed: []string{"Team", "my team", strings.Repeat("k", 33)}}},
			errs: []string{`key "Team" must be lower-case`, `key "my team" must be letters`, "longer than 32"}},
		{name: "pinned and defaults", p: keys.Policy{Dims: keys.DimsPolicy{
			Pinned:   map[string]string{"team": "", "app": " x", "env": "a\x01", "x": strings.Repeat("v", 65)},
			Defaults: map[string]string{"team": "a", "Bad!": "v"}}},
			errs: []string{`dims.pinned["app"]: value must be non-empty`, `dims.pinned["env"]: value has a control`, `dims.pinned["team"]: value must be non-empty`,
				`dims.pinned["x"]: value is longer than 64`, `dims.defaults: key "Bad!"`, `key "team" is both pinned and defaulted`}},
		{name: "pinned within raised limit", p: keys.Policy{Dims: keys.DimsPolicy{MaxValueLen: 100, Pinned: map[string]string{"team": strings.Repeat("v", 100)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidatePolicy(tt.p)
			if len(tt.errs) == 0 {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.errs)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.errs) {
				t.Fatalf("got %d problems, want %d:\n%v", len(lines), len(tt.errs), err)
			}
			for _, want := range tt.errs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("missing %q in:\n%v", want, err)
				}
			}
		})
	}
}

// TestValidatedPinnedValuesParse: every value ValidatePolicy accepts for a
// pinned dimension can be sent back by a client (canonical form).
func TestValidatedPinnedValuesParse(t *testing.T) {
	pinned := map[string]string{"team": "a,b=c", "app": `say "hi"`, "env": "prod"}
	p := keys.DimsPolicy{Pinned: pinned}
	if err := ValidatePolicy(keys.Policy{Dims: p}); err != nil {
		t.Fatal(err)
	}
	got, d := ParseDims([]string{FormatDims(pinned)}, p)
	if d != nil || len(got) != 3 {
		t.Fatalf("%v %v", got, d)
	}
}
