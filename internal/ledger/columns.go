package ledger

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/spendops/spendops/internal/usage"
)

// TSLayout is how ts columns are stored: UTC, fixed width, nanoseconds, so
// that text comparison is time comparison.
const TSLayout = "2006-01-02T15:04:05.000000000Z"

func formatTS(t time.Time) string { return t.UTC().Format(TSLayout) }

func parseTS(s string) (time.Time, error) {
	t, err := time.Parse(TSLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse ts %q: %w", s, err)
	}
	return t, nil
}

// formatDecimal keeps the decimal's scale ("0.000123450" stays so), which
// decimal.String would trim; the value is exact either way.
func formatDecimal(d decimal.Decimal) string {
	if d.Exponent() < 0 {
		return d.StringFixed(-d.Exponent())
	}
	return d.String()
}

func decimalPtrValue(d *decimal.Decimal) any {
	if d == nil {
		return nil
	}
	return formatDecimal(*d)
}

// column maps one usage_events column to an Event field, both ways, so the
// INSERT and SELECT lists cannot drift apart.
type column struct {
	name string
	get  func(e *usage.Event) any
	dest func(e *usage.Event) any
}

func strCol(name string, f func(e *usage.Event) *string) column {
	return column{name, func(e *usage.Event) any { return *f(e) }, func(e *usage.Event) any { return f(e) }}
}

func intCol(name string, f func(e *usage.Event) *int64) column {
	return column{name, func(e *usage.Event) any { return *f(e) }, func(e *usage.Event) any { return f(e) }}
}

func boolCol(name string, f func(e *usage.Event) *bool) column {
	return column{name, func(e *usage.Event) any { return *f(e) }, func(e *usage.Event) any { return f(e) }}
}

func costCol(name string, f func(e *usage.Event) **decimal.Decimal) column {
	return column{name, func(e *usage.Event) any { return decimalPtrValue(*f(e)) },
		func(e *usage.Event) any { return decPtrScanner{f(e)} }}
}

