package policy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spendops/spendops/internal/keys"
)

// DimsHeader is the request header carrying dimensions.
const DimsHeader = "X-ASO-Dims"

// Dimension error texts. The first five are the hosted product's exact
// texts; %d and %q are filled in.
const (
	MsgDimsRequired    = "Dimensions are required (X-ASO-Dims header)"
	msgTooManyPairs    = "Too many dimension pairs (max %d)"
	msgKeyNotAllowed   = "Dimension key %q not allowed"
	MsgKeyTooLong      = "Dimension key too long"
	MsgValueTooLong    = "Dimension value too long"
	msgPinned          = "Dimension %q is pinned by API key policy and cannot be changed"
	msgInvalidDims     = "Invalid X-ASO-Dims: "
	hardMaxPairs       = 64
	hardMaxKeyLen      = 128
	hardMaxValueLen    = 1024
	hardMaxPresetPairs = 64
)

// dimsLimits is a DimsPolicy with its defaults resolved.
type dimsLimits struct {
	maxPairs, maxKeyLen, maxValueLen int
	anyKey                           bool
	allowed                          []string
}

func limitsOf(p keys.DimsPolicy) dimsLimits {
	l := dimsLimits{maxPairs: p.MaxPairs, maxKeyLen: p.MaxKeyLen, maxValueLen: p.MaxValueLen, allowed: p.Allowed}
	if l.maxPairs <= 0 {
		l.maxPairs = keys.DefaultMaxPairs
	}
	if l.maxKeyLen <= 0 {
		l.maxKeyLen = keys.DefaultMaxKeyLen
	}
	if l.maxValueLen <= 0 {
		l.maxValueLen = keys.DefaultMaxValueLen
	}
	if len(l.allowed) == 0 {
		l.allowed = keys.DefaultAllowedDims
	}
	for _, a := range l.allowed {
		if a == "*" {
			l.anyKey = true
		}
	}
	return l
}

func (l *dimsLimits) allows(p keys.DimsPolicy, key string) bool {
	if l.anyKey {
		return true
	}
	for _, a := range l.allowed {
		if a == key {
			return true
		}
	}
	if _, ok := p.Pinned[key]; ok {
		return true
	}
	_, ok := p.Defaults[key]
	return ok
}

func dimsDenial(msg string) *Denial {
	return &Denial{Type: DenialDimensions, Message: msg, Status: http.StatusBadRequest}
}

func invalidDims(format string, a ...any) *Denial {
	return dimsDenial(msgInvalidDims + fmt.Sprintf(format, a...))
}

// pair is one parsed dimension, in header order.
type pair struct{ k, v string }

// ParseDims parses the X-ASO-Dims header values of one request (as
// http.Header.Values returns them) and applies the key's dimensions policy:
// limits, allowed keys, pinned and default dimensions. It returns the
// dimensions to record (nil when there are none) or a 400 denial whose
// Message is the text for the client. The grammar is in docs/dimensions.md.
func ParseDims(values []string, p keys.DimsPolicy) (map[string]string, *Denial) {
	l := limitsOf(p)
	if len(values) > 1 {
		return nil, invalidDims("header sent more than once")
	}
	var pairs []pair
	if len(values) == 1 {
		var d *Denial
		pairs, d = parseDimsValue(values[0], l.maxPairs)
		if d != nil {
			return nil, d
		}
	}
	if len(pairs) == 0 && p.Required {
		return nil, dimsDenial(MsgDimsRequired)
	}
	for _, kv := range pairs {
		if len(kv.k) > l.maxKeyLen {
			return nil, dimsDenial(MsgKeyTooLong)
		}
		if !l.allows(p, kv.k) {
			return nil, dimsDenial(fmt.Sprintf(msgKeyNotAllowed, kv.k))
		}
		if utf8.RuneCountInString(kv.v) > l.maxValueLen {
			return nil, dimsDenial(MsgValueTooLong)
		}
		if pv, ok := p.Pinned[kv.k]; ok && pv != kv.v {
			return nil, dimsDenial(fmt.Sprintf(msgPinned, kv.k))
		}
	}
	n := len(pairs) + len(p.Pinned) + len(p.Defaults)
	if n == 0 {
		return nil, nil
	}
	out := make(map[string]string, n)
	for k, v := range p.Defaults {
		out[k] = v
	}
	for _, kv := range pairs {
		out[kv.k] = kv.v
	}
	for k, v := range p.Pinned {
		out[k] = v
	}
	return out, nil
}

