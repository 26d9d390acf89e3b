package gemini

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spendops/spendops/internal/extract/extracttest"
)

type member struct{ Key, Value string }

func scanMembers(max int, chunks ...[]byte) []member {
	var out []member
	s := newMemberScanner(max, func([]byte) bool { return true }, func(k, v []byte) {
		out = append(out, member{string(k), string(v)})
	})
	for _, c := range chunks {
		_, _ = s.Write(c)
	}
	return out
}

func TestMemberScanner(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []member
	}{
		{"object", `{"a": 1, "b" : {"c":[1,2]} ,"d":"x"}`, []member{{"a", "1"}, {"b", `{"c":[1,2]}`}, {"d", `"x"`}}},
		{"array stream crlf", "[{\"a\":1}\r\n,{\"a\":2\n}\r\n]", []member{{"a", "1"}, {"a", "2"}}},
		{"strings with structure", `{"t":"a\"},{\\","u":"]"}`, []member{{"t", `"a\"},{\\"`}, {"u", `"]"`}}},
		{"escaped key kept raw", `{"k\"ey":true}`, []member{{`k\"ey`, "true"}}},
		{"empty", `{} [] [{}]`, nil},
		{"non-object elements skipped", `[1,"x",[{"a":1}],{"b":2}]`, []member{{"b", "2"}}},
		{"concatenated values", `{"a":1}{"b":2}`, []member{{"a", "1"}, {"b", "2"}}},
		{"cut mid value", `[{"a":1,"b":{"c":`, []member{{"a", "1"}}},
		{"stray closers", `]]}}{"a":1}`, []member{{"a", "1"}}},
		{"nested record-like objects ignored", `{"a":{"b":{"c":1}}}`, []member{{"a", `{"b":{"c":1}}`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scanMembers(1<<20, []byte(tt.in)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMemberScannerCap(t *testing.T) {
	in := `[{"big":"` + strings.Repeat("x", 100) + `","small":1},{"small":2}]`
	want := []member{{"small", "1"}, {"small", "2"}}
	if got := scanMembers(50, []byte(in)); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// reference lists the members of the records of a valid JSON document with
// encoding/json, values as in the source.
func reference(data []byte, max int) ([]member, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []member
	readRecord := func() bool {
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return false
			}
			var v json.RawMessage
			if dec.Decode(&v) != nil {
				return false
			}
			if len(v) <= max {
				out = append(out, member{k.(string), string(v)})
			}
		}
		_, err := dec.Token()
		return err == nil
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out, true
		}
		if err != nil {
			return nil, false
		}
		switch tok {
		case json.Delim('{'):
			if !readRecord() {
				return nil, false
			}
		case json.Delim('['):
			for dec.More() {
				var raw json.RawMessage
				if dec.Decode(&raw) != nil {
					return nil, false
				}
				if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '{' {
					sub, ok := reference(t, max)
					if !ok {
						return nil, false
					}
					out = append(out, sub...)
				}
			}
			if _, err := dec.Token(); err != nil {
				return nil, false
			}
		}
	}
}

// FuzzMemberScanner: never panics, chunking never changes the members, and
// on valid JSON the members are exactly encoding/json's.
func FuzzMemberScanner(f *testing.F) {
	for _, name := range []string{"stream_array.json", "stream_array_cut.json", "generate_grounding.json", "generate_multimodal.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, int64(1), uint16(200))
	}
	f.Add([]byte(`[{"a":"\"}"},{"b":[{"c":1}]}]`), int64(2), uint16(4))
	f.Fuzz(func(t *testing.T, data []byte, seed int64, max uint16) {
		limit := int(max) + 1
		whole := scanMembers(limit, data)
		rng := rand.New(rand.NewSource(seed))
		if got := scanMembers(limit, extracttest.RandomChunks(rng, data)...); !reflect.DeepEqual(got, whole) {
			t.Fatalf("chunking changed members:\n%q\n%q", got, whole)
		}
		keys := 0
		for _, m := range whole {
			if len(m.Value) > limit {
				t.Fatalf("member over the cap reported: %d > %d", len(m.Value), limit)
			}
			keys++
		}
		if !json.Valid(data) {
			return
		}
		if want, ok := reference(data, limit); ok && !reflect.DeepEqual(whole, want) {
			t.Fatalf("members differ from encoding/json:\ngot  %q\nwant %q", whole, want)
		}
	})
}