var eventColumns = []column{
	strCol("request_id", func(e *usage.Event) *string { return &e.RequestID }),
	{"ts", func(e *usage.Event) any { return formatTS(e.TS) }, func(e *usage.Event) any { return tsScanner{&e.TS} }},
	strCol("env", func(e *usage.Event) *string { return &e.Env }),
	strCol("tenant_id", func(e *usage.Event) *string { return &e.TenantID }),
	strCol("api_key_id", func(e *usage.Event) *string { return &e.APIKeyID }),
	strCol("provider", func(e *usage.Event) *string { return &e.Provider }),
	strCol("method", func(e *usage.Event) *string { return &e.Method }),
	strCol("endpoint", func(e *usage.Event) *string { return &e.Endpoint }),
	strCol("endpoint_class", func(e *usage.Event) *string { return &e.EndpointClass }),
	strCol("model", func(e *usage.Event) *string { return &e.Model }),
	strCol("response_model", func(e *usage.Event) *string { return &e.ResponseModel }),
	strCol("generation_id", func(e *usage.Event) *string { return &e.GenerationID }),
	strCol("service_tier", func(e *usage.Event) *string { return &e.ServiceTier }),
	boolCol("stream", func(e *usage.Event) *bool { return &e.Stream }),
	boolCol("stream_usage_injected", func(e *usage.Event) *bool { return &e.UsageInjected }),
	strCol("outcome", func(e *usage.Event) *string { return (*string)(&e.Outcome) }),
	strCol("usage_source", func(e *usage.Event) *string { return (*string)(&e.UsageSource) }),
	{"http_status", func(e *usage.Event) any { return int64(e.HTTPStatus) }, func(e *usage.Event) any { return intScanner{&e.HTTPStatus} }},
	{"dims", func(e *usage.Event) any { return dimsJSON(e.Dims) }, func(e *usage.Event) any { return dimsScanner{&e.Dims} }},
	intCol("prompt_tokens", func(e *usage.Event) *int64 { return &e.Prompt }),
	intCol("completion_tokens", func(e *usage.Event) *int64 { return &e.Completion }),
	intCol("total_tokens", func(e *usage.Event) *int64 { return &e.Total }),
	intCol("cache_read_tokens", func(e *usage.Event) *int64 { return &e.CacheRead }),
	intCol("cache_write_tokens", func(e *usage.Event) *int64 { return &e.CacheWrite }),
	intCol("cache_write_5m_tokens", func(e *usage.Event) *int64 { return &e.CacheWrite5m }),
	intCol("cache_write_1h_tokens", func(e *usage.Event) *int64 { return &e.CacheWrite1h }),
	intCol("reasoning_tokens", func(e *usage.Event) *int64 { return &e.Reasoning }),
	intCol("prompt_audio_tokens", func(e *usage.Event) *int64 { return &e.PromptAudio }),
	intCol("prompt_image_tokens", func(e *usage.Event) *int64 { return &e.PromptImage }),
	intCol("completion_audio_tokens", func(e *usage.Event) *int64 { return &e.CompletionAudio }),
	intCol("completion_image_tokens", func(e *usage.Event) *int64 { return &e.CompletionImage }),
	intCol("web_search_requests", func(e *usage.Event) *int64 { return &e.WebSearchRequests }),
	intCol("image_count", func(e *usage.Event) *int64 { return &e.ImageCount }),
	strCol("image_size", func(e *usage.Event) *string { return &e.ImageSize }),
	strCol("image_quality", func(e *usage.Event) *string { return &e.ImageQuality }),
	{"audio_seconds", func(e *usage.Event) any { return formatDecimal(e.AudioSeconds) }, func(e *usage.Event) any { return decScanner{&e.AudioSeconds} }},
	intCol("input_characters", func(e *usage.Event) *int64 { return &e.InputCharacters }),
	costCol("provider_cost", func(e *usage.Event) **decimal.Decimal { return &e.ProviderCost }),
	costCol("calculated_cost", func(e *usage.Event) **decimal.Decimal { return &e.CalculatedCost }),
	costCol("total_cost_usd", func(e *usage.Event) **decimal.Decimal { return &e.TotalCost }),
	strCol("cost_source", func(e *usage.Event) *string { return (*string)(&e.CostSource) }),
	boolCol("pricing_matched", func(e *usage.Event) *bool { return &e.PricingMatched }),
	strCol("pricing_model", func(e *usage.Event) *string { return &e.PricingModel }),
	strCol("pricing_version", func(e *usage.Event) *string { return &e.PricingVersion }),
	intCol("prompt_chars", func(e *usage.Event) *int64 { return &e.PromptChars }),
	intCol("completion_chars", func(e *usage.Event) *int64 { return &e.CompletionChars }),
	intCol("completion_bytes", func(e *usage.Event) *int64 { return &e.CompletionBytes }),
	intCol("started_at_ms", func(e *usage.Event) *int64 { return &e.StartedAtMs }),
	intCol("first_byte_at_ms", func(e *usage.Event) *int64 { return &e.FirstByteAtMs }),
	intCol("ended_at_ms", func(e *usage.Event) *int64 { return &e.EndedAtMs }),
	{"raw_usage", func(e *usage.Event) any { return rawValue(e.RawUsage) }, func(e *usage.Event) any { return rawScanner{&e.RawUsage} }},
}

// eventColumnList is "request_id, ts, ..." prefixed with alias when given.
func eventColumnList(alias string) string {
	var b strings.Builder
	for i, c := range eventColumns {
		if i > 0 {
			b.WriteString(", ")
		}
		if alias != "" {
			b.WriteString(alias + ".")
		}
		b.WriteString(c.name)
	}
	return b.String()
}

