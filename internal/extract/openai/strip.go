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
				s.out = append(s.out, s.ev...)
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
