// Package usage defines the usage event SpendOps records for every proxied
// request, the denial event for every rejected one, and the seams between the
// proxy (which observes response bytes), the extractors (which turn bytes into
// token counts) and the pipeline (which prices and stores events).
package usage

import (
	"encoding/json"
	"time"

	"github.com/shopspring/decimal"
)

// Outcome says how a proxied request ended.
type Outcome string

// Outcomes of a proxied request.
const (
	OutcomeCompleted Outcome = "completed" // upstream answered and the body was delivered
	OutcomeCancelled Outcome = "cancelled" // the client left before the body ended
	OutcomeError     Outcome = "error"     // upstream 4xx/5xx, unreachable, or a cut stream
)

// Source says where an event's token counts came from.
type Source string

// Usage sources.
const (
	SourceProvider Source = "provider" // reported by the provider
	SourceEstimate Source = "estimate" // estimated by SpendOps (tokenizer or chars/4)
	SourcePartial  Source = "partial"  // some counts reported, some estimated
	SourceNone     Source = "none"     // nothing known (e.g. upstream unreachable)
)

// CostSource says where an event's total cost came from.
type CostSource string

// Cost sources. NotBilled marks endpoints that never cost money (token
// counting, model listing, batch polls): their cost is zero by definition,
// unlike None, whose cost is unknown (null).
const (
	CostProvider  CostSource = "provider"
	CostCustom    CostSource = "custom"
	CostStandard  CostSource = "standard"
	CostNone      CostSource = "none"
	CostNotBilled CostSource = "not_billed"
)

// Tokens are normalised token counts in OpenAI's convention, whatever the
// provider (decisions.md, "Usage and cost"):
//
//   - Prompt is all input: uncached + cache read + cache write. CacheRead,
//     CacheWrite, PromptAudio and PromptImage are subsets of Prompt.
//     CacheWrite = CacheWrite5m + CacheWrite1h (+ writes of unknown TTL).
//   - Completion is all output including reasoning. Reasoning,
//     CompletionAudio and CompletionImage are subsets of Completion.
//   - Total = Prompt + Completion.
type Tokens struct {
	Prompt          int64 `json:"prompt_tokens"`
	Completion      int64 `json:"completion_tokens"`
	Total           int64 `json:"total_tokens"`
	CacheRead       int64 `json:"cache_read_tokens"`
	CacheWrite      int64 `json:"cache_write_tokens"`
	CacheWrite5m    int64 `json:"cache_write_5m_tokens"`
	CacheWrite1h    int64 `json:"cache_write_1h_tokens"`
	Reasoning       int64 `json:"reasoning_tokens"`
	PromptAudio     int64 `json:"prompt_audio_tokens"`
	PromptImage     int64 `json:"prompt_image_tokens"`
	CompletionAudio int64 `json:"completion_audio_tokens"`
	CompletionImage int64 `json:"completion_image_tokens"`
}

// Report is what an extractor found in one response.
type Report struct {
	// Found is true when the provider reported usage (all of Tokens is the
	// provider's). When false, Tokens may hold what was partially seen.
	Found  bool
	Tokens Tokens
	// EndpointClass is the kind of endpoint (see the Endpoint* constants).
	EndpointClass string
	// NotBilled marks token-counting and read-only endpoints.
	NotBilled bool
	// Complete is true when the stream's end marker was seen ("data: [DONE]",
	// Anthropic message_stop, a Responses final event): a client leaving
	// after it got everything the provider meant to send.
	Complete bool

	WebSearchRequests int64
	// Images generated, with the size and quality the response or request named.
	ImageCount   int64
	ImageSize    string
	ImageQuality string
	// AudioSeconds is the billed duration of audio endpoints billed by time
	// (e.g. whisper-1 transcriptions), exact as reported.
	AudioSeconds decimal.Decimal
	// InputCharacters is the billed character count of endpoints billed by
	// characters (e.g. tts-1 speech).
	InputCharacters int64

	// ProviderCost is the cost the provider reported, in USD, or nil.
	ProviderCost *decimal.Decimal

	ResponseModel string
	GenerationID  string
	ServiceTier   string

	// Raw is the provider's usage object as received (for streams, the one
	// the counts came from; for Anthropic streams, message_start's and the
	// latest message_delta's merged under "message_start"/"message_delta").
	Raw json.RawMessage

	// OutputChars counts visible output text seen (deltas or message text),
	// and OutputTokensEstimate is the Counter's estimate over that text; both
	// serve to estimate usage for streams that end without usage.
	OutputChars          int64
	OutputTokensEstimate int64
}

