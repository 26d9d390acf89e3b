package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Errors from InjectIncludeUsage. On any error the proxy forwards the body
// unchanged.
var (
	ErrInvalidJSON   = errors.New("openai: request body is not valid JSON")
	ErrDuplicateKey  = errors.New("openai: request body repeats a key that decides stream usage")
	ErrStreamOptions = errors.New("openai: stream_options is not an object")
)

const (
	includeMember = `"include_usage":true`
	streamOptions = `"stream_options":{"include_usage":true}`
)

// InjectIncludeUsage makes a streaming chat/completions or legacy completions
// request ask for usage: when the top-level object has "stream": true and
// stream_options.include_usage is not true, it splices
// "stream_options":{"include_usage":true} into the body (or
// "include_usage":true into an existing stream_options object) and reports
// injected. Every other byte of the body stays as the client sent it: the
// body is never re-marshalled, so key order, whitespace, number spellings
// and unknown fields survive.
//
// An explicit "include_usage": false (or null) counts as not asking: the
// value is replaced by true, because the proxy must see usage to bill the
// request, and the client still gets what it asked for, since the proxy
// strips the usage chunk from streams whose client did not ask
// (ClientAskedUsage is false for this body).
//
// Bodies that are not a JSON object, or not streaming, come back unchanged
// with injected false and no error. Invalid JSON, a stream_options that is
// neither an object nor null, and a repeated "stream", "stream_options" or
// "include_usage" key are errors: JSON parsers disagree on which duplicate
// wins, so the proxy must not guess what the provider will read.
func InjectIncludeUsage(body []byte) (out []byte, injected bool, err error) {
	if !json.Valid(body) {
		return body, false, ErrInvalidJSON
	}
	start := skipWS(body, 0)
	if start >= len(body) || body[start] != '{' {
		return body, false, nil
	}
	members, _ := objectMembers(body, start)
	var stream, opts *member
	for i := range members {
		m := &members[i]
		switch m.key {
		case "stream":
			if stream != nil {
				return body, false, fmt.Errorf("%w: stream", ErrDuplicateKey)
			}
			stream = m
		case "stream_options":
			if opts != nil {
				return body, false, fmt.Errorf("%w: stream_options", ErrDuplicateKey)
			}
			opts = m
		}
	}
	if stream == nil || string(body[stream.valStart:stream.valEnd]) != "true" {
		return body, false, nil
	}
	if opts == nil {
		// After the last member's value, before any whitespace and the
		// closing brace: `{"a":1 }` becomes `{"a":1,"stream_options":{…} }`.
		last := members[len(members)-1]
		return splice(body, last.valEnd, last.valEnd, ","+streamOptions), true, nil
	}
	val := body[opts.valStart:opts.valEnd]
	switch val[0] {
	case 'n': // null
		return splice(body, opts.valStart, opts.valEnd, `{"include_usage":true}`), true, nil
	case '{':
	default:
		return body, false, ErrStreamOptions
	}
	inner, _ := objectMembers(body, opts.valStart)
	var inc *member
	for i := range inner {
		if inner[i].key == "include_usage" {
			if inc != nil {
				return body, false, fmt.Errorf("%w: include_usage", ErrDuplicateKey)
			}
			inc = &inner[i]
		}
	}
	switch {
	case inc == nil && len(inner) == 0:
		return splice(body, opts.valStart+1, opts.valStart+1, includeMember), true, nil
	case inc == nil:
		last := inner[len(inner)-1]
		return splice(body, last.valEnd, last.valEnd, ","+includeMember), true, nil
	case string(body[inc.valStart:inc.valEnd]) == "true":
		return body, false, nil
	default:
		// false, null, or a value that is not a boolean: the client did
		// not ask for usage in a form the provider honours.
		return splice(body, inc.valStart, inc.valEnd, "true"), true, nil
	}
}

// ClientAskedUsage reports whether a request body asks for stream usage
// itself (top-level stream_options.include_usage is true). When the proxy
// injected the option into a body for which this is false, the usage-only
// chunk must be stripped from what the client receives.
func ClientAskedUsage(body []byte) bool {
	var req struct {
		StreamOptions *struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	if json.Unmarshal(body, &req) != nil || req.StreamOptions == nil {
		return false
	}
	return req.StreamOptions.IncludeUsage
}

func splice(body []byte, from, to int, ins string) []byte {
	out := make([]byte, 0, len(body)-(to-from)+len(ins))
	out = append(out, body[:from]...)
	out = append(out, ins...)
	return append(out, body[to:]...)
}

// member is one object member: its decoded key and the value's byte span.
type member struct {
	key              string
	valStart, valEnd int
}

// objectMembers lists the members of the object starting at body[start]
// ('{') and returns the index just past its closing brace. body must be
// valid JSON (checked by the caller).
func objectMembers(body []byte, start int) ([]member, int) {
	var ms []member
	i := skipWS(body, start+1)
	if body[i] == '}' {
		return nil, i + 1
	}
	for {
		ks := i
		ke := skipString(body, ks)
		key := decodeKey(body[ks:ke])
		i = skipWS(body, ke)
		i = skipWS(body, i+1) // ':'
		vs := i
		ve := skipValue(body, vs)
		ms = append(ms, member{key: key, valStart: vs, valEnd: ve})
		i = skipWS(body, ve)
		if body[i] == '}' {
			return ms, i + 1
		}
		i = skipWS(body, i+1) // ','
	}
}

// decodeKey decodes a raw JSON string; escapes matter, since
// "stre\u0061m" is the key stream.
func decodeKey(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index past the string starting at b[i] ('"').
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// skipValue returns the index past the value starting at b[i]. Nesting is
// tracked with a counter, not recursion, so deep bodies cannot exhaust the
// stack.
func skipValue(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			i = skipString(b, i)
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		default:
			if depth == 0 {
				for i < len(b) && !bytes.ContainsRune([]byte(",}] \t\r\n"), rune(b[i])) {
					i++
				}
				return i
			}
		}
		i++
	}
	return i
}
