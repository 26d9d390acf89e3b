package gemini

// memberScanner splits a JSON byte stream, as it arrives, into the members
// of its records, with bounded memory. A record is the top-level object of a
// body ({...}), or each object element of a top-level array ([{...},{...}],
// the shape of streamGenerateContent without alt=sse). For every member of a
// record it calls onMember with the key (raw, as in the source) and the value
// bytes, once the value is complete.
//
// Only members whose key want accepts are buffered, each up to maxMember
// bytes; a longer value is skipped (onMember is not called) but scanning goes
// on, so an oversize member (a large inline image) costs no memory and does
// not hide the small usageMetadata member that follows it. Working member by
// member also means a record cut short still yields the members that did
// complete.
//
// The scanner tracks strings, escapes and nesting only; it does not validate.
// Malformed input never panics: brackets are counted, not matched, and
// values are checked by whoever decodes them.
type memberScanner struct {
	maxMember int
	want      func(key []byte) bool
	onMember  func(key, value []byte)

	depth    int  // open brackets before the current byte
	inStr    bool // inside a string
	esc      bool // previous byte was a backslash inside a string
	recDepth int  // depth of the record's opening brace; -1 before a top-level value
	inRec    bool
	st       memberState
	key      []byte
	keyOver  bool
	val      []byte
	valOver  bool
	keep     bool // buffering the current value
}

type memberState int

const (
	stExpectKey memberState = iota
	stKey
	stColon
	stValStart
	stVal
)

const maxKey = 64

func newMemberScanner(maxMember int, want func([]byte) bool, onMember func(key, value []byte)) *memberScanner {
	return &memberScanner{maxMember: maxMember, want: want, onMember: onMember, recDepth: -1}
}

// Reset forgets any partial state, for reuse on an unrelated document.
func (s *memberScanner) Reset() {
	s.depth, s.inStr, s.esc, s.recDepth, s.inRec, s.st = 0, false, false, -1, false, stExpectKey
	s.key, s.keyOver = s.key[:0], false
	s.dropVal()
}

// Write feeds bytes; it never fails.
func (s *memberScanner) Write(p []byte) (int, error) {
	for _, c := range p {
		s.step(c)
	}
	return len(p), nil
}

func (s *memberScanner) step(c byte) {
	memberLevel := s.inRec && s.depth == s.recDepth+1
	if s.inStr {
		switch {
		case s.esc:
			s.esc = false
		case c == '\\':
			s.esc = true
		case c == '"':
			s.inStr = false
			if memberLevel && s.st == stKey {
				s.st = stColon
				return
			}
		}
		if memberLevel && s.st == stKey {
			if len(s.key) < maxKey {
				s.key = append(s.key, c)
			} else {
				s.keyOver = true
			}
			return
		}
		s.appendVal(c)
		return
	}
	if memberLevel {
		switch s.st {
		case stExpectKey:
			switch c {
			case '"':
				s.inStr, s.st = true, stKey
				s.key, s.keyOver = s.key[:0], false
			case '}', ']':
				s.endRecord()
			}
			return
		case stKey: // unreachable outside a string; recover
			s.st = stExpectKey
			return
		case stColon:
			switch c {
			case ':':
				s.st = stValStart
			case '}', ']':
				s.endRecord()
			case ',':
				s.st = stExpectKey
			}
			return
		case stValStart:
			switch c {
			case ' ', '\t', '\r', '\n':
				return
			case '}', ']':
				s.endRecord()
				return
			case ',':
				s.st = stExpectKey
				return
			}
			s.st = stVal
			s.keep = !s.keyOver && s.want(s.key)
			s.val, s.valOver = s.val[:0], false
			// fall through to the value's first byte below
		case stVal:
			switch c {
			case ',':
				s.endMember()
				s.st = stExpectKey
				return
			case '}', ']':
				s.endMember()
				s.endRecord()
				return
			}
		}
	}
	s.appendVal(c)
	switch c {
	case '"':
		s.inStr = true
	case '{', '[':
		if s.depth == 0 {
			// A new top-level value: a lone object is the record; an
			// array's object elements are records.
			if c == '{' {
				s.recDepth = 0
			} else {
				s.recDepth = 1
			}
		}
		if c == '{' && !s.inRec && s.depth == s.recDepth {
			s.inRec, s.st = true, stExpectKey
		}
		s.depth++
	case '}', ']':
		if s.depth > 0 {
			s.depth--
		}
		if s.depth == 0 {
			s.recDepth = -1
		}
	}
}

func (s *memberScanner) appendVal(c byte) {
	if !s.inRec || s.st != stVal || !s.keep || s.valOver {
		return
	}
	if len(s.val) >= s.maxMember {
		s.valOver = true
		return
	}
	s.val = append(s.val, c)
}

func (s *memberScanner) endMember() {
	if s.keep && !s.valOver {
		v := s.val
		for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t' || v[len(v)-1] == '\r' || v[len(v)-1] == '\n') {
			v = v[:len(v)-1]
		}
		s.onMember(s.key, v)
	}
	s.dropVal()
}

func (s *memberScanner) dropVal() {
	s.keep, s.valOver = false, false
	if cap(s.val) > 64<<10 {
		s.val = nil // do not pin a large buffer for the rest of the stream
	} else {
		s.val = s.val[:0]
	}
}

// endRecord handles the byte that closes the record at member level.
func (s *memberScanner) endRecord() {
	s.inRec, s.st = false, stExpectKey
	s.depth--
	if s.depth == 0 {
		s.recDepth = -1
	}
}
