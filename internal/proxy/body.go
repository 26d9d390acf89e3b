package proxy

import (
	"encoding/json"
	"mime"
	"strings"
)

// isJSONType reports whether a Content-Type is JSON (application/json or any
// +json type).
func isJSONType(ct string) bool {
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.Contains(strings.ToLower(ct), "json")
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// requestFacts are the few top-level fields of a JSON request body the proxy
// needs before forwarding.
type requestFacts struct {
	model  string
	stream bool
}

// scanRequest reads the top-level "model" and "stream" members of a JSON
// object without decoding the rest (a chat body can be megabytes of
// messages). Anything that is not a well-formed object yields zero facts:
// the body is still forwarded untouched, and the policy engine decides on
// its own parse whether a restrictive key may pass it.
func scanRequest(b []byte) requestFacts {
	var f requestFacts
	s := scanner{b: b}
	s.ws()
	if !s.eat('{') {
		return f
	}
	for {
		s.ws()
		if s.eat('}') {
			return f
		}
		key, ok := s.str()
		if !ok {
			return requestFacts{}
		}
		s.ws()
		if !s.eat(':') {
			return requestFacts{}
		}
		s.ws()
		start := s.i
		if !s.skipValue() {
			return requestFacts{}
		}
		raw := b[start:s.i]
		switch key {
		case "model":
			var m string
			if json.Unmarshal(raw, &m) == nil {
				f.model = m
			}
		case "stream":
			f.stream = string(raw) == "true"
		}
		s.ws()
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			return f
		}
		return requestFacts{}
	}
}

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

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a JSON string and returns its decoded value.
func (s *scanner) str() (string, bool) {
	start := s.i
	if !s.skipString() {
		return "", false
	}
	raw := s.b[start:s.i]
	if !containsByte(raw, '\\') {
		return string(raw[1 : len(raw)-1]), true
	}
	var out string
	if json.Unmarshal(raw, &out) != nil {
		return "", false
	}
	return out, true
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

func (s *scanner) skipString() bool {
	if !s.eat('"') {
		return false
	}
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			s.i += 2
		case '"':
			s.i++
			return true
		default:
			s.i++
		}
	}
	return false
}

// skipValue skips one JSON value (strings, numbers, literals, and nested
// containers by depth) without validating numbers or literals strictly.
func (s *scanner) skipValue() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch s.b[s.i] {
	case '"':
		return s.skipString()
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if !s.skipString() {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return true
				}
			}
			s.i++
		}
		return false
	default:
		start := s.i
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return s.i > start
			}
			s.i++
		}
		return s.i > start
	}
}
