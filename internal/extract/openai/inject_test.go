package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestInjectIncludeUsage(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     string // "" means unchanged
		injected bool
		err      error
	}{
		{"adds stream_options",
			`{"model":"gpt-4o","stream":true,"messages":[]}`,
			`{"model":"gpt-4o","stream":true,"messages":[],"stream_options":{"include_usage":true}}`, true, nil},
		{"keeps whitespace and layout",
			"{\n  \"model\": \"gpt-4o\",\n  \"stream\" : true\n}\n",
			"{\n  \"model\": \"gpt-4o\",\n  \"stream\" : true,\"stream_options\":{\"include_usage\":true}\n}\n", true, nil},
		{"not streaming", `{"model":"gpt-4o","stream":false}`, "", false, nil},
		{"no stream key", `{"model":"gpt-4o"}`, "", false, nil},
		{"stream is a string", `{"stream":"true"}`, "", false, nil},
		{"already asked", `{"stream":true,"stream_options":{"include_usage":true}}`, "", false, nil},
		{"empty stream_options",
			`{"stream":true,"stream_options":{ }}`,
			`{"stream":true,"stream_options":{"include_usage":true }}`, true, nil},
		{"other stream_options member",
			`{"stream":true,"stream_options":{"include_obfuscation":false}}`,
			`{"stream":true,"stream_options":{"include_obfuscation":false,"include_usage":true}}`, true, nil},
		{"explicit false is flipped",
			`{"stream":true,"stream_options":{"include_usage":false}}`,
			`{"stream":true,"stream_options":{"include_usage":true}}`, true, nil},
		{"null include_usage",
			`{"stream":true,"stream_options":{"include_usage":null}}`,
			`{"stream":true,"stream_options":{"include_usage":true}}`, true, nil},
		{"null stream_options",
			`{"stream":true,"stream_options":null}`,
			`{"stream":true,"stream_options":{"include_usage":true}}`, true, nil},
		{"words inside strings and nested objects",
			`{"messages":[{"role":"user","content":"\"stream\":true, \"stream_options\": {}"}],"metadata":{"stream":false,"stream_options":1},"stream":true}`,
			`{"messages":[{"role":"user","content":"\"stream\":true, \"stream_options\": {}"}],"metadata":{"stream":false,"stream_options":1},"stream":true,"stream_options":{"include_usage":true}}`, true, nil},
		{"nested stream true only", `{"metadata":{"stream":true}}`, "", false, nil},
		{"escaped key is the same key",
			`{"stre\u0061m":true}`,
			`{"stre\u0061m":true,"stream_options":{"include_usage":true}}`, true, nil},
		{"duplicate stream", `{"stream":false,"stream":true}`, "", false, ErrDuplicateKey},
		{"duplicate stream_options", `{"stream":true,"stream_options":{},"stream_options":{}}`, "", false, ErrDuplicateKey},
		{"escaped duplicate", `{"stream":true,"stream_\u006fptions":{},"stream_options":{}}`, "", false, ErrDuplicateKey},
		{"duplicate include_usage", `{"stream":true,"stream_options":{"include_usage":false,"include_usage":true}}`, "", false, ErrDuplicateKey},
		{"stream_options not an object", `{"stream":true,"stream_options":[1]}`, "", false, ErrStreamOptions},
		{"array body", `[{"stream":true}]`, "", false, nil},
		{"string body", `"stream"`, "", false, nil},
		{"invalid json", `{"stream":true,`, "", false, ErrInvalidJSON},
		{"empty body", ``, "", false, ErrInvalidJSON},
		{"unicode and numbers kept", `{"stream":true,"temperature":1.0e0,"x":"é😀"}`,
			`{"stream":true,"temperature":1.0e0,"x":"é😀","stream_options":{"include_usage":true}}`, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, injected, err := InjectIncludeUsage([]byte(tt.in))
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			want := tt.want
			if want == "" {
				want = tt.in
			}
			if string(out) != want || injected != tt.injected {
				t.Fatalf("got %q injected=%v\nwant %q injected=%v", out, injected, want, tt.injected)
			}
			if injected {
				checkInjected(t, []byte(tt.in), out)
				if !ClientAskedUsage(out) {
					t.Errorf("injected body does not ask for usage: %s", out)
				}
			}
		})
	}
}

func TestClientAskedUsage(t *testing.T) {
	for body, want := range map[string]bool{
		`{"stream":true,"stream_options":{"include_usage":true}}`:  true,
		`{"stream":true,"stream_options":{"include_usage":false}}`: false,
		`{"stream":true}`:                       false,
		`{"stream":true,"stream_options":null}`: false,
		`not json`:                              false,
	} {
		if got := ClientAskedUsage([]byte(body)); got != want {
			t.Errorf("ClientAskedUsage(%s) = %v, want %v", body, got, want)
		}
	}
}

// checkInjected asserts the invariants of an injection: the output is valid
// JSON, asks for usage, and differs from the input only by one splice that
// adds include_usage (or turns its value into true).
func checkInjected(t *testing.T, in, out []byte) {
	t.Helper()
	if !json.Valid(out) {
		t.Fatalf("output is not valid JSON: %q", out)
	}
	p := 0
	for p < len(in) && p < len(out) && in[p] == out[p] {
		p++
	}
	s := 0
	for s < len(in)-p && s < len(out)-p && in[len(in)-1-s] == out[len(out)-1-s] {
		s++
	}
	// One contiguous change, no larger than the splice: every other byte
	// is the client's.
	removed, added := in[p:len(in)-s], out[p:len(out)-s]
	if len(removed) > len("false") || len(added) > len(","+streamOptions) {
		t.Fatalf("unexpected change: removed %q added %q", removed, added)
	}
	// Semantically: equal to the input once stream_options.include_usage
	// is set to true in the input.
	var a, b map[string]any
	if json.Unmarshal(in, &a) != nil || json.Unmarshal(out, &b) != nil {
		t.Fatal("unmarshal")
	}
	so, _ := a["stream_options"].(map[string]any)
	if so == nil {
		so = map[string]any{}
	}
	so["include_usage"] = true
	a["stream_options"] = so
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("semantic change:\n in: %s\nout: %s", in, out)
	}
}

func FuzzInjectIncludeUsage(f *testing.F) {
	for _, s := range []string{
		`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`,
		`{"stream":true,"stream_options":{}}`,
		`{"stream":true,"stream_options":{"include_usage":false}}`,
		`{"stream":true,"stream_options":null}`,
		`{ "stream" : true , "n" : [1, {"stream_options":2}] }`,
		`{"stre\u0061m":true}`,
		`[true]`, `{}`, `{"stream":true,"stream":true}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, injected, err := InjectIncludeUsage(body)
		if err != nil || !injected {
			if !bytes.Equal(out, body) {
				t.Fatalf("body changed without injection: %q -> %q", body, out)
			}
			return
		}
		checkInjected(t, body, out)
		if again, inj, err := InjectIncludeUsage(out); err != nil || inj || !bytes.Equal(again, out) {
			t.Fatalf("second injection changed the body: %q (%v, %v)", again, inj, err)
		}
	})
}
