package openai

import (
	"encoding/json"
	"unicode/utf8"
)

// squeezer keeps a bounded, still-valid copy of a JSON body as it streams in.
// Usage objects are small, but the bodies around them are not: base64 images
// (b64_json), embedding vectors, long message texts. Keeping the body whole
// would let one response pin tens of megabytes, so the squeezer drops
// insignificant whitespace, drops the numeric elements of arrays (embedding
// vectors), and cuts every string after maxString bytes (at a point that
// keeps the escape grammar intact). Whatever survives still parses, and the
// usage object always survives whole.
//
// It also measures output text on the way: string values of the keys in
// textKeys (message content, completion text, transcript text, tool call
// arguments) are counted in characters, and those short enough to be kept
// whole are handed to count for a token estimate.
type squeezer struct {
	out   []byte
	limit int  // cap on len(out)
	over  bool // limit reached: the copy is incomplete

	stack []frame

	inStr     bool
	strIsKey  bool
	strText   bool // value of a text key: count it
	strStart  int  // index of the opening quote in out
	strLen    int  // content bytes seen
	strCut    bool // content bytes beyond maxString were dropped
	strChars  int64
	escLeft   int // bytes left in the current escape sequence
	afterBS   bool
	key       []byte // last object key (raw, short keys only)
	keyLong   bool
	valKey    string // key the current value belongs to
	inNum     bool   // inside a number or literal
	skipNum   bool   // ...which is an elided array element
	maxString int

	chars    int64 // characters of text values
	cutChars int64 // characters of text values too long to keep whole
	count    func(text string)
}

type frame struct {
	obj       bool
	expectKey bool // object: next string is a key
	wrote     bool // array: an element has been written
}

// textKeys are the keys whose string values are model output.
var textKeys = map[string]bool{
	"content": true, "text": true, "refusal": true, "arguments": true,
	"reasoning_content": true, "reasoning": true,
}

func newSqueezer(limit, maxString int, count func(string)) *squeezer {
	return &squeezer{limit: limit, maxString: maxString, count: count}
}

func (s *squeezer) emit(b ...byte) {
	if s.over {
		return
	}
	if len(s.out)+len(b) > s.limit {
		s.over = true
		return
	}
	s.out = append(s.out, b...)
}

func (s *squeezer) top() *frame {
	if len(s.stack) == 0 {
		return nil
	}
	return &s.stack[len(s.stack)-1]
}

// beginValue is called at the first byte of any value; it writes the
// pending array comma and reports whether the value is an array element.
func (s *squeezer) beginValue() {
	s.valKey = ""
	if f := s.top(); f != nil {
		if f.obj {
			if !s.keyLong {
				s.valKey = string(s.key)
			}
		} else {
			if f.wrote {
				s.emit(',')
			}
			f.wrote = true
		}
	}
}

func (s *squeezer) Write(p []byte) {
	for _, c := range p {
		if s.over {
			return
		}
		if s.inStr {
			s.strByte(c)
			continue
		}
		if s.inNum {
			if isNumByte(c) {
				if !s.skipNum {
					s.emit(c)
				}
				continue
			}
			s.inNum, s.skipNum = false, false
		}
		switch c {
		case ' ', '\t', '\n', '\r':
		case '"':
			f := s.top()
			s.strIsKey = f != nil && f.obj && f.expectKey
			if !s.strIsKey {
				s.beginValue()
			}
			s.strText = !s.strIsKey && textKeys[s.valKey]
			s.inStr, s.strLen, s.strCut, s.strChars = true, 0, false, 0
			s.escLeft, s.afterBS = 0, false
			s.strStart = len(s.out)
			if s.strIsKey {
				s.key, s.keyLong = s.key[:0], false
			}
			s.emit(c)
		case '{', '[':
			s.beginValue()
			s.stack = append(s.stack, frame{obj: c == '{', expectKey: c == '{'})
			s.emit(c)
		case '}', ']':
			if len(s.stack) > 0 {
				s.stack = s.stack[:len(s.stack)-1]
			}
			s.emit(c)
		case ':':
			s.emit(c)
		case ',':
			if f := s.top(); f != nil && f.obj {
				f.expectKey = true
				s.emit(c)
			}
			// In arrays the comma is written by the next kept element.
		default:
			f := s.top()
			elided := f != nil && !f.obj && (c == '-' || (c >= '0' && c <= '9'))
			if !elided {
				s.beginValue()
				s.emit(c)
			}
			s.inNum, s.skipNum = true, elided
		}
	}
}

func isNumByte(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '+' || c == '.' || c == 'E'
}

func (s *squeezer) strByte(c byte) {
	wasEsc := s.afterBS || s.escLeft > 0
	switch {
	case s.afterBS:
		s.afterBS = false
		if c == 'u' {
			s.escLeft = 4
		}
	case s.escLeft > 0:
		s.escLeft--
	case c == '\\':
		s.afterBS = true
		s.strChars++
	case c == '"':
		s.endString()
		return
	default:
		if c < utf8.RuneSelf || c >= 0xC0 {
			s.strChars++
		}
	}
	s.strLen++
	if s.strIsKey {
		if len(s.key) < 64 {
			s.key = append(s.key, c)
		} else {
			s.keyLong = true
		}
	}
	if s.strCut {
		return
	}
	// Cut only between whole characters and outside escapes, so the kept
	// prefix stays a valid JSON string.
	if s.strLen > s.maxString && !wasEsc && c != '\\' && (c < 0x80 || c >= 0xC0) {
		s.strCut = true
		return
	}
	s.emit(c)
}

func (s *squeezer) endString() {
	s.inStr = false
	s.emit('"')
	if s.strIsKey {
		if f := s.top(); f != nil {
			f.expectKey = false
		}
		return
	}
	if !s.strText {
		return
	}
	s.chars += s.strChars
	if s.strCut || s.over {
		s.cutChars += s.strChars
		return
	}
	if s.count != nil {
		var text string
		if json.Unmarshal(s.out[s.strStart:], &text) == nil {
			s.count(text)
		}
	}
}
