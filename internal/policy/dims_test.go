package policy

import (
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/spendops/spendops/internal/keys"
)

const inv = "Invalid X-ASO-Dims: "

var anyKey = keys.DimsPolicy{Allowed: []string{"*"}}

func TestParseDims(t *testing.T) {
	e := func(n int) string { return strings.Repeat("é", n) }
	k := func(n int) string { return strings.Repeat("k", n) }
	v := func(n int) string { return strings.Repeat("v", n) }
	pairs := func(n int, sep string) string {
		var b []string
		for i := range n {
			b = append(b, "k"+string(rune('a'+i))+sep+"v")
		}
		return strings.Join(b, ",")
	}
	jsonPairs := func(n int) string {
		var b []string
		for i := range n {
			b = append(b, `"k`+string(rune('a'+i))+`":"v"`)
		}
		return "{" + strings.Join(b, ",") + "}"
	}
	required := keys.DimsPolicy{Required: true}
	pinned := keys.DimsPolicy{Pinned: map[string]string{"cost-center": "cc-42"}}
	defaults := keys.DimsPolicy{Defaults: map[string]string{"env": "prod", "owner": "platform"}}
	m := func(kv ...string) map[string]string {
		out := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	tests := []struct {
		name   string
		values []string
		pol    keys.DimsPolicy
		want   map[string]string
		err    string
	}{
		// Presence.
		{name: "absent", values: nil},
		{name: "empty value is absent", values: []string{""}},
		{name: "blank value is absent", values: []string{" \t "}},
		{name: "only commas", values: []string{" , ,"}},
		{name: "empty JSON object", values: []string{"{}"}},
		{name: "required absent", pol: required, err: MsgDimsRequired},
		{name: "required empty", values: []string{""}, pol: required, err: MsgDimsRequired},
		{name: "required empty object", values: []string{"{ }"}, pol: required, err: MsgDimsRequired},
		{name: "required commas", values: []string{",,"}, pol: required, err: MsgDimsRequired},
		{name: "required satisfied", values: []string{"team=a"}, pol: required, want: m("team", "a")},
		{name: "header repeated", values: []string{"team=a", "env=b"}, err: inv + "header sent more than once"},
		{name: "header repeated empty", values: []string{"team=a", ""}, err: inv + "header sent more than once"},

		// Simple form.
		{name: "docs example", values: []string{"team=search,app=product-search,env=prod"}, want: m("team", "search", "app", "product-search", "env", "prod")},
		{name: "spaces trimmed", values: []string{"  team = search , env=prod  "}, want: m("team", "search", "env", "prod")},
		{name: "tabs trimmed", values: []string{"team\t=\tsearch"}, want: m("team", "search")},
		{name: "trailing comma", values: []string{"team=a,"}, want: m("team", "a")},
		{name: "empty element", values: []string{"team=a,,env=b"}, want: m("team", "a", "env", "b")},
		{name: "key lower-cased", values: []string{"Team=a,ENV=b"}, want: m("team", "a", "env", "b")},
		{name: "value case kept", values: []string{"team=Search"}, want: m("team", "Search")},
		{name: "inner spaces kept", values: []string{"team=search  team"}, want: m("team", "search  team")},
		{name: "unicode value", values: []string{"team=équipe"}, want: m("team", "équipe")},
		{name: "emoji value", values: []string{"team=🚀"}, want: m("team", "🚀")},
		{name: "colon slash braces in value", values: []string{"app=svc:v2/{x}"}, want: m("app", "svc:v2/{x}")},
		{name: "percent not decoded", values: []string{"app=a%2Cb"}, want: m("app", "a%2Cb")},
		{name: "no equals", values: []string{"team"}, err: inv + `"team" has no "=" (want key=value)`},
		{name: "no equals second", values: []string{"team=a,env"}, err: inv + `"env" has no "=" (want key=value)`},
		{name: "empty key", values: []string{"=a"}, err: inv + "empty dimension key"},
		{name: "empty value", values: []string{"team="}, err: inv + `empty value for dimension "team"`},
		{name: "blank value", values: []string{"team=  ,env=b"}, err: inv + `empty value for dimension "team"`},
		{name: "equals in value", values: []string{"team=a=b"}, err: inv + `value of "team" contains "=" (use the JSON form)`},
		{name: "quote in value", values: []string{`team="a"`}, err: inv + `value of "team" contains '"' (use the JSON form)`},
		{name: "space in key", values: []string{"te am=a"}, err: inv + `dimension key "te am" must be letters, digits, '_', '.' or '-', starting with a letter or digit`},
		{name: "leading dash key", values: []string{"-team=a"}, err: inv + `dimension key "-team" must be letters, digits, '_', '.' or '-', starting with a letter or digit`},
		{name: "unicode key", values: []string{"tëam=a"}, err: inv + `dimension key "tëam" must be letters, digits, '_', '.' or '-', starting with a letter or digit`},
		{name: "long bad key cut", values: []string{k(50) + "!=a"}, err: inv + `dimension key "` + k(40) + `"… must be letters, digits, '_', '.' or '-', starting with a letter or digit`},
		{name: "key punctuation ok", values: []string{"a.b_c-d=1,9lives=x"}, pol: anyKey, want: m("a.b_c-d", "1", "9lives", "x")},
		{name: "duplicate", values: []string{"team=a,team=b"}, err: inv + `duplicate dimension key "team"`},
		{name: "duplicate by case", values: []string{"team=a,TEAM=a"}, err: inv + `duplicate dimension key "team"`},
		{name: "control char", values: []string{"team=a\x01b"}, err: inv + `value of dimension "team" has a control or invisible character`},
		{name: "DEL", values: []string{"team=a\x7fb"}, err: inv + `value of dimension "team" has a control or invisible character`},
		{name: "inner tab", values: []string{"team=a\tb"}, err: inv + `value of dimension "team" has a control or invisible character`},
		{name: "zero width space", values: []string{"team=a\u200bb"}, err: inv + `value of dimension "team" has a control or invisible character`},
		{name: "bidi override", values: []string{"team=a\u202eb"}, err: inv + `value of dimension "team" has a control or invisible character`},
		{name: "C1 control", values: []string{"team=a\u0085b"}, err: inv + `value of dimension "team" has a control or invisible character`},
		{name: "private use", values: []string{"team=\ue000"}, err: inv + `value of dimension "team" has a control or invisible character`},
		{name: "non UTF-8", values: []string{"team=\xff"}, err: inv + "not valid UTF-8"},
		{name: "latin-1 byte", values: []string{"team=caf\xe9"}, err: inv + "not valid UTF-8"},
		{name: "JSON array is not an object", values: []string{`["team"]`}, err: inv + `"[\"team\"]" has no "=" (want key=value)`},

		// Policy: allowed keys.
		{name: "key not allowed", values: []string{"department=x"}, err: `Dimension key "department" not allowed`},
		{name: "key not allowed lower-cased", values: []string{"Department=x"}, err: `Dimension key "department" not allowed`},
		{name: "any key", values: []string{"department=x"}, pol: anyKey, want: m("department", "x")},
		{name: "custom allowed", values: []string{"cost-center=1"}, pol: keys.DimsPolicy{Allowed: []string{"cost-center"}}, want: m("cost-center", "1")},
		{name: "custom allowed replaces default", values: []string{"team=a"}, pol: keys.DimsPolicy{Allowed: []string{"cost-center"}}, err: `Dimension key "team" not allowed`},

		// Policy: limits at their boundaries.
		{name: "8 pairs", values: []string{pairs(8, "=")}, pol: anyKey, want: func() map[string]string {
			out := map[string]string{}
			for i := range 8 {
				out["k"+string(rune('a'+i))] = "v"
			}
			return out
		}()},
		{name: "9 pairs", values: []string{pairs(9, "=")}, pol: anyKey, err: "Too many dimension pairs (max 8)"},
		{name: "9 pairs checked before syntax", values: []string{pairs(8, "=") + ",bad"}, pol: anyKey, err: "Too many dimension pairs (max 8)"},
		{name: "max 2", values: []string{"team=a,env=b,app=c"}, pol: keys.DimsPolicy{MaxPairs: 2}, err: "Too many dimension pairs (max 2)"},
		{name: "key 32", values: []string{k(32) + "=a"}, pol: anyKey, want: m(k(32), "a")},
		{name: "key 33", values: []string{k(33) + "=a"}, pol: anyKey, err: "Dimension key too long"},
		{name: "key too long before not allowed", values: []string{k(33) + "=a"}, err: "Dimension key too long"},
		{name: "key 40 allowed by max_key_len", values: []string{k(40) + "=a"}, pol: keys.DimsPolicy{Allowed: []string{"*"}, MaxKeyLen: 40}, want: m(k(40), "a")},
		{name: "value 64", values: []string{"team=" + v(64)}, want: m("team", v(64))},
		{name: "value 65", values: []string{"team=" + v(65)}, err: "Dimension value too long"},
		{name: "value 64 runes", values: []string{"team=" + e(64)}, want: m("team", e(64))},
		{name: "value 65 runes", values: []string{"team=" + e(65)}, err: "Dimension value too long"},
		{name: "value length after trim", values: []string{"team=  " + v(64) + "  "}, want: m("team", v(64))},
		{name: "value 10 custom", values: []string{"team=" + v(11)}, pol: keys.DimsPolicy{MaxValueLen: 10}, err: "Dimension value too long"},

		// JSON form.
		{name: "JSON docs example", values: []string{`{"team":"search","app":"product-search","env":"prod"}`}, want: m("team", "search", "app", "product-search", "env", "prod")},
		{name: "JSON whitespace", values: []string{` { "team" : "a" , "env":"b" } `}, want: m("team", "a", "env", "b")},
		{name: "JSON holds comma and equals", values: []string{`{"team":"a,b=c"}`}, want: m("team", "a,b=c")},
		{name: "JSON holds quotes", values: []string{`{"team":"say \"hi\""}`}, want: m("team", `say "hi"`)},
		{name: "JSON unicode escape", values: []string{`{"team":"\u00e9quipe"}`}, want: m("team", "équipe")},
		{name: "JSON surrogate pair", values: []string{`{"team":"\ud83d\ude80"}`}, want: m("team", "🚀")},
		{name: "JSON escaped key", values: []string{`{"\u0074eam":"a"}`}, want: m("team", "a")},
		{name: "JSON key case", values: []string{`{"TEAM":"a"}`}, want: m("team", "a")},
		{name: "JSON value trimmed", values: []string{`{"team":" a "}`}, want: m("team", "a")},
		{name: "JSON number", values: []string{`{"team":1}`}, err: inv + `value of "team" must be a string`},
		{name: "JSON null", values: []string{`{"team":null}`}, err: inv + `value of "team" must be a string`},
		{name: "JSON bool", values: []string{`{"team":true}`}, err: inv + `value of "team" must be a string`},
		{name: "JSON nested", values: []string{`{"team":{"a":"b"}}`}, err: inv + `value of "team" must be a string`},
		{name: "JSON array value", values: []string{`{"team":["a"]}`}, err: inv + `value of "team" must be a string`},
		{name: "JSON unterminated", values: []string{`{"team":"a"`}, err: inv + "malformed JSON object"},
		{name: "JSON trailing data", values: []string{`{"team":"a"} x`}, err: inv + "malformed JSON object"},
		{name: "JSON two objects", values: []string{`{"team":"a"}{"env":"b"}`}, err: inv + "malformed JSON object"},
		{name: "JSON trailing comma", values: []string{`{"team":"a",}`}, err: inv + "malformed JSON object"},
		{name: "JSON single quotes", values: []string{`{'team':'a'}`}, err: inv + "malformed JSON object"},
		{name: "JSON bad escape", values: []string{`{"team":"\x"}`}, err: inv + "malformed JSON object"},
		{name: "JSON bare key", values: []string{`{team:"a"}`}, err: inv + "malformed JSON object"},
		{name: "JSON duplicate", values: []string{`{"team":"a","team":"b"}`}, err: inv + `duplicate dimension key "team"`},
		{name: "JSON duplicate by case", values: []string{`{"team":"a","Team":"a"}`}, err: inv + `duplicate dimension key "team"`},
		{name: "JSON empty key", values: []string{`{"":"a"}`}, err: inv + "empty dimension key"},
		{name: "JSON empty value", values: []string{`{"team":""}`}, err: inv + `empty value for dimension "team"`},
		{name: "JSON blank value", values: []string{`{"team":"  "}`}, err: inv + `empty value for dimension "team"`},
		{name: "JSON NUL escape", values: []string{`{"team":"a\u0000"}`}, err: inv + `value of dimension "team" has a control or invisible character`},
		{name: "JSON newline escape", values: []string{`{"team":"a\nb"}`}, err: inv + `value of dimension "team" has a control or invisible character`},
		{name: "JSON key with space", values: []string{`{"my team":"a"}`}, err: inv + `dimension key "my team" must be letters, digits, '_', '.' or '-', starting with a letter or digit`},
		{name: "JSON not allowed", values: []string{`{"department":"x"}`}, err: `Dimension key "department" not allowed`},
		{name: "JSON 8 pairs", values: []string{jsonPairs(8)}, pol: anyKey, want: func() map[string]string {
			out := map[string]string{}
			for i := range 8 {
				out["k"+string(rune('a'+i))] = "v"
			}
			return out
		}()},
		{name: "JSON 9 pairs", values: []string{jsonPairs(9)}, pol: anyKey, err: "Too many dimension pairs (max 8)"},
		{name: "JSON value 65", values: []string{`{"team":"` + v(65) + `"}`}, err: "Dimension value too long"},
		{name: "JSON key 33", values: []string{`{"` + k(33) + `":"a"}`}, pol: anyKey, err: "Dimension key too long"},

		// Pinned and default dimensions.
		{name: "pinned recorded", pol: pinned, want: m("cost-center", "cc-42")},
		{name: "pinned with request dims", values: []string{"team=a"}, pol: pinned, want: m("cost-center", "cc-42", "team", "a")},
		{name: "pinned same value sent", values: []string{"cost-center=cc-42"}, pol: pinned, want: m("cost-center", "cc-42")},
		{name: "pinned other value", values: []string{"cost-center=cc-1"}, pol: pinned, err: `Dimension "cost-center" is pinned by API key policy and cannot be changed`},
		{name: "pinned other value JSON", values: []string{`{"Cost-Center":"x"}`}, pol: pinned, err: `Dimension "cost-center" is pinned by API key policy and cannot be changed`},
		{name: "defaults recorded", pol: defaults, want: m("env", "prod", "owner", "platform")},
		{name: "default overridden", values: []string{"env=dev"}, pol: defaults, want: m("env", "dev", "owner", "platform")},
		{name: "default key outside allowed list may be overridden", values: []string{"owner=search"}, pol: defaults, want: m("env", "prod", "owner", "search")},
		{name: "pinned and defaults do not count toward max pairs", values: []string{"team=a"},
			pol:  keys.DimsPolicy{MaxPairs: 1, Pinned: map[string]string{"cost-center": "1"}, Defaults: map[string]string{"env": "prod"}},
			want: m("team", "a", "cost-center", "1", "env", "prod")},
		{name: "sent pinned key counts", values: []string{"team=a,cost-center=1"},
			pol: keys.DimsPolicy{MaxPairs: 1, Pinned: map[string]string{"cost-center": "1"}}, err: "Too many dimension pairs (max 1)"},
		{name: "required is not met by pinned", pol: keys.DimsPolicy{Required: true, Pinned: map[string]string{"team": "a"}}, err: MsgDimsRequired},
	}
	if len(tests) < 60 {
		t.Fatalf("only %d cases", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, d := ParseDims(tt.values, tt.pol)
			if tt.err != "" {
				if d == nil {
					t.Fatalf("got %v, want error %q", got, tt.err)
				}
				if d.Message != tt.err {
					t.Fatalf("error\n got %q\nwant %q", d.Message, tt.err)
				}
				if d.Status != http.StatusBadRequest || d.Type != "dimension_validation" {
					t.Fatalf("denial %+v: want 400 dimension_validation", d)
				}
				if got != nil {
					t.Fatalf("dims %v returned with an error", got)
				}
				return
			}
			if d != nil {
				t.Fatalf("unexpected error %q", d.Message)
			}
			if len(tt.want) == 0 {
				if got != nil {
					t.Fatalf("got %v, want nil", got)
				}
				return
			}
			if !maps.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFormatDims(t *testing.T) {
	tests := []struct {
		dims map[string]string
		want string
	}{
		{nil, ""},
		{map[string]string{"team": "search", "app": "x", "env": "prod"}, "app=x,env=prod,team=search"},
		{map[string]string{"team": "a,b"}, `{"team":"a,b"}`},
		{map[string]string{"team": "a=b", "env": "p"}, `{"env":"p","team":"a=b"}`},
		{map[string]string{"team": `say "hi"`}, `{"team":"say \"hi\""}`},
		{map[string]string{"team": "équipe 🚀"}, "team=équipe 🚀"},
	}
	for _, tt := range tests {
		got := FormatDims(tt.dims)
		if got != tt.want {
			t.Errorf("FormatDims(%v) = %q, want %q", tt.dims, got, tt.want)
		}
		back, d := ParseDims([]string{got}, anyKey)
		if d != nil || len(back) != len(tt.dims) || (len(back) > 0 && !maps.Equal(back, tt.dims)) {
			t.Errorf("round trip of %q: %v, %v", got, back, d)
		}
	}
}

func TestParseDimsDoesNotAliasPolicyMaps(t *testing.T) {
	p := keys.DimsPolicy{Defaults: map[string]string{"env": "prod"}}
	got, _ := ParseDims([]string{"env=dev"}, p)
	got["x"] = "y"
	if p.Defaults["env"] != "prod" || len(p.Defaults) != 1 {
		t.Fatalf("policy map changed: %v", p.Defaults)
	}
}
