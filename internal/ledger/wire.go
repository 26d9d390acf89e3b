package ledger

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/spendops/spendops/internal/usage"
)

// WireEvent is an event as the admin API shows it (interface.md EVENT, plus
// the fields SpendOps adds). Its field order is the JSON and CSV column
// order.
//
//   - Costs are strings of exact decimal USD with at least 9 decimal places
//     ("0.000123450"), more when the stored value has more (never rounded),
//     and null when unknown.
//   - Token fields and web_search_requests are null when usage_source is
//     "none": nothing was observed, and 0 would claim otherwise.
//   - Optional strings (model, generation_id, ...) are null when empty, as in
//     the hosted product's field reference; http_status is null when no
//     upstream status exists.
//   - dims is always an object; raw_usage is the provider's usage object as
//     received (JSON, not a string), or null.
type WireEvent struct {
	RequestID             string            `json:"request_id"`
	TS                    string            `json:"ts"`
	Env                   *string           `json:"env"`
	TenantID              string            `json:"tenant_id"`
	APIKeyID              string            `json:"api_key_id"`
	Provider              string            `json:"provider"`
	Method                string            `json:"method"`
	Endpoint              string            `json:"endpoint"`
	EndpointClass         string            `json:"endpoint_class"`
	Model                 *string           `json:"model"`
	ResponseModel         *string           `json:"response_model"`
	GenerationID          *string           `json:"generation_id"`
	ServiceTier           *string           `json:"service_tier"`
	Stream                bool              `json:"stream"`
	StreamUsageInjected   bool              `json:"stream_usage_injected"`
	Outcome               string            `json:"outcome"`
	UsageSource           string            `json:"usage_source"`
	HTTPStatus            *int              `json:"http_status"`
	PromptTokens          *int64            `json:"prompt_tokens"`
	CompletionTokens      *int64            `json:"completion_tokens"`
	TotalTokens           *int64            `json:"total_tokens"`
	CacheReadTokens       *int64            `json:"cache_read_tokens"`
	CacheWriteTokens      *int64            `json:"cache_write_tokens"`
	CacheWrite5mTokens    *int64            `json:"cache_write_5m_tokens"`
	CacheWrite1hTokens    *int64            `json:"cache_write_1h_tokens"`
	ReasoningTokens       *int64            `json:"reasoning_tokens"`
	PromptAudioTokens     *int64            `json:"prompt_audio_tokens"`
	PromptImageTokens     *int64            `json:"prompt_image_tokens"`
	CompletionAudioTokens *int64            `json:"completion_audio_tokens"`
	CompletionImageTokens *int64            `json:"completion_image_tokens"`
	WebSearchRequests     *int64            `json:"web_search_requests"`
	ImageCount            int64             `json:"image_count"`
	ImageSize             *string           `json:"image_size"`
	ImageQuality          *string           `json:"image_quality"`
	AudioSeconds          string            `json:"audio_seconds"`
	InputCharacters       int64             `json:"input_characters"`
	ProviderCost          *string           `json:"provider_cost"`
	CalculatedCost        *string           `json:"calculated_cost"`
	TotalCostUSD          *string           `json:"total_cost_usd"`
	CostSource            *string           `json:"cost_source"`
	PricingMatched        bool              `json:"pricing_matched"`
	PricingModel          *string           `json:"pricing_model"`
	PricingVersion        *string           `json:"pricing_version"`
	PromptChars           int64             `json:"prompt_chars"`
	CompletionChars       int64             `json:"completion_chars"`
	CompletionBytes       int64             `json:"completion_bytes"`
	StartedAtMs           int64             `json:"started_at_ms"`
	FirstByteAtMs         int64             `json:"first_byte_at_ms"`
	EndedAtMs             int64             `json:"ended_at_ms"`
	Dims                  map[string]string `json:"dims"`
	RawUsage              json.RawMessage   `json:"raw_usage"`
}

// WireTS is the API's time format: RFC 3339 in UTC with the stored
// nanoseconds, fixed width.
const WireTS = TSLayout

// WireCost formats a cost for the API: at least 9 decimal places, never
// rounded.
func WireCost(d decimal.Decimal) string {
	if -d.Exponent() < 9 {
		return d.StringFixed(9)
	}
	return formatDecimal(d)
}

