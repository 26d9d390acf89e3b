// Package gemini extracts token usage from Google Gemini API responses
// (generativelanguage.googleapis.com): generateContent JSON bodies and
// streamGenerateContent streams, both as SSE (alt=sse) and as the default
// progressively streamed JSON array.
//
// usageMetadata is a cumulative snapshot; the last one seen wins, nothing is
// summed (pydantic-ai #1577). See usageMetadata.normalise for the buckets.
//
// # Web searches
//
// Grounding with Google Search is billed per grounded prompt (Gemini 2.x) or
// per search query (Gemini 3). WebSearchRequests is the number of distinct
// query strings in candidates[].groundingMetadata.webSearchQueries, counted
// per candidate index and summed over candidates. Queries are de-duplicated
// (by hash, the text is not kept) because a stream may repeat the grounding
// metadata on several chunks; the pricer decides whether a count above zero
// means one grounded-prompt fee or one fee per query.
//
// # Endpoints
//
//   - {model}:generateContent, :streamGenerateContent, tuned models included:
//     EndpointGenerate.
//   - :embedContent, :batchEmbedContents: EndpointEmbedContent. The Gemini API
//     reports no usage for embeddings, so Found is false (usage is read if a
//     response ever carries usageMetadata); the pipeline estimates from the
//     request.
//   - :countTokens: EndpointCountTokens, NotBilled; the response is kept in
//     Raw, Tokens stay zero and Found false (a count is not usage).
//   - :batchGenerateContent, /batches...: EndpointBatch, NotBilled.
//   - GET /models, /models/{m}, /tunedModels...: EndpointModels, NotBilled.
//   - /cachedContents: EndpointOther. Cache storage is billed by time, which a
//     response cannot tell; the resource's usageMetadata goes to Raw.
//   - any other GET: EndpointOther, NotBilled (reads cost nothing); anything
//     else, including the OpenAI-compatible /v1beta/openai/ routes (the
//     OpenAI extractor's job): EndpointOther, Found false.
//
// NotBilled reports always have Found false and zero Tokens.
package gemini

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"strings"

	"github.com/spendops/spendops/internal/extract/internal/textcount"
	"github.com/spendops/spendops/internal/extract/internal/wire"
	"github.com/spendops/spendops/internal/sse"
	"github.com/spendops/spendops/internal/usage"
)

// Caps on what an extractor holds. A member of a response object (or of one
// element of a streamed array) is buffered only if it matters and only up to
// maxMember; SSE events are capped by the scanner at the same size.
const (
	maxMember    = 4 << 20
	maxSmallBody = 64 << 10
	maxSearches  = 4096
)

type endpoint int

const (
	epOther endpoint = iota
	epGenerate
	epEmbed
	epCount
	epBatch
	epModels
	epCache
)

func classify(method, path string) endpoint {
	if _, action, ok := ModelFromPath(path); ok {
		switch action {
		case "generateContent", "streamGenerateContent":
			return epGenerate
		case "embedContent", "batchEmbedContents":
			return epEmbed
		case "countTokens":
			return epCount
		case "batchGenerateContent", "asyncBatchEmbedContent":
			return epBatch
		}
		return epOther
	}
	rest := strings.TrimSuffix(path, "/")
	for _, v := range []string{"/v1beta/", "/v1alpha/", "/v1/"} {
		if r, ok := strings.CutPrefix(rest, v); ok {
			rest = r
			break
		}
	}
	read := method == "GET" || method == "HEAD"
	switch {
	case rest == "batches" || strings.HasPrefix(rest, "batches/"):
		return epBatch
	case read && (rest == "models" || rest == "tunedModels" ||
		strings.HasPrefix(rest, "models/") || strings.HasPrefix(rest, "tunedModels/")):
		return epModels
	case rest == "cachedContents" || strings.HasPrefix(rest, "cachedContents/"):
		return epCache
	}
	return epOther
}

// extractor implements usage.Extractor for one Gemini response.
type extractor struct {
	ep        endpoint
	notBilled bool
	mode      wire.Mode
	finished  bool // a candidate with a finishReason was seen

	js *memberScanner
	sc *sse.Scanner

	small wire.CappedBody // countTokens body

	meta      usageMetadata // the last usageMetadata seen
	metaRaw   []byte
	hasMeta   bool
	model, id string
	text      textcount.Tally
	searches  map[int64]map[uint64]struct{}
	nSearches int
}

// New returns the extractor for one Gemini response.
func New(req usage.Request) usage.Extractor {
	e := &extractor{ep: classify(req.Method, req.Path), text: textcount.Tally{Counter: req.Counter},
		small: wire.CappedBody{Max: maxSmallBody}}
	switch e.ep {
	case epCount, epBatch, epModels:
		e.notBilled = true
	case epOther:
		e.notBilled = req.Method == "GET" || req.Method == "HEAD"
	case epCache:
		e.notBilled = req.Method == "GET" || req.Method == "HEAD" || req.Method == "DELETE"
	}
	switch e.ep {
	case epGenerate, epEmbed, epCache, epCount:
		e.mode = wire.ContentMode(req.ContentType)
		e.js = newMemberScanner(maxMember, wanted, e.onMember)
	default:
		e.mode = wire.Ignore
	}
	return e
}

