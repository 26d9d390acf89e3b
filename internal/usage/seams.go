package usage

import "github.com/spendops/spendops/internal/provider"

// Request describes a proxied request and its response head to an extractor.
type Request struct {
	Provider string
	Dialect  provider.Dialect
	Method   string
	// Path is the upstream path (after any provider mapping), without query.
	Path string
	// RawQuery is the query string as sent upstream.
	RawQuery string
	// Model is the model the request named (JSON body or Gemini URL), if any.
	Model string
	// Stream is true when the request asked for a stream (body "stream":true
	// or a streaming Gemini action).
	Stream bool
	// RequestBody is the JSON request body when it was read (nil otherwise).
	// Extractors may read fields that bill (image size and quality, TTS
	// input length) but must not keep it.
	RequestBody []byte
	// StatusCode and ContentType are the upstream response's.
	StatusCode  int
	ContentType string
	// Counter estimates tokens of visible output text; nil means chars/4.
	Counter Counter
}

// Counter counts tokens in text for estimates. Implementations must be safe
// for concurrent use.
type Counter interface {
	Count(text string) int64
}

// Extractor consumes a copy of one response body (already decompressed) and
// reports its usage. Write must keep bounded memory whatever the body size,
// and must never fail in a way that affects the client: it always returns
// len(p), nil. An Extractor is used by one goroutine.
type Extractor interface {
	Write(p []byte) (int, error)
	// Report returns the usage found; called once, after the body ended or
	// was cut.
	Report() Report
}

// ExtractorFactory builds the extractor for one response.
type ExtractorFactory func(Request) Extractor

// Sink accepts events from request goroutines. Both methods must return
// promptly without blocking on storage: the pipeline queues, batches and,
// when full, spills to disk.
type Sink interface {
	Usage(Event)
	Denial(Denial)
}

// Pricer fills the cost fields of an event (ProviderCost is already set from
// the report). It runs off the request path, in the pipeline.
type Pricer interface {
	Price(e *Event)
}
