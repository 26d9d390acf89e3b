package wire

import (
	"encoding/json"
	"math"
	"testing"
)

func TestContentMode(t *testing.T) {
	tests := []struct {
		ct   string
		want Mode
	}{
		{"text/event-stream", SSE},
		{"text/event-stream; charset=utf-8", SSE},
		{"application/json", JSON},
		{"application/json; charset=UTF-8", JSON},
		{"application/problem+json", JSON},
		{"text/plain", Unknown},
		{"", Unknown},
		{";;", Unknown},
	}
	for _, tt := range tests {
		if got := ContentMode(tt.ct); got != tt.want {
			t.Errorf("ContentMode(%q) = %v, want %v", tt.ct, got, tt.want)
		}
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		in, openers string
		want        Mode
		rest        string
	}{
		{" \r\n\t{\"a\":1}", "{", JSON, `{"a":1}`},
		{"[{}]", "{", SSE, "[{}]"},
		{"[{}]", "{[", JSON, "[{}]"},
		{"\ndata: {}", "{[", SSE, "data: {}"},
		{" \r\n", "{", Unknown, ""},
		{"", "{", Unknown, ""},
	}
	for _, tt := range tests {
		m, rest := Sniff([]byte(tt.in), tt.openers)
		if m != tt.want || string(rest) != tt.rest {
			t.Errorf("Sniff(%q, %q) = %v, %q; want %v, %q", tt.in, tt.openers, m, rest, tt.want, tt.rest)
		}
	}
}

func TestCappedBody(t *testing.T) {
	c := CappedBody{Max: 5}
	c.Write([]byte("ab"))
	c.Write([]byte("cde"))
	if c.Over() || string(c.Bytes()) != "abcde" {
		t.Fatalf("at the cap: over=%v %q", c.Over(), c.Bytes())
	}
	c.Write([]byte("f"))
	c.Write(nil)
	if !c.Over() || c.Bytes() != nil {
		t.Fatalf("over the cap: over=%v %q", c.Over(), c.Bytes())
	}
}

func TestNum(t *testing.T) {
	tests := []struct {
		in   string
		want Num
	}{
		{`{"n":12}`, Num{12, true}},
		{`{"n":0}`, Num{0, true}},
		{`{"n":9223372036854775807}`, Num{math.MaxInt64, true}},
		{`{"n":9223372036854775808}`, Num{}},
		{`{"n":-3}`, Num{}},
		{`{"n":1.5}`, Num{}},
		{`{"n":1e3}`, Num{}},
		{`{"n":"12"}`, Num{}},
		{`{"n":null}`, Num{}},
		{`{}`, Num{}},
	}
	for _, tt := range tests {
		var v struct{ N Num }
		if err := json.Unmarshal([]byte(tt.in), &v); err != nil || v.N != tt.want {
			t.Errorf("%s: %+v, %v; want %+v", tt.in, v.N, err, tt.want)
		}
	}
}

func TestAdd(t *testing.T) {
	if got := Add(2, 3); got != 5 {
		t.Errorf("Add(2, 3) = %d", got)
	}
	if got := Add(math.MaxInt64-1, 2); got != math.MaxInt64 {
		t.Errorf("Add saturates: got %d", got)
	}
}

func TestDecodeAndIsObject(t *testing.T) {
	var v struct {
		A int    `json:"a"`
		B string `json:"b"`
	}
	if !Decode([]byte(`{"a":"x","b":"ok"}`), &v) || v.B != "ok" || v.A != 0 {
		t.Errorf("a wrongly typed member must be skipped: %+v", v)
	}
	if Decode([]byte(`{"a":`), &v) {
		t.Error("malformed JSON must fail")
	}
	for in, want := range map[string]bool{" \n{}": true, "[{}]": false, "": false, "  ": false, "null": false} {
		if IsObject([]byte(in)) != want {
			t.Errorf("IsObject(%q) != %v", in, want)
		}
	}
}

func TestCompactJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{ "city" : "Paris" }`: `{"city":"Paris"}`,
		``:                     ``,
		`null`:                 ``,
		`{"a":`:                ``,
	} {
		if got := CompactJSON(json.RawMessage(in)); got != want {
			t.Errorf("CompactJSON(%q) = %q, want %q", in, got, want)
		}
	}
}
