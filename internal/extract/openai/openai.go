// Package openai extracts token usage from responses in the OpenAI dialect:
// OpenAI itself and every OpenAI-compatible host (OpenRouter, xAI, Groq,
// DeepInfra, Novita, Fireworks, Perplexity, Cerebras, Mistral, DeepSeek,
// Nebius, z.ai, Gemini's /v1beta/openai/ and Anthropic's /v1/chat/completions).
//
// It also owns the two stream rewrites the proxy makes for this dialect:
// InjectIncludeUsage on the request body and NewUsageChunkStripper on the
// client-bound stream.
//
// Counts are normalised to OpenAI's convention (usage.Tokens): prompt tokens
// include cached ones, completion tokens include reasoning, and the total is
// their sum (whatever total_tokens said). Per host:
//
//   - Streams: the last non-null usage wins, wherever it rides: a chunk with
//     choices:[] (OpenAI with include_usage, Fireworks, OpenRouter), the
//     finish_reason chunk (DeepSeek, Mistral), the second-to-last chunk
//     (xAI), or Groq's x_groq.usage (read when usage is absent).
//   - xAI: completion_tokens excludes reasoning_tokens, so reasoning is added
//     to Completion, unless total_tokens equals prompt+completion (which
//     proves it already included). cost_in_usd_ticks / 1e10 is the
//     ProviderCost.
//   - Gemini's /v1beta/openai/: when total_tokens exceeds prompt+completion
//     the gap is thinking left out of completion_tokens; it is added to
//     Completion and Reasoning.
//   - Perplexity: a top-level reasoning_tokens (Sonar Deep Research) is billed
//     output beside completion_tokens and is added; citation_tokens stay in
//     Raw; num_search_queries is WebSearchRequests; usage.cost.total_cost is
//     the ProviderCost; search_context_size stays in Raw.
//   - OpenRouter: usage.cost is the ProviderCost, plus
//     cost_details.upstream_inference_cost when is_byok (the upstream
//     provider then bills the team's own key separately).
//   - DeepInfra: usage.estimated_cost is the ProviderCost.
//   - DeepSeek: prompt_cache_hit_tokens is the cache read; Mistral:
//     num_cached_tokens; z.ai and most others: prompt_tokens_details.
//     cached_tokens; a top-level cached_tokens is read too.
//   - Cache writes: prompt_tokens_details / input_tokens_details
//     cache_write_tokens (TTL unknown, so only CacheWrite is set).
//   - Responses: usage of response.completed / incomplete / failed;
//     WebSearchRequests counts the web_search_call output items.
//   - Images: ImageCount counts data[] (or completed stream events); size and
//     quality come from the response, else the JSON request body; gpt-image
//     output tokens without detail are image tokens.
//   - Audio: transcription usage of type duration gives AudioSeconds (or
//     verbose_json's duration when there is no usage, with Found false);
//     speech bodies are audio, so InputCharacters is the request input's
//     length in characters and Found is false unless an SSE speech stream
//     reported usage.
//
// Reported costs are parsed from the JSON number text with shopspring/decimal,
// never through float64.
package openai

import (
	"bytes"
	"encoding/json"

	gojson "github.com/goccy/go-json"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/spendops/spendops/internal/sse"
	"github.com/spendops/spendops/internal/usage"
)

// MaxJSONBody caps what the extractor keeps of a non-streamed body after
// squeezing (see squeezer): beyond it the usage is reported not found.
const MaxJSONBody = 8 << 20

// maxKeptString is the longest string value kept whole in a squeezed body.
const maxKeptString = 4 << 10

// New returns the extractor for one response in the OpenAI dialect.
func New(req usage.Request) usage.Extractor {
	e := &extractor{req: req}
	e.class, e.notBilled = Classify(req.Method, req.Path)
	e.q = quirksFor(req.Provider, req.Path, e.class)
	switch mode := bodyMode(req, e.class); mode {
	case modeSSE:
		e.sc = sse.New(0, e.event)
	case modeJSON:
		e.sq = newSqueezer(MaxJSONBody, maxKeptString, e.countTokens)
	}
	return e
}

