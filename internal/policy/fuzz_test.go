package policy

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/spendops/spendops/internal/keys"
)

func FuzzParseDims(f *testing.F) {
	for _, s := range []string{
		"team=search,app=product-search,env=prod", `{"team":"search","app":"x"}`, " Team = a ,,", "team=a=b",
		`{"team":"a,b=c","k":"\u00e9"}`, `{"a":1}`, "k=\xff", "a.b-c_d=é 🚀", `{"team":"a"`, "", ",", "{}",
	} {
		f.Add(s)
	}
	big := keys.DimsPolicy{Allowed: []string{"*"}, MaxPairs: 64, MaxKeyLen: 128, MaxValueLen: 1024}
	f.Fuzz(func(t *testing.T, s string) {
		ParseDims([]string{s}, keys.DimsPolicy{}) // default policy: must not panic
		got, d := ParseDims([]string{s}, big)
		if d != nil {
			if d.Status != http.StatusBadRequest || d.Message == "" {
				t.Fatalf("bad denial %+v", d)
			}
			return
		}
		for k, v := range got {
			if !validKeyChars(k) || strings.ToLower(k) != k || len(k) > 128 {
				t.Fatalf("accepted key %q", k)
			}
			if v == "" || !utf8.ValidString(v) || !validValueChars(v) || strings.TrimFunc(v, unicode.IsSpace) != v {
				t.Fatalf("accepted value %q", v)
			}
		}
		canon := FormatDims(got)
		back, d := ParseDims([]string{canon}, big)
		if d != nil {
			t.Fatalf("canonical %q of %q rejected: %s", canon, s, d.Message)
		}
		if len(got) != len(back) || len(got) > 0 && !maps.Equal(got, back) {
			t.Fatalf("round trip %q -> %v -> %q -> %v", s, got, canon, back)
		}
		if FormatDims(back) != canon {
			t.Fatalf("canonical form not stable: %q", canon)
		}
	})
}

// FuzzModelFromRequest checks that extraction never panics and that, for
// valid UTF-8 bodies, the JSON scanner agrees with encoding/json on
// validity and on the top-level "model".
func FuzzModelFromRequest(f *testing.F) {
	f.Add("/v1beta/models/gemini-2.5-flash:generateContent", "alt=sse", []byte(`{"contents":[]}`), "application/json", "")
	f.Add("/v1/chat/completions", "", []byte(`{"model":"gpt-4.1","messages":[{"role":"user","content":"hi \u00e9"}]}`), "text/plain", "")
	f.Add("/v1/chat/completions", "model=x", []byte(`{"\u006dodel":"a","MODEL":"b"}`), "", "")
	f.Add("/v1/audio/transcriptions", "", []byte("--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--b--\r\n"), "multipart/form-data; boundary=b", "")
	f.Add("/v1/x", "", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3}, "", "gzip")
	f.Add("/v1/messages/batches", "", []byte(`{"requests":[{"params":{"model":"c"}}],"models":["a"],"fallbacks":[{"model":"b"},"d"]}`), "", "")
	f.Fuzz(func(t *testing.T, path, query string, body []byte, ct, enc string) {
		h := http.Header{}
		if ct != "" {
			h.Set("Content-Type", ct)
		}
		if enc != "" {
			h.Set("Content-Encoding", enc)
		}
		for _, prov := range []string{"openai", "google"} {
			in := Input{Provider: prov, Method: "POST", Path: path, RawQuery: query, Header: h, Body: body, MaxDecodedBytes: 1 << 16}
			ms, err := ModelFromRequest(in)
			if err != nil {
				if d, ok := err.(*Denial); !ok || d.Status < 400 || d.Status > 499 {
					t.Fatalf("bad error %v", err)
				}
			}
			_ = ms
			Evaluate(keys.Policy{Models: []string{"openai:gpt-4*"}}, in)
		}
		if !utf8.Valid(body) || bytes.Count(body, []byte("["))+bytes.Count(body, []byte("{")) > 500 {
			return
		}
		s := scanner{b: body}
		if s.peek() != '{' {
			return
		}
		primary, _, err := scanJSONBody(body)
		if err != nil && err != errBadJSON {
			return // a policy error (duplicate, non-string) stops the scan early
		}
		if (err == nil) != json.Valid(body) {
			t.Fatalf("scanner err %v, json.Valid %v for %q", err, json.Valid(body), body)
		}
		if err != nil {
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) != nil {
			t.Fatalf("encoding/json rejects %q", body)
		}
		var raw json.RawMessage
		n := 0
		for k, v := range m {
			if strings.EqualFold(k, "model") {
				raw, n = v, n+1
			}
		}
		if n > 1 {
			t.Fatalf("scanner missed a duplicate model in %q", body)
		}
		var want string
		if n == 1 {
			json.Unmarshal(raw, &want) // null leaves ""
		}
		if primary != want {
			t.Fatalf("model %q, encoding/json %q, body %q", primary, want, body)
		}
	})
}