func wanted(key []byte) bool {
	switch string(key) {
	case "usageMetadata", "modelVersion", "responseId", "candidates":
		return true
	}
	return false
}

// Write consumes response bytes; it never fails.
func (e *extractor) Write(p []byte) (int, error) {
	n := len(p)
	if e.mode == wire.Unknown {
		// A streamGenerateContent body without alt=sse is a JSON array.
		if e.mode, p = wire.Sniff(p, "{["); e.mode == wire.Unknown {
			return n, nil
		}
	}
	switch e.mode {
	case wire.JSON:
		if e.ep == epCount {
			e.small.Write(p)
		}
		_, _ = e.js.Write(p)
	case wire.SSE:
		if e.sc == nil {
			e.sc = sse.New(maxMember, e.onEvent)
		}
		_, _ = e.sc.Write(p)
	}
	return n, nil
}

// onEvent parses one SSE event's data: a whole GenerateContentResponse.
// Events over the cap are skipped; a later chunk's cumulative usage still
// counts.
func (e *extractor) onEvent(ev sse.Event) {
	if ev.Truncated {
		return
	}
	e.js.Reset()
	_, _ = e.js.Write(ev.Data)
	e.js.Reset()
}

type candidate struct {
	Index        wire.Num `json:"index"`
	FinishReason string   `json:"finishReason"`
	Content      *struct {
		Parts []struct {
			Text           string          `json:"text"`
			FunctionCall   json.RawMessage `json:"functionCall"`
			ExecutableCode *struct {
				Code string `json:"code"`
			} `json:"executableCode"`
		} `json:"parts"`
	} `json:"content"`
	GroundingMetadata *struct {
		WebSearchQueries []string `json:"webSearchQueries"`
	} `json:"groundingMetadata"`
}

func (e *extractor) onMember(key, value []byte) {
	switch string(key) {
	case "usageMetadata":
		var m usageMetadata
		if wire.IsObject(value) && wire.Decode(value, &m) {
			e.meta, e.hasMeta = m, true
			e.metaRaw = append(e.metaRaw[:0], value...)
		}
	case "modelVersion":
		if e.model == "" {
			_ = json.Unmarshal(value, &e.model)
		}
	case "responseId":
		if e.id == "" {
			_ = json.Unmarshal(value, &e.id)
		}
	case "candidates":
		var cs []candidate
		if !wire.Decode(value, &cs) {
			return
		}
		for _, c := range cs {
			if c.FinishReason != "" {
				e.finished = true // the provider's last chunk
			}
			if c.Content != nil {
				for _, p := range c.Content.Parts {
					// Thought summaries are text parts too, and count.
					e.text.Add(p.Text)
					e.text.Add(wire.CompactJSON(p.FunctionCall))
					if p.ExecutableCode != nil {
						e.text.Add(p.ExecutableCode.Code)
					}
				}
			}
			if c.GroundingMetadata != nil {
				e.addSearches(c.Index.V, c.GroundingMetadata.WebSearchQueries)
			}
		}
	}
}

func (e *extractor) addSearches(idx int64, queries []string) {
	for _, q := range queries {
		if e.nSearches >= maxSearches {
			return
		}
		if e.searches == nil {
			e.searches = map[int64]map[uint64]struct{}{}
		}
		set := e.searches[idx]
		if set == nil {
			set = map[uint64]struct{}{}
			e.searches[idx] = set
		}
		h := fnv.New64a()
		_, _ = h.Write([]byte(q))
		if _, dup := set[h.Sum64()]; !dup {
			set[h.Sum64()] = struct{}{}
			e.nSearches++
		}
	}
}

// Report returns what was found. It is called once.
func (e *extractor) Report() usage.Report {
	r := usage.Report{EndpointClass: endpointClass(e.ep), NotBilled: e.notBilled, Complete: e.finished}
	if e.sc != nil {
		e.sc.Close()
	}
	switch {
	case e.ep == epCount:
		if b := e.small.Bytes(); !e.small.Over() && wire.IsObject(b) && json.Valid(b) {
			r.Raw = json.RawMessage(bytes.TrimSpace(b))
		}
	case e.ep == epCache || e.notBilled:
		if e.hasMeta {
			r.Raw = json.RawMessage(e.metaRaw)
		}
	case e.hasMeta:
		r.Found = true
		r.Tokens, r.ServiceTier = e.meta.normalise()
		r.Raw = json.RawMessage(e.metaRaw)
	}
	if !r.NotBilled {
		r.ResponseModel = e.model
		r.GenerationID = e.id
		r.WebSearchRequests = int64(e.nSearches)
	}
	r.OutputChars = e.text.Chars()
	r.OutputTokensEstimate = e.text.Estimate()
	return r
}

func endpointClass(ep endpoint) string {
	switch ep {
	case epGenerate:
		return usage.EndpointGenerate
	case epEmbed:
		return usage.EndpointEmbedContent
	case epCount:
		return usage.EndpointCountTokens
	case epBatch:
		return usage.EndpointBatch
	case epModels:
		return usage.EndpointModels
	}
	return usage.EndpointOther
}