// Classify names the endpoint class of an upstream path and whether requests
// to it are never billed (model listing, batch management, stored-object
// reads, token counting).
func Classify(method, path string) (class string, notBilled bool) {
	p := strings.TrimRight(path, "/")
	read := method == "GET" || method == "DELETE" || method == "HEAD"
	has := func(suffix string) bool { return strings.HasSuffix(p, suffix) }
	contains := func(seg string) bool { return strings.Contains(p+"/", seg) }
	switch {
	case has("/responses/input_tokens"):
		return usage.EndpointCountTokens, true
	case has("/chat/completions"):
		return usage.EndpointChat, read
	case contains("/chat/completions/"):
		return usage.EndpointChat, true // stored completions: reads and updates
	case has("/completions"):
		return usage.EndpointCompletions, read
	case has("/responses"):
		return usage.EndpointResponses, read
	case contains("/responses/"):
		return usage.EndpointResponses, true // GET /responses/{id}, cancel, input_items
	case has("/embeddings"):
		return usage.EndpointEmbeddings, read
	case has("/images/generations"), has("/images/edits"), has("/images/variations"):
		return usage.EndpointImages, read
	case has("/audio/transcriptions"):
		return usage.EndpointTranscription, read
	case has("/audio/translations"):
		return usage.EndpointTranslation, read
	case has("/audio/speech"):
		return usage.EndpointSpeech, read
	case has("/moderations"):
		return usage.EndpointModerations, read
	case has("/models"), contains("/models/"):
		return usage.EndpointModels, true
	case has("/batches"), contains("/batches/"):
		// Creating, polling and cancelling a batch cost nothing; its work is
		// billed once, from its results.
		return usage.EndpointBatch, true
	}
	return usage.EndpointOther, read
}

func quirksFor(provider, path, class string) quirks {
	var q quirks
	switch provider {
	case "xai":
		q.reasoningOutside = true
	case "perplexity":
		q.topReasoning = true
	case "google", "google-ai-studio":
		q.thinkingInTotal = true
	}
	if strings.Contains(path, "/v1beta/openai/") {
		q.thinkingInTotal = true
	}
	q.imageOutput = class == usage.EndpointImages
	q.audioOutput = class == usage.EndpointSpeech
	return q
}

type mode int

const (
	modeIgnore mode = iota
	modeJSON
	modeSSE
)

// bodyMode decides how to read the body: the response Content-Type wins
// (a stream can be answered with JSON, e.g. an error); with none, the
// request's stream flag decides.
func bodyMode(req usage.Request, class string) mode {
	mt, _, err := mime.ParseMediaType(req.ContentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(req.ContentType))
	}
	switch {
	case mt == "text/event-stream":
		return modeSSE
	case strings.Contains(mt, "json"):
		return modeJSON
	case mt == "":
		if req.Stream {
			return modeSSE
		}
		if class == usage.EndpointSpeech {
			return modeIgnore // binary audio
		}
		return modeJSON
	}
	// audio/*, text/plain (whisper text/srt/vtt), anything else: no usage.
	return modeIgnore
}

type extractor struct {
	req       usage.Request
	class     string
	notBilled bool
	q         quirks

	sc *sse.Scanner
	sq *squeezer

	usage       []byte // last non-null usage object seen (a copy)
	id, model   string
	serviceTier string

	webSearch      int64 // web_search_call items seen in stream events
	finalWebSearch int64 // ...counted in the final Response object
	finalSeen      bool
	sawDone        bool // "data: [DONE]"
	images         int64
	duration       *decimal.Decimal
	imageSize      string
	imageQuality   string

	chars    int64
	estimate int64
	done     bool
}

func (e *extractor) Write(p []byte) (int, error) {
	switch {
	case e.sc != nil:
		_, _ = e.sc.Write(p)
	case e.sq != nil:
		e.sq.Write(p)
	}
	return len(p), nil
}

// countText adds output text to the counts kept for estimates.
func (e *extractor) countText(s string) {
	if s == "" {
		return
	}
	e.chars += int64(utf8.RuneCountInString(s))
	e.countTokens(s)
}

// countTokens runs the Counter over a piece of output. Without a Counter the
// estimate is computed once from the total characters (chars/4), since
// rounding per stream delta would inflate it.
func (e *extractor) countTokens(s string) {
	if e.req.Counter != nil {
		e.estimate += e.req.Counter.Count(s)
	}
}

func (e *extractor) setUsage(raw json.RawMessage) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return // absent or null: keep the last non-null one
	}
	e.usage = append(e.usage[:0], raw...)
}

func (e *extractor) meta(id, model, tier string) {
	if e.id == "" {
		e.id = id
	}
	if e.model == "" {
		e.model = model
	}
	if tier != "" {
		e.serviceTier = tier // the final chunk's tier is the one billed
	}
}

// streamEvent is the union of the stream events of chat and legacy
// completions chunks, Responses events, transcription, speech and image
// streams.
type streamEvent struct {
	Type        string          `json:"type"`
	ID          string          `json:"id"`
	Model       string          `json:"model"`
	ServiceTier string          `json:"service_tier"`
	Choices     []choice        `json:"choices"`
	Usage       json.RawMessage `json:"usage"`
	XGroq       *struct {
		ID    string          `json:"id"`
		Usage json.RawMessage `json:"usage"`
	} `json:"x_groq"`
	Response *response       `json:"response"`
	Delta    json.RawMessage `json:"delta"`
	Item     *outputItem     `json:"item"`
	Size     string          `json:"size"`
	Quality  string          `json:"quality"`
}