func costPtr(d *decimal.Decimal) *string {
	if d == nil {
		return nil
	}
	s := WireCost(*d)
	return &s
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ToWire converts a stored event to its API form.
func ToWire(e *usage.Event) WireEvent {
	w := WireEvent{
		RequestID:           e.RequestID,
		TS:                  e.TS.UTC().Format(WireTS),
		Env:                 optString(e.Env),
		TenantID:            e.TenantID,
		APIKeyID:            e.APIKeyID,
		Provider:            e.Provider,
		Method:              e.Method,
		Endpoint:            e.Endpoint,
		EndpointClass:       e.EndpointClass,
		Model:               optString(e.Model),
		ResponseModel:       optString(e.ResponseModel),
		GenerationID:        optString(e.GenerationID),
		ServiceTier:         optString(e.ServiceTier),
		Stream:              e.Stream,
		StreamUsageInjected: e.UsageInjected,
		Outcome:             string(e.Outcome),
		UsageSource:         string(e.UsageSource),
		ImageCount:          e.ImageCount,
		ImageSize:           optString(e.ImageSize),
		ImageQuality:        optString(e.ImageQuality),
		AudioSeconds:        e.AudioSeconds.String(),
		InputCharacters:     e.InputCharacters,
		ProviderCost:        costPtr(e.ProviderCost),
		CalculatedCost:      costPtr(e.CalculatedCost),
		TotalCostUSD:        costPtr(e.TotalCost),
		CostSource:          optString(string(e.CostSource)),
		PricingMatched:      e.PricingMatched,
		PricingModel:        optString(e.PricingModel),
		PricingVersion:      optString(e.PricingVersion),
		PromptChars:         e.PromptChars,
		CompletionChars:     e.CompletionChars,
		CompletionBytes:     e.CompletionBytes,
		StartedAtMs:         e.StartedAtMs,
		FirstByteAtMs:       e.FirstByteAtMs,
		EndedAtMs:           e.EndedAtMs,
		Dims:                e.Dims,
		RawUsage:            e.RawUsage,
	}
	if e.HTTPStatus != 0 {
		s := e.HTTPStatus
		w.HTTPStatus = &s
	}
	if w.Dims == nil {
		w.Dims = map[string]string{}
	}
	if len(w.RawUsage) > 0 && !json.Valid(w.RawUsage) {
		w.RawUsage, _ = json.Marshal(string(e.RawUsage))
	}
	if e.UsageSource != usage.SourceNone {
		t := e.Tokens
		ws := e.WebSearchRequests
		w.PromptTokens, w.CompletionTokens, w.TotalTokens = &t.Prompt, &t.Completion, &t.Total
		w.CacheReadTokens, w.CacheWriteTokens = &t.CacheRead, &t.CacheWrite
		w.CacheWrite5mTokens, w.CacheWrite1hTokens = &t.CacheWrite5m, &t.CacheWrite1h
		w.ReasoningTokens = &t.Reasoning
		w.PromptAudioTokens, w.PromptImageTokens = &t.PromptAudio, &t.PromptImage
		w.CompletionAudioTokens, w.CompletionImageTokens = &t.CompletionAudio, &t.CompletionImage
		w.WebSearchRequests = &ws
	}
	return w
}

// WireDenial is a denial as the admin API shows it. tenant_id, api_key_id
// and provider are null when the request was rejected before they were
// known (e.g. a missing key).
type WireDenial struct {
	RequestID  string            `json:"request_id"`
	TS         string            `json:"ts"`
	Type       string            `json:"type"`
	Reason     string            `json:"reason"`
	HTTPStatus int               `json:"http_status"`
	TenantID   *string           `json:"tenant_id"`
	APIKeyID   *string           `json:"api_key_id"`
	Provider   *string           `json:"provider"`
	Path       string            `json:"path"`
	Dims       map[string]string `json:"dims"`
}

// DenialToWire converts a stored denial to its API form.
func DenialToWire(d *usage.Denial) WireDenial {
	w := WireDenial{
		RequestID:  d.RequestID,
		TS:         d.TS.UTC().Format(WireTS),
		Type:       d.Type,
		Reason:     d.Reason,
		HTTPStatus: d.HTTPStatus,
		TenantID:   optString(d.TenantID),
		APIKeyID:   optString(d.APIKeyID),
		Provider:   optString(d.Provider),
		Path:       d.Path,
		Dims:       d.Dims,
	}
	if w.Dims == nil {
		w.Dims = map[string]string{}
	}
	return w
}

// csvLayout is the CSV view of a wire struct: one column per JSON field, in
// struct order, named by the JSON key. null is an empty cell; dims and
// raw_usage are cells holding JSON, so the column set is fixed whatever
// dimension keys exist and an export can stream without a first pass.
type csvLayout struct {
	header []string
	fields []int
}

func newCSVLayout(t reflect.Type) csvLayout {
	var l csvLayout
	for i := 0; i < t.NumField(); i++ {
		l.header = append(l.header, jsonName(t.Field(i)))
		l.fields = append(l.fields, i)
	}
	return l
}

func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	for i := 0; i < len(tag); i++ {
		if tag[i] == ',' {
			return tag[:i]
		}
	}
	return tag
}

var (
	eventCSV  = newCSVLayout(reflect.TypeFor[WireEvent]())
	denialCSV = newCSVLayout(reflect.TypeFor[WireDenial]())
)

func (l csvLayout) record(v reflect.Value, out []string) ([]string, error) {
	out = out[:0]
	for _, i := range l.fields {
		s, err := csvCell(v.Field(i))
		if err != nil {
			return nil, fmt.Errorf("csv %s: %w", l.header[i], err)
		}
		out = append(out, s)
	}
	return out, nil
}

func csvCell(f reflect.Value) (string, error) {
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return "", nil
		}
		f = f.Elem()
	}
	switch f.Kind() {
	case reflect.String:
		return f.String(), nil
	case reflect.Bool:
		return strconv.FormatBool(f.Bool()), nil
	case reflect.Int, reflect.Int64:
		return strconv.FormatInt(f.Int(), 10), nil
	case reflect.Map:
		b, err := json.Marshal(f.Interface())
		return string(b), err
	case reflect.Slice: // json.RawMessage
		if f.Len() == 0 {
			return "", nil
		}
		b, err := json.Marshal(f.Interface())
		return string(b), err
	}
	return "", fmt.Errorf("unsupported kind %s", f.Kind())
}
