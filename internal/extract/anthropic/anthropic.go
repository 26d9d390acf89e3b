// Package anthropic extracts token usage from Anthropic Messages API
// responses (api.anthropic.com), both JSON bodies and SSE streams.
//
// Usage is normalised to SpendOps' OpenAI-style [usage.Tokens]: Prompt is
// input_tokens + cache_read_input_tokens + cache_creation_input_tokens,
// Completion is output_tokens (see apiUsage.normalise for the cache rules).
//
// # Streams
//
// message_start carries the input side and a provisional output_tokens;
// each message_delta carries cumulative totals (several arrive when server
// tools run). The report is message_start's usage with every field the
// message_deltas carried overwritten by the latest value: nothing is summed.
// A zero never erases an earlier non-zero value (cumulative totals cannot
// drop to zero; some Anthropic-compatible servers zero-fill delta fields).
//
// A stream that stops early, cut or ended by an `error` event such as
// overloaded_error, reports what was seen: Found is true as soon as
// message_start's usage arrived, with output_tokens from the latest
// message_delta if one came. If none came, Completion is message_start's
// provisional output_tokens (usually 1) and OutputTokensEstimate holds the
// estimate over the text, thinking and tool-input deltas that did arrive, so
// the pipeline can take the larger of the two and mark the event partial.
//
// # Endpoints
//
//   - POST /v1/messages: EndpointMessages, billed.
//   - POST /v1/messages/count_tokens: EndpointCountTokens, NotBilled. The
//     response {"input_tokens": N} is kept in Raw, but Tokens stay zero and
//     Found false: counting tokens costs nothing, and a count is not usage.
//   - /v1/messages/batches...: EndpointBatch, NotBilled (the batch's own
//     spend lives in its results file and is not extracted here).
//   - /v1/models...: EndpointModels, NotBilled.
//   - POST /v1/complete (legacy Text Completions): EndpointCompletions. The
//     legacy API reports no usage, so Found is false; the completion text is
//     counted for an estimate.
//   - any other GET (files, skills): EndpointOther, NotBilled (reads cost
//     nothing); anything else, including the OpenAI-compatible
//     /v1/chat/completions (the OpenAI extractor's job): EndpointOther,
//     Found false.
//
// NotBilled reports always have Found false and zero Tokens: the pipeline
// should neither estimate nor price them.
package anthropic

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/spendops/spendops/internal/extract/internal/textcount"
	"github.com/spendops/spendops/internal/extract/internal/wire"
	"github.com/spendops/spendops/internal/sse"
	"github.com/spendops/spendops/internal/usage"
)

// Caps on what an extractor holds. Message bodies are text (images are never
// output), so 8 MiB is far above the largest real response; a body over the
// cap is abandoned (Found false), never buffered further.
const (
	maxJSONBody    = 8 << 20
	maxSmallBody   = 64 << 10 // count_tokens responses
	maxStreamEvent = sse.DefaultMaxEvent
)

type endpoint int

const (
	epOther endpoint = iota
	epMessages
	epCountTokens
	epBatch
	epModels
	epComplete
)

func classify(path string) endpoint {
	path = strings.TrimSuffix(path, "/")
	switch {
	case path == "/v1/messages":
		return epMessages
	case path == "/v1/messages/count_tokens":
		return epCountTokens
	case path == "/v1/messages/batches" || strings.HasPrefix(path, "/v1/messages/batches/"):
		return epBatch
	case path == "/v1/models" || strings.HasPrefix(path, "/v1/models/"):
		return epModels
	case path == "/v1/complete":
		return epComplete
	}
	return epOther
}

// extractor implements usage.Extractor for one Anthropic response.
type extractor struct {
	ep      endpoint
	read    bool // GET or HEAD: reads never cost
	mode    wire.Mode
	stopped bool // message_stop seen

	// JSON bodies.
	body wire.CappedBody

	// Streams.
	sc        *sse.Scanner
	start     apiUsage // message_start's usage
	startRaw  []byte
	hasStart  bool
	delta     apiUsage // field-wise merge of every message_delta's usage
	deltaRaw  []byte   // the latest message_delta's usage, as received
	hasDelta  bool
	id, model string
	text      textcount.Tally
}

// New returns the extractor for one Anthropic response.
func New(req usage.Request) usage.Extractor {
	e := &extractor{ep: classify(req.Path), text: textcount.Tally{Counter: req.Counter},
		read: req.Method == "GET" || req.Method == "HEAD"}
	switch e.ep {
	case epMessages, epComplete:
		e.body.Max = maxJSONBody
		e.mode = wire.ContentMode(req.ContentType)
	case epCountTokens:
		e.body.Max = maxSmallBody
		e.mode = wire.JSON
	default:
		e.mode = wire.Ignore
	}
	return e
}

// Write consumes response bytes; it never fails.
func (e *extractor) Write(p []byte) (int, error) {
	n := len(p)
	if e.mode == wire.Unknown {
		if e.mode, p = wire.Sniff(p, "{"); e.mode == wire.Unknown {
			return n, nil
		}
	}
	switch e.mode {
	case wire.JSON:
		e.body.Write(p)
	case wire.SSE:
		if e.sc == nil {
			e.sc = sse.New(maxStreamEvent, e.onEvent)
		}
		_, _ = e.sc.Write(p)
	}
	return n, nil
}

