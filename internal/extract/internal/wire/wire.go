// Package wire holds the small pieces the native-dialect extractors
// (anthropic, gemini) share for reading response bytes: deciding between a
// JSON body and an SSE stream, holding a capped body, decoding JSON
// leniently, and reading token counts without floats.
package wire

import (
	"bytes"
	"encoding/json"
	"math"
	"mime"
	"strconv"
	"strings"
)

// Mode is how an extractor reads a response body.
type Mode int

// The modes. Unknown is decided by the body's first non-blank byte (Sniff).
const (
	Unknown Mode = iota
	JSON
	SSE
	Ignore
)

// ContentMode trusts an explicit Content-Type; otherwise (Unknown) the body
// decides.
func ContentMode(ct string) Mode {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return Unknown
	}
	switch {
	case mt == "text/event-stream":
		return SSE
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return JSON
	}
	return Unknown
}

// Sniff decides the mode of a body without a usable Content-Type from its
// first non-blank byte: one of jsonOpeners means JSON, anything else SSE. It
// returns p without the leading blanks, and Unknown while p is all blank
// (the decision waits for the next write).
func Sniff(p []byte, jsonOpeners string) (Mode, []byte) {
	i := 0
	for i < len(p) && IsBlank(p[i]) {
		i++
	}
	if i == len(p) {
		return Unknown, nil
	}
	p = p[i:]
	if strings.IndexByte(jsonOpeners, p[0]) >= 0 {
		return JSON, p
	}
	return SSE, p
}

// IsBlank reports whether c is JSON whitespace.
func IsBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// CappedBody holds a response body up to Max bytes. A body over the cap is
// abandoned, never buffered further: Bytes returns nil from then on.
type CappedBody struct {
	Max  int
	b    []byte
	over bool
}

// Write appends p unless the body has gone, or now goes, over the cap.
func (c *CappedBody) Write(p []byte) {
	if c.over {
		return
	}
	if len(c.b)+len(p) > c.Max {
		c.b, c.over = nil, true
		return
	}
	c.b = append(c.b, p...)
}

// Over reports whether the body went over the cap.
func (c *CappedBody) Over() bool { return c.over }

// Bytes returns the body held so far, nil if it went over the cap.
func (c *CappedBody) Bytes() []byte { return c.b }

// Num is a provider token count. It parses the JSON integer literal itself
// so that counts never pass through float64, and it remembers whether the
// field was present and non-null. Anything that is not a non-negative
// integer literal (1.5, "12", -3, 1e400) counts as absent rather than
// failing the whole usage object.
type Num struct {
	V  int64
	OK bool
}

// UnmarshalJSON never fails; see Num.
func (n *Num) UnmarshalJSON(b []byte) error {
	*n = Num{}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err == nil && v >= 0 {
		*n = Num{V: v, OK: true}
	}
	return nil
}

// Add saturates instead of wrapping: absurd provider numbers must not turn
// into negative costs.
func Add(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// Decode unmarshals b into v, tolerating wrongly typed members (they are
// left zero) but not malformed JSON.
func Decode(b []byte, v any) bool {
	err := json.Unmarshal(b, v)
	if err == nil {
		return true
	}
	_, typeErr := err.(*json.UnmarshalTypeError)
	return typeErr
}

// IsObject reports whether b starts, after blanks, with '{'.
func IsObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
}

// CompactJSON returns raw without insignificant whitespace, the form in
// which tool-call arguments are counted as output text; "" for an absent,
// null or malformed value.
func CompactJSON(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return ""
	}
	return b.String()
}