type choice struct {
	Delta   *message `json:"delta"`
	Message *message `json:"message"`
	Text    string   `json:"text"`
}

type message struct {
	Content          json.RawMessage `json:"content"`
	Refusal          string          `json:"refusal"`
	ReasoningContent string          `json:"reasoning_content"`
	Reasoning        json.RawMessage `json:"reasoning"`
	ToolCalls        []struct {
		Function struct {
			Arguments string `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
}

type response struct {
	ID          string          `json:"id"`
	Model       string          `json:"model"`
	ServiceTier string          `json:"service_tier"`
	Output      []outputItem    `json:"output"`
	Usage       json.RawMessage `json:"usage"`
}

type outputItem struct {
	Type string `json:"type"`
}

func (e *extractor) event(ev sse.Event) {
	if ev.Truncated {
		return // over the cap: not parseable, and never the usage chunk
	}
	data := bytes.TrimSpace(ev.Data)
	if len(data) == 0 || data[0] != '{' {
		if string(data) == "[DONE]" {
			e.sawDone = true
		}
		return // [DONE], keep-alives
	}
	var se streamEvent
	// goccy/go-json decodes a chunk about twice as fast as encoding/json
	// (BenchmarkStreamChunks), and this runs once per streamed chunk.
	if gojson.Unmarshal(data, &se) != nil {
		return
	}
	typ := se.Type
	if typ == "" {
		typ = ev.Name
	}
	switch {
	case se.Response != nil && strings.HasPrefix(typ, "response."):
		r := se.Response
		e.meta(r.ID, r.Model, r.ServiceTier)
		e.setUsage(r.Usage)
		switch typ {
		case "response.completed", "response.incomplete", "response.failed":
			e.finalSeen = true
			e.finalWebSearch = countWebSearch(r.Output)
		}
	case typ == "response.output_item.done":
		if se.Item != nil && se.Item.Type == "web_search_call" {
			e.webSearch++
		}
	case typ == "response.output_text.delta", typ == "response.refusal.delta",
		typ == "response.function_call_arguments.delta", typ == "response.reasoning_text.delta",
		typ == "response.reasoning_summary_text.delta", typ == "transcript.text.delta":
		e.countText(jsonString(se.Delta))
	case typ == "transcript.text.done", typ == "speech.audio.done":
		e.setUsage(se.Usage)
	case typ == "image_generation.completed", typ == "image_edit.completed":
		e.images++
		e.imageSize, e.imageQuality = se.Size, se.Quality
		e.setUsage(se.Usage)
	case strings.HasPrefix(typ, "response."), strings.HasPrefix(typ, "image_"), strings.HasPrefix(typ, "speech."),
		strings.HasPrefix(typ, "transcript."), typ == "error":
	default:
		// Chat or legacy completions chunk. Usage may ride on a chunk with
		// choices:[] (OpenAI), on the finish_reason chunk (DeepSeek,
		// Mistral, ...), or before a last empty chunk (xAI): keep the last
		// non-null one, wherever it is.
		e.meta(se.ID, se.Model, se.ServiceTier)
		for i := range se.Choices {
			e.countChoice(&se.Choices[i])
		}
		if len(bytes.TrimSpace(se.Usage)) > 0 && se.Usage[0] == '{' {
			e.setUsage(se.Usage)
		} else if se.XGroq != nil {
			// Groq: usage ?? x_groq.usage.
			e.setUsage(se.XGroq.Usage)
		}
	}
}

func (e *extractor) countChoice(c *choice) {
	m := c.Delta
	if m == nil {
		m = c.Message
	}
	e.countText(c.Text)
	if m == nil {
		return
	}
	e.countText(contentText(m.Content))
	e.countText(m.Refusal)
	e.countText(m.ReasoningContent)
	e.countText(jsonString(m.Reasoning))
	for _, tc := range m.ToolCalls {
		e.countText(tc.Function.Arguments)
	}
}

// contentText reads a message content: a string, or (Mistral, multimodal
// output) an array of parts with text.
func contentText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		return jsonString(raw)
	}
	if raw[0] != '[' {
		return ""
	}
	var parts []struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

func jsonString(raw json.RawMessage) string {
	if len(raw) < 2 || raw[0] != '"' {
		return ""
	}
	// Most deltas hold no escapes: their text is the bytes between the
	// quotes (invalid UTF-8 counts one rune per byte either way).
	if inner := raw[1 : len(raw)-1]; raw[len(raw)-1] == '"' && !bytes.ContainsAny(inner, "\\\"") {
		return string(inner)
	}
	var s string
	if gojson.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

func countWebSearch(items []outputItem) int64 {
	var n int64
	for _, it := range items {
		if it.Type == "web_search_call" {
			n++
		}
	}
	return n
}

// jsonBody is the union of non-streamed response bodies.
type jsonBody struct {
	ID          string          `json:"id"`
	Model       string          `json:"model"`
	ServiceTier string          `json:"service_tier"`
	Usage       json.RawMessage `json:"usage"`
	XGroq       *struct {
		Usage json.RawMessage `json:"usage"`
	} `json:"x_groq"`
	Output []outputItem      `json:"output"`
	Data   []json.RawMessage `json:"data"`
	// Duration is whisper's verbose_json audio length, used for the billed
	// seconds when the body has no usage.
	Duration json.RawMessage `json:"duration"`
	Size     string          `json:"size"`
	Quality  string          `json:"quality"`
}

func (e *extractor) parseJSON() {
	sq := e.sq
	// Output text was counted by the squeezer as it streamed by.
	e.chars += sq.chars
	if e.req.Counter != nil {
		e.estimate += (sq.cutChars + 3) / 4 // too long to keep for the Counter
	}
	if sq.over || len(sq.out) == 0 {
		return
	}
	var b jsonBody
	if json.Unmarshal(sq.out, &b) != nil {
		return
	}
	e.meta(b.ID, b.Model, b.ServiceTier)
	e.setUsage(b.Usage)
	if e.usage == nil && b.XGroq != nil {
		e.setUsage(b.XGroq.Usage)
	}
	e.finalSeen = true
	e.finalWebSearch = countWebSearch(b.Output)
	if d, ok := decimalOf(b.Duration); ok && e.usage == nil {
		e.duration = &d
	}
	if e.class == usage.EndpointImages {
		e.images = int64(len(b.Data))
		e.imageSize, e.imageQuality = b.Size, b.Quality
	}
}

// Report returns what the response said. It is called once.
func (e *extractor) Report() usage.Report {
	if !e.done {
		e.done = true
		if e.sc != nil {
			e.sc.Close()
		}
		if e.sq != nil {
			e.parseJSON()
		}
	}
	if e.req.Counter == nil {
		e.estimate = (e.chars + 3) / 4
	}
	r := usage.Report{
		Complete:             e.sawDone || e.finalSeen,
		EndpointClass:        e.class,
		NotBilled:            e.notBilled,
		ResponseModel:        e.model,
		GenerationID:         e.id,
		ServiceTier:          e.serviceTier,
		OutputChars:          e.chars,
		OutputTokensEstimate: e.estimate,
	}
	if e.usage != nil {
		n := normalize(e.usage, e.q)
		r.Found = n.ok
		r.Tokens = n.tokens
		r.ProviderCost = n.cost
		r.AudioSeconds = n.audioSeconds
		r.WebSearchRequests = n.webSearches
		r.Raw = json.RawMessage(bytes.Clone(e.usage))
	}
	// The final Response object lists every output item; without it (a cut
	// stream) count the items seen done.
	if e.duration != nil && (e.class == usage.EndpointTranscription || e.class == usage.EndpointTranslation) {
		// Not Found: no token usage was reported, but the billed duration
		// of a whisper verbose_json answer is known exactly.
		r.AudioSeconds = *e.duration
	}
	if e.finalSeen {
		r.WebSearchRequests += e.finalWebSearch
	} else {
		r.WebSearchRequests += e.webSearch
	}
	if e.class == usage.EndpointImages {
		r.ImageCount = e.images
		r.ImageSize, r.ImageQuality = e.imageSize, e.imageQuality
		if r.ImageSize == "" || r.ImageQuality == "" {
			size, quality := requestImageParams(e.req.RequestBody)
			if r.ImageSize == "" {
				r.ImageSize = size
			}
			if r.ImageQuality == "" {
				r.ImageQuality = quality
			}
		}
	}
	if e.class == usage.EndpointSpeech {
		r.InputCharacters = requestInputChars(e.req.RequestBody)
	}
	return r
}

func requestImageParams(body []byte) (size, quality string) {
	var req struct {
		Size    string `json:"size"`
		Quality string `json:"quality"`
	}
	if len(body) > 0 && json.Unmarshal(body, &req) == nil {
		return req.Size, req.Quality
	}
	return "", ""
}

// requestInputChars is the billed character count of a speech request: its
// input text in Unicode characters (code points).
func requestInputChars(body []byte) int64 {
	var req struct {
		Input string `json:"input"`
	}
	if len(body) == 0 || json.Unmarshal(body, &req) != nil {
		return 0
	}
	return int64(utf8.RuneCountInString(req.Input))
}