// parseDimsValue parses one header value into pairs (syntax only: key and
// value grammar, duplicates), stopping with the "too many" error as soon as
// more than maxPairs pairs are seen.
func parseDimsValue(v string, maxPairs int) ([]pair, *Denial) {
	if !utf8.ValidString(v) {
		return nil, invalidDims("not valid UTF-8")
	}
	v = strings.TrimFunc(v, unicode.IsSpace)
	if v == "" {
		return nil, nil
	}
	if v[0] == '{' {
		return parseDimsJSON(v, maxPairs)
	}
	pairs := make([]pair, 0, min(maxPairs, 8))
	for elem := range strings.SplitSeq(v, ",") {
		elem = strings.TrimFunc(elem, unicode.IsSpace)
		if elem == "" {
			continue // empty list elements are ignored (RFC 9110, 5.6.1)
		}
		if len(pairs) == maxPairs {
			return nil, dimsDenial(fmt.Sprintf(msgTooManyPairs, maxPairs))
		}
		k, val, ok := strings.Cut(elem, "=")
		if !ok {
			return nil, invalidDims("%s has no \"=\" (want key=value)", quoteShort(elem))
		}
		k = strings.TrimFunc(k, unicode.IsSpace)
		val = strings.TrimFunc(val, unicode.IsSpace)
		if strings.Contains(val, "=") {
			return nil, invalidDims("value of %s contains \"=\" (use the JSON form)", quoteShort(k))
		}
		if strings.Contains(val, `"`) {
			return nil, invalidDims("value of %s contains '\"' (use the JSON form)", quoteShort(k))
		}
		var d *Denial
		if pairs, d = addPair(pairs, k, val); d != nil {
			return nil, d
		}
	}
	return pairs, nil
}

func parseDimsJSON(v string, maxPairs int) ([]pair, *Denial) {
	s := scanner{b: []byte(v)}
	pairs := make([]pair, 0, min(maxPairs, 8))
	var d *Denial
	err := s.object(func(raw []byte, esc bool) error {
		if len(pairs) == maxPairs {
			d = dimsDenial(fmt.Sprintf(msgTooManyPairs, maxPairs))
			return errJSON
		}
		k := unquote(raw, esc)
		if s.peek() != '"' {
			if s.skip(0) != nil {
				return errJSON
			}
			d = invalidDims("value of %s must be a string", quoteShort(k))
			return errJSON
		}
		vraw, vesc, err := s.str()
		if err != nil {
			return err
		}
		pairs, d = addPair(pairs, strings.TrimFunc(k, unicode.IsSpace), strings.TrimFunc(unquote(vraw, vesc), unicode.IsSpace))
		if d != nil {
			return errJSON
		}
		return nil
	})
	if d != nil {
		return nil, d
	}
	if err != nil || !s.end() {
		return nil, invalidDims("malformed JSON object")
	}
	return pairs, nil
}

// addPair checks one trimmed key and value and appends them, lower-casing
// the key.
func addPair(pairs []pair, k, v string) ([]pair, *Denial) {
	if k == "" {
		return nil, invalidDims("empty dimension key")
	}
	if !validKeyChars(k) {
		return nil, invalidDims("dimension key %s must be letters, digits, '_', '.' or '-', starting with a letter or digit", quoteShort(k))
	}
	k = strings.ToLower(k)
	if v == "" {
		return nil, invalidDims("empty value for dimension %s", quoteShort(k))
	}
	if !validValueChars(v) {
		return nil, invalidDims("value of dimension %s has a control or invisible character", quoteShort(k))
	}
	for _, kv := range pairs {
		if kv.k == k {
			return nil, invalidDims("duplicate dimension key %s", quoteShort(k))
		}
	}
	return append(pairs, pair{k, v}), nil
}

// validKeyChars reports whether k is [A-Za-z0-9][A-Za-z0-9_.-]*. Keys are
// case-insensitive and recorded lower-case.
func validKeyChars(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '_' || c == '.' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return k != ""
}

// validValueChars reports whether every character of v is graphic: letters,
// marks, numbers, punctuation, symbols and spaces. Control characters,
// format characters (zero-width and bidi controls), private-use and
// unassigned code points are refused.
func validValueChars(v string) bool {
	for _, r := range v {
		if r < utf8.RuneSelf {
			if r < 0x20 || r == 0x7f {
				return false
			}
			continue
		}
		if !unicode.IsGraphic(r) {
			return false
		}
	}
	return true
}

// quoteShort quotes s for an error message, cut to 40 bytes so a hostile
// header is not echoed back whole.
func quoteShort(s string) string {
	if len(s) > 40 {
		cut := 40
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

// FormatDims writes dims in the canonical X-ASO-Dims form: keys sorted, the
// simple form when every value can be written in it, else the JSON form.
// ParseDims of the result (with a policy that allows the keys) returns dims.
func FormatDims(dims map[string]string) string {
	ks := make([]string, 0, len(dims))
	simple := true
	for k, v := range dims {
		ks = append(ks, k)
		if strings.ContainsAny(v, `,="`) || strings.TrimFunc(v, unicode.IsSpace) != v {
			simple = false
		}
	}
	sort.Strings(ks)
	var sb strings.Builder
	if simple {
		for i, k := range ks {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(k)
			sb.WriteByte('=')
			sb.WriteString(dims[k])
		}
		return sb.String()
	}
	sb.WriteByte('{')
	for i, k := range ks {
		if i > 0 {
			sb.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(dims[k])
		sb.Write(kb)
		sb.WriteByte(':')
		sb.Write(vb)
	}
	sb.WriteByte('}')
	return sb.String()
}
