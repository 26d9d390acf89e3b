// Package sse parses Server-Sent Events incrementally, as bytes arrive, with
// bounded memory. It follows the WHATWG event-stream grammar: lines end in
// CRLF, LF or CR; "field: value" with one optional space after the colon;
// lines starting with ":" are comments; a blank line dispatches the event;
// multiple data lines join with "\n".
package sse

import "bytes"

// DefaultMaxEvent is the default cap on one event's data, in bytes.
const DefaultMaxEvent = 4 << 20

// Event is one dispatched event. Data is only valid during the callback.
type Event struct {
	Name string
	Data []byte
	// Truncated is true when the event's data exceeded the cap; Data then
	// holds only the first MaxEvent bytes and should not be parsed as JSON.
	Truncated bool
}

// Scanner turns a byte stream into events. The zero value is not usable;
// call New.
type Scanner struct {
	onEvent  func(Event)
	max      int
	line     []byte // current partial line
	lineOver bool   // current line exceeded the cap
	data     []byte
	name     string
	hasData  bool
	trunc    bool
	lastCR   bool // previous chunk ended in CR: a following LF is part of CRLF
}

// New returns a Scanner that calls onEvent for each event. maxEvent caps the
// bytes kept for one event (DefaultMaxEvent when <= 0).
func New(maxEvent int, onEvent func(Event)) *Scanner {
	if maxEvent <= 0 {
		maxEvent = DefaultMaxEvent
	}
	return &Scanner{onEvent: onEvent, max: maxEvent}
}

// Write feeds bytes; it never fails.
func (s *Scanner) Write(p []byte) (int, error) {
	n := len(p)
	if n == 0 {
		return 0, nil
	}
	if s.lastCR && p[0] == '\n' {
		p = p[1:]
	}
	s.lastCR = false
	for len(p) > 0 {
		i := lineEnd(p)
		if i < 0 {
			s.appendLine(p)
			break
		}
		s.appendLine(p[:i])
		if p[i] == '\r' {
			if i+1 < len(p) {
				if p[i+1] == '\n' {
					i++
				}
			} else {
				s.lastCR = true
			}
		}
		p = p[i+1:]
		s.endLine()
	}
	return n, nil
}

// Close dispatches a final event that was not followed by a blank line.
// Browsers discard such an event; providers' last events are always
// terminated, but a cut stream's partial last event is reported here so that
// callers may decide (it is marked Truncated only if it overflowed).
func (s *Scanner) Close() {
	if len(s.line) > 0 || s.lineOver {
		s.endLine()
	}
	s.dispatch()
}

func (s *Scanner) appendLine(b []byte) {
	if s.lineOver {
		return
	}
	if len(s.line)+len(b) > s.max+64 {
		room := s.max + 64 - len(s.line)
		s.line = append(s.line, b[:room]...)
		s.lineOver = true
		return
	}
	s.line = append(s.line, b...)
}

func (s *Scanner) endLine() {
	line := s.line
	over := s.lineOver
	s.line = s.line[:0]
	s.lineOver = false
	if len(line) == 0 && !over {
		s.dispatch()
		return
	}
	if line[0] == ':' {
		return
	}
	field, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		field, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(field) {
	case "data":
		if s.hasData {
			s.data = append(s.data, '\n')
		}
		s.hasData = true
		if over {
			s.trunc = true
		}
		room := s.max - len(s.data)
		if room < len(value) {
			if room > 0 {
				s.data = append(s.data, value[:room]...)
			}
			s.trunc = true
		} else {
			s.data = append(s.data, value...)
		}
	case "event":
		s.name = string(value)
	}
}

func (s *Scanner) dispatch() {
	if s.hasData {
		s.onEvent(Event{Name: s.name, Data: s.data, Truncated: s.trunc})
	}
	s.data = s.data[:0]
	s.name = ""
	s.hasData = false
	s.trunc = false
	if cap(s.data) > 64<<10 {
		s.data = nil // do not pin a large buffer for the rest of a stream
	}
}

// lineEnd returns the index of the first CR or LF in p, or -1. Two
// IndexByte scans (vectorised) beat IndexAny's byte loop on long lines.
func lineEnd(p []byte) int {
	i := bytes.IndexByte(p, '\n')
	limit := p
	if i >= 0 {
		limit = p[:i]
	}
	if j := bytes.IndexByte(limit, '\r'); j >= 0 {
		return j
	}
	return i
}