// Report returns what was found. It is called once.
func (e *extractor) Report() usage.Report {
	r := usage.Report{EndpointClass: endpointClass(e.ep), Complete: e.stopped}
	switch e.ep {
	case epCountTokens, epBatch, epModels:
		r.NotBilled = true
	case epOther:
		r.NotBilled = e.read
	}
	switch e.mode {
	case wire.JSON:
		if !e.body.Over() {
			e.reportJSON(&r)
		}
	case wire.SSE:
		if e.sc != nil {
			e.sc.Close()
		}
		e.reportStream(&r)
	}
	r.OutputChars = e.text.Chars()
	r.OutputTokensEstimate = e.text.Estimate()
	return r
}

func endpointClass(ep endpoint) string {
	switch ep {
	case epMessages:
		return usage.EndpointMessages
	case epCountTokens:
		return usage.EndpointCountTokens
	case epBatch:
		return usage.EndpointBatch
	case epModels:
		return usage.EndpointModels
	case epComplete:
		return usage.EndpointCompletions
	}
	return usage.EndpointOther
}

// message is the part of a Message (or legacy Completion) body that matters.
type message struct {
	ID         string          `json:"id"`
	Model      string          `json:"model"`
	Content    []contentBlock  `json:"content"`
	Usage      json.RawMessage `json:"usage"`
	Completion string          `json:"completion"`
	// count_tokens
	InputTokens *num `json:"input_tokens"`
}

type contentBlock struct {
	Type     string          `json:"type"`
	Text     string          `json:"text"`
	Thinking string          `json:"thinking"`
	Input    json.RawMessage `json:"input"`
}

func (e *extractor) reportJSON(r *usage.Report) {
	body := e.body.Bytes()
	var m message
	if !wire.IsObject(body) || !wire.Decode(body, &m) {
		return
	}
	if e.ep == epCountTokens {
		if m.InputTokens != nil && m.InputTokens.OK {
			r.Raw = json.RawMessage(bytes.TrimSpace(body))
		}
		return
	}
	r.ResponseModel = m.Model
	r.GenerationID = m.ID
	if e.ep == epComplete {
		e.text.Add(m.Completion)
		return
	}
	for _, b := range m.Content {
		switch b.Type {
		case "text":
			e.text.Add(b.Text)
		case "thinking":
			e.text.Add(b.Thinking)
		case "tool_use", "server_tool_use":
			e.text.Add(wire.CompactJSON(b.Input))
		}
	}
	u, ok := parseUsage(m.Usage)
	if !ok {
		return
	}
	r.Found = true
	r.Tokens, r.WebSearchRequests, r.ServiceTier = u.normalise()
	r.Raw = json.RawMessage(m.Usage)
}

// streamEvent is the union of the stream events' fields that matter.
type streamEvent struct {
	Type    string `json:"type"`
	Message *struct {
		ID    string          `json:"id"`
		Model string          `json:"model"`
		Usage json.RawMessage `json:"usage"`
	} `json:"message"`
	Delta *struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		Thinking    string `json:"thinking"`
		PartialJSON string `json:"partial_json"`
	} `json:"delta"`
	Usage      json.RawMessage `json:"usage"`
	Completion string          `json:"completion"` // legacy /v1/complete stream
}

func (e *extractor) onEvent(ev sse.Event) {
	if ev.Truncated || !wire.IsObject(ev.Data) {
		return
	}
	if ev.Name == "message_stop" {
		e.stopped = true
	}
	switch ev.Name {
	case "ping", "content_block_start", "content_block_stop", "message_stop":
		// Nothing to count; content_block_start of a search result can be
		// large, so it is not even decoded.
		return
	}
	var se streamEvent
	if !wire.Decode(ev.Data, &se) {
		return
	}
	typ := se.Type
	if typ == "" {
		typ = ev.Name
	}
	switch typ {
	case "message_start":
		if se.Message == nil {
			return
		}
		if e.id == "" {
			e.id = se.Message.ID
		}
		if e.model == "" {
			e.model = se.Message.Model
		}
		if u, ok := parseUsage(se.Message.Usage); ok {
			e.start, e.hasStart = u, true
			e.startRaw = append(e.startRaw[:0], se.Message.Usage...)
		}
	case "message_delta":
		if u, ok := parseUsage(se.Usage); ok {
			e.delta.merge(u)
			e.hasDelta = true
			e.deltaRaw = append(e.deltaRaw[:0], se.Usage...)
		}
	case "content_block_delta":
		if se.Delta == nil {
			return
		}
		switch se.Delta.Type {
		case "text_delta":
			e.text.Add(se.Delta.Text)
		case "thinking_delta":
			e.text.Add(se.Delta.Thinking)
		case "input_json_delta":
			e.text.Add(se.Delta.PartialJSON)
		}
	case "completion":
		e.text.Add(se.Completion)
	}
	// An "error" event (overloaded_error, api_error) ends the stream; the
	// usage merged so far is what the report gives.
}

func (e *extractor) reportStream(r *usage.Report) {
	r.ResponseModel = e.model
	r.GenerationID = e.id
	if !e.hasStart && !e.hasDelta {
		return
	}
	u := e.start
	u.merge(e.delta)
	r.Found = e.hasStart
	r.Tokens, r.WebSearchRequests, r.ServiceTier = u.normalise()
	r.Raw = streamRaw(e.startRaw, e.deltaRaw)
}

// streamRaw builds {"message_start":{...},"message_delta":{...}} from the
// usage objects as received.
func streamRaw(start, delta []byte) json.RawMessage {
	var b []byte
	b = append(b, '{')
	if start != nil {
		b = append(b, `"message_start":`...)
		b = append(b, start...)
	}
	if delta != nil {
		if start != nil {
			b = append(b, ',')
		}
		b = append(b, `"message_delta":`...)
		b = append(b, delta...)
	}
	return append(b, '}')
}
