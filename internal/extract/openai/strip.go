package openai

import (
	"bytes"
	"encoding/json"
	"io"
)

// MaxHeldEvent caps the bytes the stripper holds for one event. A usage-only
// chunk is a few hundred bytes; an event past the cap cannot be one, so it is
// forwarded as it arrives.
const MaxHeldEvent = 1 << 20

// NewUsageChunkStripper returns the client-bound stream writer for a request
// into which the proxy injected include_usage although the client did not
// ask. It forwards the SSE bytes to dst unchanged, except that it drops every
// event whose data is a chat.completion.chunk (or text_completion) with
// "choices": [] and a non-null usage, terminator included, so the client sees
// the stream it would have seen without the proxy.
//
// Each event is forwarded as soon as its terminating blank line arrives; only
// an incomplete trailing event is held (flushed by Close). LF, CRLF and CR
// line endings, comments and "data: [DONE]" pass through.
//
// When a host attaches usage to a chunk that also carries choices (DeepSeek,
// Mistral, xAI's second-to-last chunk), the event is left untouched: removing
// the usage field would mean re-marshalling the client's bytes, and clients
// already handle such chunks because the host sends them without injection
// too.
//
// Close does not close dst.
func NewUsageChunkStripper(dst io.Writer) io.WriteCloser {
	return &stripper{dst: dst}
}

// NewUsageChunkStripperFor is NewUsageChunkStripper for one provider. For
// OpenAI it also removes the "usage":null member that the include_usage
// option adds to every other chunk (OpenAI's API reference: "All other
// chunks will also include a usage field, but with a null value"), so each
// chunk is byte for byte what OpenAI sends without the option. Other hosts
// are not documented to add it only with the option (some send it always),
// so their chunks are left as they are.
func NewUsageChunkStripperFor(provider string, dst io.Writer) io.WriteCloser {
	return &stripper{dst: dst, dropNull: nullUsageOnlyWithOption[provider]}
}

// nullUsageOnlyWithOption lists the providers that add "usage":null to
// chunks only when include_usage is set.
var nullUsageOnlyWithOption = map[string]bool{"openai": true}

type crState int

const (
	crNone    crState = iota
	crKeep            // CR ended a line inside an event: an LF joins the stream as usual
	crForward         // CR ended a forwarded event: forward an LF at once
	crDrop            // CR ended a dropped event: drop an LF
)

type stripper struct {
	dst     io.Writer
	ev      []byte // held bytes of the current, unterminated event
	out     []byte // bytes to forward at the end of this Write
	lineLen int    // bytes of the current line, terminator excluded
	cr      crState
	// passing: the current event outgrew MaxHeldEvent and is forwarded as
	// it arrives, until its blank line.
	passing bool
	// dropNull removes the top-level "usage":null member of other events.
	dropNull bool
}

func (s *stripper) Write(p []byte) (int, error) {
	s.out = s.out[:0]
	for _, c := range p {
		if s.cr != crNone {
			st := s.cr
			s.cr = crNone
			if c == '\n' {
				switch st {
				case crKeep:
					s.put(c)
				case crForward:
					s.out = append(s.out, c)
				}
				continue
			}
		}
		s.put(c)
		if c != '\r' && c != '\n' {
			s.lineLen++
			continue
		}
		blank := s.lineLen == 0
		s.lineLen = 0
		next := crKeep
		if blank {
			next = crForward
			if s.passing {
				s.passing = false
			} else if usageOnly(s.ev) {
				next = crDrop
				s.ev = s.ev[:0]
			} else {
				if s.dropNull {
					s.out = append(s.out, dropNullUsage(s.ev)...)
				} else {
					s.out = append(s.out, s.ev...)
				}
				s.ev = s.ev[:0]
			}
		}
		if c == '\r' {
			s.cr = next
		}
	}
	if len(s.out) > 0 {
		if _, err := s.dst.Write(s.out); err != nil {
			return 0, err
		}
	}
	if cap(s.out) > 64<<10 {
		s.out = nil
	}
	return len(p), nil
}

// put adds one byte of the current event: held, or forwarded when passing.
func (s *stripper) put(c byte) {
	if s.passing {
		s.out = append(s.out, c)
		return
	}
	s.ev = append(s.ev, c)
	if len(s.ev) > MaxHeldEvent {
		s.out = append(s.out, s.ev...)
		s.ev = nil
		s.passing = true
	}
}

// Close forwards an incomplete trailing event as it is.
func (s *stripper) Close() error {
	if len(s.ev) == 0 {
		return nil
	}
	ev := s.ev
	s.ev = nil
	_, err := s.dst.Write(ev)
	return err
}

