package policy

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxJSONDepth bounds nesting. Python's json (most provider front ends)
// fails near 1000 levels; deeper bodies are treated as invalid.
const maxJSONDepth = 1000

var errJSON = errors.New("invalid JSON")

// scanner walks JSON text without building values: the policy only needs a
// few keys, and a reflection decode of a whole request body on every request
// would cost more than the rest of the proxy's work. It validates what it
// skips, so "parses as JSON" means what it says.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-whitespace byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// str scans a string starting at the opening quote. It returns the raw bytes
// between the quotes and whether they hold escapes.
func (s *scanner) str() (raw []byte, esc bool, err error) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false, errJSON
	}
	start := s.i + 1
	j := start
	for j < len(s.b) {
		for j < len(s.b) && plainStr[s.b[j]] {
			j++
		}
		if j >= len(s.b) {
			break
		}
		c := s.b[j]
		switch {
		case c == '"':
			s.i = j + 1
			return s.b[start:j], esc, nil
		case c == '\\':
			esc = true
			if j+1 >= len(s.b) {
				return nil, false, errJSON
			}
			switch s.b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(s.b) || !isHex4(s.b[j+2:j+6]) {
					return nil, false, errJSON
				}
				j += 6
			default:
				return nil, false, errJSON
			}
		case c < 0x20:
			return nil, false, errJSON
		case c < utf8.RuneSelf:
			j++
		default:
			r, n := utf8.DecodeRune(s.b[j:])
			if r == utf8.RuneError && n == 1 {
				return nil, false, errJSON
			}
			j += n
		}
	}
	return nil, false, errJSON
}

// plainStr marks the bytes a string can hold as they are: printable ASCII
// other than '"' and '\\'.
var plainStr = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// unquote decodes the raw contents of a string scanned by str. Lone
// surrogates become U+FFFD, as in encoding/json.
func unquote(raw []byte, esc bool) string {
	if !esc {
		return string(raw)
	}
	var sb strings.Builder
	sb.Grow(len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			sb.WriteByte(c)
			i++
			continue
		}
		switch raw[i+1] {
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case 'u':
			r := hex4(raw[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if r2 := hex4(raw[i+2 : i+6]); utf16.DecodeRune(r, r2) != utf8.RuneError {
						sb.WriteRune(utf16.DecodeRune(r, r2))
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			sb.WriteRune(r)
			continue
		default: // '"', '\\', '/'
			sb.WriteByte(raw[i+1])
		}
		i += 2
	}
	return sb.String()
}

func hex4(b []byte) rune {
	v, _ := strconv.ParseUint(string(b), 16, 32)
	return rune(v)
}

// keyIs reports whether a scanned key equals name under Unicode case
// folding, the way encoding/json matches struct fields: a Go provider reads
// "MODEL" as model, so the policy must too.
func keyIs(raw []byte, esc bool, name string) bool {
	if !esc {
		if len(raw) == len(name) {
			for i := 0; i < len(raw); i++ {
				c := raw[i] | 0x20 // ASCII lower-case; name is lower-case ASCII
				if c != name[i] {
					goto slow
				}
			}
			return true
		}
		if len(raw) < len(name) {
			return false // folding never shortens below the ASCII length
		}
	slow:
		return strings.EqualFold(string(raw), name)
	}
	return strings.EqualFold(unquote(raw, esc), name)
}

// skip scans over one value of any type.
func (s *scanner) skip(depth int) error {
	if depth > maxJSONDepth {
		return errJSON
	}
	switch s.peek() {
	case '"':
		_, _, err := s.str()
		return err
	case '{':
		s.i++
		if s.peek() == '}' {
			s.i++
			return nil
		}
		for {
			if s.peek() != '"' {
				return errJSON
			}
			if _, _, err := s.str(); err != nil {
				return err
			}
			if s.peek() != ':' {
				return errJSON
			}
			s.i++
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.i++
			case '}':
				s.i++
				return nil
			default:
				return errJSON
			}
		}
	case '[':
		s.i++
		if s.peek() == ']' {
			s.i++
			return nil
		}
		for {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.i++
			case ']':
				s.i++
				return nil
			default:
				return errJSON
			}
		}
	case 't':
		return s.lit("true")
	case 'f':
		return s.lit("false")
	case 'n':
		return s.lit("null")
	default:
		return s.num()
	}
}

func (s *scanner) lit(w string) error {
	if len(s.b)-s.i < len(w) || string(s.b[s.i:s.i+len(w)]) != w {
		return errJSON
	}
	s.i += len(w)
	return nil
}

// num scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) num() error {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return errJSON
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return errJSON
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return errJSON
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	s.i = i
	return nil
}

// object scans an object, calling fn for each key with the scanner placed
// at the value; fn must consume the value.
func (s *scanner) object(fn func(raw []byte, esc bool) error) error {
	if s.peek() != '{' {
		return errJSON
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		if s.peek() != '"' {
			return errJSON
		}
		raw, esc, err := s.str()
		if err != nil {
			return err
		}
		if s.peek() != ':' {
			return errJSON
		}
		s.i++
		s.ws()
		if err := fn(raw, esc); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errJSON
		}
	}
}

// array scans an array, calling fn with the scanner placed at each element;
// fn must consume it.
func (s *scanner) array(fn func() error) error {
	if s.peek() != '[' {
		return errJSON
	}
	s.i++
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		s.ws()
		if err := fn(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return errJSON
		}
	}
}

// end reports whether only whitespace is left.
func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}