func scanEvent(rows *sql.Rows) (usage.Event, error) {
	var e usage.Event
	dests := make([]any, len(eventColumns))
	for i, c := range eventColumns {
		dests[i] = c.dest(&e)
	}
	if err := rows.Scan(dests...); err != nil {
		return usage.Event{}, fmt.Errorf("scan event: %w", err)
	}
	return e, nil
}

var denialColumnNames = []string{"request_id", "ts", "type", "reason", "http_status", "tenant_id", "api_key_id", "provider", "path", "dims"}

func denialValues(d *usage.Denial) []any {
	return []any{d.RequestID, formatTS(d.TS), d.Type, d.Reason, int64(d.HTTPStatus), d.TenantID, d.APIKeyID, d.Provider, d.Path, dimsJSON(d.Dims)}
}

func scanDenial(rows *sql.Rows) (usage.Denial, error) {
	var d usage.Denial
	err := rows.Scan(&d.RequestID, tsScanner{&d.TS}, &d.Type, &d.Reason, intScanner{&d.HTTPStatus},
		&d.TenantID, &d.APIKeyID, &d.Provider, &d.Path, dimsScanner{&d.Dims})
	if err != nil {
		return usage.Denial{}, fmt.Errorf("scan denial: %w", err)
	}
	return d, nil
}

// dimsJSON never fails: a map[string]string always marshals. Nil is "{}" so
// the column and the API always hold an object.
func dimsJSON(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// rawValue stores the provider's usage object byte for byte. Bytes that are
// not JSON (an extractor bug) are kept as a JSON string so nothing is lost
// and every stored raw_usage stays valid JSON for the API.
func rawValue(r json.RawMessage) any {
	if len(r) == 0 {
		return nil
	}
	if !json.Valid(r) {
		b, _ := json.Marshal(string(r))
		return string(b)
	}
	return string(r)
}

type tsScanner struct{ p *time.Time }

func (s tsScanner) Scan(src any) error {
	str, ok := asString(src)
	if !ok {
		return fmt.Errorf("ts: unexpected %T", src)
	}
	t, err := parseTS(str)
	if err != nil {
		return err
	}
	*s.p = t
	return nil
}

type intScanner struct{ p *int }

func (s intScanner) Scan(src any) error {
	v, ok := src.(int64)
	if !ok {
		return fmt.Errorf("int: unexpected %T", src)
	}
	*s.p = int(v)
	return nil
}

type decScanner struct{ p *decimal.Decimal }

func (s decScanner) Scan(src any) error {
	str, ok := asString(src)
	if !ok {
		return fmt.Errorf("decimal: unexpected %T", src)
	}
	d, err := decimal.NewFromString(str)
	if err != nil {
		return fmt.Errorf("decimal %q: %w", str, err)
	}
	*s.p = d
	return nil
}

type decPtrScanner struct{ p **decimal.Decimal }

func (s decPtrScanner) Scan(src any) error {
	if src == nil {
		*s.p = nil
		return nil
	}
	var d decimal.Decimal
	if err := (decScanner{&d}).Scan(src); err != nil {
		return err
	}
	*s.p = &d
	return nil
}

type dimsScanner struct{ p *map[string]string }

func (s dimsScanner) Scan(src any) error {
	str, ok := asString(src)
	if !ok {
		return fmt.Errorf("dims: unexpected %T", src)
	}
	m := map[string]string{}
	if err := json.Unmarshal([]byte(str), &m); err != nil {
		return fmt.Errorf("dims: %w", err)
	}
	*s.p = m
	return nil
}

type rawScanner struct{ p *json.RawMessage }

func (s rawScanner) Scan(src any) error {
	if src == nil {
		*s.p = nil
		return nil
	}
	str, ok := asString(src)
	if !ok {
		return fmt.Errorf("raw_usage: unexpected %T", src)
	}
	*s.p = json.RawMessage(str)
	return nil
}

func asString(src any) (string, bool) {
	switch v := src.(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	}
	return "", false
}
