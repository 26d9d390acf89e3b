package pricing

import (
	"github.com/shopspring/decimal"
)

// Rates are the prices of one model in one situation (date, time window,
// context tier, service tier). Token rates are USD per 1,000,000 tokens;
// the others say their unit. A nil rate means the model does not charge for
// that unit separately: for a token subset (cache, reasoning, audio, image)
// the subset is then priced at its parent's rate, and for a fee it costs
// nothing.
type Rates struct {
	Input        *decimal.Decimal `json:"input,omitempty"`          // uncached input tokens
	CacheRead    *decimal.Decimal `json:"cache_read,omitempty"`     // input tokens read from a cache
	CacheWrite   *decimal.Decimal `json:"cache_write,omitempty"`    // cache writes, 5-minute or unknown TTL
	CacheWrite1h *decimal.Decimal `json:"cache_write_1h,omitempty"` // cache writes with a 1-hour TTL
	Output       *decimal.Decimal `json:"output,omitempty"`         // output tokens (incl. reasoning unless Reasoning is set)
	Reasoning    *decimal.Decimal `json:"reasoning,omitempty"`      // reasoning output tokens, where priced apart
	InputAudio   *decimal.Decimal `json:"input_audio,omitempty"`
	OutputAudio  *decimal.Decimal `json:"output_audio,omitempty"`
	InputImage   *decimal.Decimal `json:"input_image,omitempty"`
	OutputImage  *decimal.Decimal `json:"output_image,omitempty"`
	WebSearch    *decimal.Decimal `json:"web_search,omitempty"`   // USD per web search / grounding query
	Request      *decimal.Decimal `json:"request,omitempty"`      // USD per request
	AudioSecond  *decimal.Decimal `json:"audio_second,omitempty"` // USD per second of billed audio
	InputMChars  *decimal.Decimal `json:"input_mchars,omitempty"` // USD per 1,000,000 input characters
}

// Tier is a long-context price tier: when a request's total input tokens
// (uncached + cache read + cache write) exceed AboveInputTokens, the whole
// request is priced with these rates (a cliff, not a marginal band). Rates
// it leaves nil keep the lower tier's value.
type Tier struct {
	AboveInputTokens int64 `json:"above_input_tokens"`
	Rates            Rates `json:"rates"`
}

// ServiceTier prices a provider service tier (batch, flex, priority). The
// standard-tier rates, after context tiers, are multiplied by Multiplier
// (when set), then replaced field by field by Rates and by the Tiers the
// request crosses.
type ServiceTier struct {
	Multiplier *decimal.Decimal `json:"multiplier,omitempty"`
	Rates      Rates            `json:"rates,omitzero"`
	Tiers      []Tier           `json:"tiers,omitempty"`
}

// TimeWindow replaces rates during a daily UTC window, e.g. DeepSeek's
// off-peak discount. Start and End are "HH:MM" (or "HH:MM:SS"); a window
// whose End is before its Start wraps past midnight.
type TimeWindow struct {
	Start string `json:"start"`
	End   string `json:"end"`
	Rates Rates  `json:"rates"`
}

// ImagePrice is the price of one generated image of a size and quality.
// Empty Size or Quality matches any.
type ImagePrice struct {
	Size    string          `json:"size,omitempty"`
	Quality string          `json:"quality,omitempty"`
	Price   decimal.Decimal `json:"price"`
}

// Period is a model's prices from EffectiveFrom (a UTC date, YYYY-MM-DD;
// empty means since always) until the next period's start.
type Period struct {
	EffectiveFrom string                 `json:"effective_from,omitempty"`
	Rates         Rates                  `json:"rates"`
	Tiers         []Tier                 `json:"tiers,omitempty"`
	TimeWindows   []TimeWindow           `json:"time_windows,omitempty"`
	ServiceTiers  map[string]ServiceTier `json:"service_tiers,omitempty"`
	Images        []ImagePrice           `json:"images,omitempty"`
}

// Model is one priced model of a provider. A request's model name matches
// it when it equals ID or an alias, matches one of Patterns (Go regexp,
// anchored by the author), or starts with one of Prefixes; all comparisons
// are case-insensitive.
type Model struct {
	ID       string   `json:"id"`
	Kind     string   `json:"kind,omitempty"` // chat, embedding, image, audio, moderation, other
	Aliases  []string `json:"aliases,omitempty"`
	Prefixes []string `json:"prefixes,omitempty"`
	Patterns []string `json:"patterns,omitempty"`
	// Source names where the prices come from: genai-prices, litellm, manual,
	// or a combination joined by "+"; Provenance says exactly which entries.
	Source     string   `json:"source"`
	Provenance string   `json:"provenance,omitempty"`
	Prices     []Period `json:"prices"`
}

// ProviderFile is one provider's part of the catalog, one JSON file per
// provider under catalog/.
type ProviderFile struct {
	Provider string `json:"provider"`
	// ServiceTiers apply to every model of the provider that does not name
	// the service tier itself (e.g. "batch at 50%").
	ServiceTiers map[string]ServiceTier `json:"service_tiers,omitempty"`
	Models       []Model                `json:"models"`
}