// Endpoint classes reported by extractors.
const (
	EndpointChat          = "chat"
	EndpointCompletions   = "completions"
	EndpointResponses     = "responses"
	EndpointEmbeddings    = "embeddings"
	EndpointImages        = "images"
	EndpointTranscription = "audio_transcription"
	EndpointTranslation   = "audio_translation"
	EndpointSpeech        = "audio_speech"
	EndpointModerations   = "moderations"
	EndpointMessages      = "messages"
	EndpointCountTokens   = "count_tokens"
	EndpointGenerate      = "generate_content"
	EndpointEmbedContent  = "embed_content"
	EndpointModels        = "models"
	EndpointBatch         = "batch"
	EndpointOther         = "other"
)

// Event is one usage record: exactly one per proxied request.
type Event struct {
	RequestID     string            `json:"request_id"`
	TS            time.Time         `json:"ts"`
	Env           string            `json:"env,omitempty"`
	TenantID      string            `json:"tenant_id"`
	APIKeyID      string            `json:"api_key_id"`
	Provider      string            `json:"provider"`
	Method        string            `json:"method"`
	Endpoint      string            `json:"endpoint"`
	EndpointClass string            `json:"endpoint_class"`
	Model         string            `json:"model"`
	ResponseModel string            `json:"response_model"`
	GenerationID  string            `json:"generation_id"`
	ServiceTier   string            `json:"service_tier"`
	Stream        bool              `json:"stream"`
	UsageInjected bool              `json:"stream_usage_injected"`
	Outcome       Outcome           `json:"outcome"`
	UsageSource   Source            `json:"usage_source"`
	HTTPStatus    int               `json:"http_status"`
	Dims          map[string]string `json:"dims"`

	Tokens
	WebSearchRequests int64           `json:"web_search_requests"`
	ImageCount        int64           `json:"image_count"`
	ImageSize         string          `json:"image_size"`
	ImageQuality      string          `json:"image_quality"`
	AudioSeconds      decimal.Decimal `json:"audio_seconds"`
	InputCharacters   int64           `json:"input_characters"`

	ProviderCost   *decimal.Decimal `json:"provider_cost"`
	CalculatedCost *decimal.Decimal `json:"calculated_cost"`
	TotalCost      *decimal.Decimal `json:"total_cost_usd"`
	CostSource     CostSource       `json:"cost_source"`
	PricingMatched bool             `json:"pricing_matched"`
	PricingModel   string           `json:"pricing_model"`
	PricingVersion string           `json:"pricing_version"`

	PromptChars     int64 `json:"prompt_chars"`
	CompletionChars int64 `json:"completion_chars"`
	CompletionBytes int64 `json:"completion_bytes"`

	StartedAtMs   int64 `json:"started_at_ms"`
	FirstByteAtMs int64 `json:"first_byte_at_ms"`
	EndedAtMs     int64 `json:"ended_at_ms"`

	RawUsage json.RawMessage `json:"raw_usage"`
}

// Denial is one rejected request: exactly one per rejection.
type Denial struct {
	RequestID  string            `json:"request_id"`
	TS         time.Time         `json:"ts"`
	Type       string            `json:"type"`
	Reason     string            `json:"reason"`
	HTTPStatus int               `json:"http_status"`
	TenantID   string            `json:"tenant_id"`
	APIKeyID   string            `json:"api_key_id"`
	Provider   string            `json:"provider"`
	Path       string            `json:"path"`
	Dims       map[string]string `json:"dims"`
}

// Denial types.
const (
	DenialMissingKey      = "missing_key"
	DenialInvalidKey      = "invalid_key"
	DenialInactiveKey     = "inactive_key"
	DenialUnknownProvider = "unknown_provider"
	DenialInvalidPath     = "invalid_path"
	DenialProviderBlocked = "provider_blocked"
	DenialDimensions      = "dimension_validation"
	DenialModelBlocked    = "model_blocked"
	DenialBodyTooLarge    = "body_too_large"
	DenialBadRequest      = "bad_request"
)