// usageOnly reports whether a complete event (its bytes, blank line
// included) is a usage-only chunk: data that is a chat.completion.chunk or
// text_completion with "choices": [] and a non-null usage.
func usageOnly(ev []byte) bool {
	if !bytes.Contains(ev, []byte("usage")) {
		return false
	}
	var data []byte
	seen := false
	for len(ev) > 0 {
		i := bytes.IndexAny(ev, "\r\n")
		if i < 0 {
			i = len(ev)
		}
		line := ev[:i]
		ev = ev[i:]
		if len(ev) > 0 {
			if ev[0] == '\r' && len(ev) > 1 && ev[1] == '\n' {
				ev = ev[2:]
			} else {
				ev = ev[1:]
			}
		}
		if len(line) == 0 || line[0] == ':' {
			continue
		}
		field, value := line, []byte(nil)
		if j := bytes.IndexByte(line, ':'); j >= 0 {
			field, value = line[:j], line[j+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		if string(field) != "data" {
			continue
		}
		if seen {
			data = append(data, '\n')
		}
		seen = true
		data = append(data, value...)
	}
	var chunk struct {
		Object  *string            `json:"object"`
		Choices *[]json.RawMessage `json:"choices"`
		Usage   json.RawMessage    `json:"usage"`
	}
	if json.Unmarshal(data, &chunk) != nil {
		return false
	}
	if chunk.Object != nil && *chunk.Object != "chat.completion.chunk" && *chunk.Object != "text_completion" {
		return false
	}
	u := bytes.TrimSpace(chunk.Usage)
	return chunk.Choices != nil && len(*chunk.Choices) == 0 && len(u) > 0 && u[0] == '{'
}

// dropNullUsage returns the event without the top-level "usage":null member
// of its data JSON (single data line only), or the event unchanged. The JSON
// must be valid and the member at depth 1, so text inside strings is never
// touched.
func dropNullUsage(ev []byte) []byte {
	if !bytes.Contains(ev, []byte(`"usage"`)) {
		return ev
	}
	start, end, ok := dataLine(ev)
	if !ok {
		return ev
	}
	from, to, ok := nullUsageMember(ev[start:end])
	if !ok {
		return ev
	}
	out := make([]byte, 0, len(ev)-(to-from))
	out = append(out, ev[:start+from]...)
	return append(out, ev[start+to:]...)
}

// dataLine finds the value of the event's only data line.
func dataLine(ev []byte) (start, end int, ok bool) {
	found := false
	for pos := 0; pos < len(ev); {
		i := bytes.IndexAny(ev[pos:], "\r\n")
		lineEnd := len(ev)
		if i >= 0 {
			lineEnd = pos + i
		}
		line := ev[pos:lineEnd]
		if bytes.HasPrefix(line, []byte("data:")) {
			if found {
				return 0, 0, false
			}
			found = true
			start, end = pos+5, lineEnd
			if start < end && ev[start] == ' ' {
				start++
			}
		}
		pos = lineEnd + 1
	}
	return start, end, found
}

// nullUsageMember locates `"usage":null` at depth 1 of a JSON object,
// with the comma that separates it from its neighbour, as a byte range to
// cut.
func nullUsageMember(data []byte) (from, to int, ok bool) {
	if !json.Valid(data) {
		return 0, 0, false
	}
	// Fast path: OpenAI writes compact JSON with usage last.
	const tail = `,"usage":null}`
	trimmed := bytes.TrimRight(data, " \t")
	if bytes.HasSuffix(trimmed, []byte(tail)) {
		n := len(trimmed)
		return n - len(tail), n - 1, true
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0, 0, false
	}
	prevEnd := -1 // end offset of the previous member's value
	for dec.More() {
		keyStart := skipSpaceAndComma(data, int(dec.InputOffset()))
		t, err := dec.Token()
		if err != nil {
			return 0, 0, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return 0, 0, false
		}
		valEnd := int(dec.InputOffset())
		if k, _ := t.(string); k == "usage" && string(bytes.TrimSpace(v)) == "null" {
			if prevEnd >= 0 { // cut from the end of the previous value: its comma goes too
				return prevEnd, valEnd, true
			}
			// First member: cut through the comma that follows, if any.
			next := skipSpace(data, valEnd)
			if next < len(data) && data[next] == ',' {
				return keyStart, skipSpace(data, next+1), true
			}
			return keyStart, valEnd, true
		}
		prevEnd = valEnd
	}
	return 0, 0, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func skipSpaceAndComma(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r' || b[i] == ',') {
		i++
	}
	return i
}
