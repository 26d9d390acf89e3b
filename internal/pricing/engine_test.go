package pricing

import (
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/spendops/spendops/internal/usage"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }
func decp(s string) *decimal.Decimal {
	d := dec(s)
	return &d
}

func newTestEngine(t testing.TB, ov *OverrideSet) *Engine {
	t.Helper()
	en, err := NewEngine(EngineConfig{Catalog: mustLoad(t), Overrides: ov})
	if err != nil {
		t.Fatal(err)
	}
	return en
}

var (
	aug2026 = time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
)

// Hand-computed costs. Rates are USD per 1M tokens from the catalog; each
// row's comment shows the arithmetic.
func TestGoldenCosts(t *testing.T) {
	en := newTestEngine(t, nil)
	type row struct {
		name   string
		ev     usage.Event
		want   string // "" = null
		source usage.CostSource
	}
	ev := func(provider, model string, tk usage.Tokens) usage.Event {
		tk.Total = tk.Prompt + tk.Completion
		return usage.Event{Provider: provider, Model: model, TS: aug2026, Tokens: tk, EndpointClass: usage.EndpointChat}
	}
	with := func(e usage.Event, f func(*usage.Event)) usage.Event { f(&e); return e }
	rows := []row{
		// 6000 uncached × 2.5 + 4000 cached × 1.25 + 500 out × 10 = 0.015 + 0.005 + 0.005
		{"openai cached input", ev("openai", "gpt-4o", usage.Tokens{Prompt: 10000, CacheRead: 4000, Completion: 500}), "0.025", usage.CostStandard},
		// same, response model is a dated snapshot
		{"openai dated response model", with(ev("openai", "gpt-4o", usage.Tokens{Prompt: 10000, CacheRead: 4000, Completion: 500}), func(e *usage.Event) { e.ResponseModel = "gpt-4o-2024-08-06" }), "0.025", usage.CostStandard},
		// peers #16/#24 (1000x / 100x unit errors): 1M input tokens of gpt-4o-mini cost exactly $0.15
		{"unit check 1M tokens", ev("openai", "gpt-4o-mini", usage.Tokens{Prompt: 1_000_000}), "0.15", usage.CostStandard},
		// 1000 uncached × 3 + 2000 read × 0.3 + 1000 write5m × 3.75 + 2000 write1h × 6 + 400 out × 15
		// = 0.003 + 0.0006 + 0.00375 + 0.012 + 0.006. Peers #4/#22: writes are not billed again as input
		// (that would add 3000 × 3 = 0.009); peer #5: reads are not billed at the input rate.
		{"anthropic cache read and writes at both TTLs", ev("anthropic", "claude-sonnet-4-5-20250929", usage.Tokens{Prompt: 6000, CacheRead: 2000, CacheWrite: 3000, CacheWrite5m: 1000, CacheWrite1h: 2000, Completion: 400}), "0.02535", usage.CostStandard},
		// write of unknown TTL priced as 5m: 1000 × 3.75 = 0.00375
		{"anthropic cache write unknown ttl", ev("anthropic", "claude-sonnet-4-5", usage.Tokens{Prompt: 1000, CacheWrite: 1000}), "0.00375", usage.CostStandard},
		// reasoning at the output rate: 1000 × 2 + 5000 × 8 = 0.002 + 0.04
		{"openai reasoning", ev("openai", "o3", usage.Tokens{Prompt: 1000, Completion: 5000, Reasoning: 4000}), "0.042", usage.CostStandard},
		// price history: before 2025-06-10 o3 was 10/40: 1000 × 10 + 5000 × 40 = 0.01 + 0.2
		{"openai price history", with(ev("openai", "o3", usage.Tokens{Prompt: 1000, Completion: 5000, Reasoning: 4000}), func(e *usage.Event) { e.TS = time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC) }), "0.21", usage.CostStandard},
		// Gemini thoughts are output: 1000 × 0.3 + 3000 × 2.5 = 0.0003 + 0.0075
		{"google thinking", ev("google", "gemini-2.5-flash", usage.Tokens{Prompt: 1000, Completion: 3000, Reasoning: 2000}), "0.0078", usage.CostStandard},
		// 400 text × 2.5 + 600 audio × 40 + 200 text out × 10 + 300 audio out × 80 = 0.001 + 0.024 + 0.002 + 0.024
		{"openai audio tokens", ev("openai", "gpt-4o-audio-preview", usage.Tokens{Prompt: 1000, PromptAudio: 600, Completion: 500, CompletionAudio: 300}), "0.051", usage.CostStandard},
		// Gemini audio input: 500 text × 0.1 + 500 audio × 0.7 = 0.00005 + 0.00035
		{"google audio input", ev("google", "gemini-2.0-flash", usage.Tokens{Prompt: 1000, PromptAudio: 500}), "0.0004", usage.CostStandard},
		// 2 HD 1024x1792 images × 0.12
		{"dall-e-3 hd images", with(ev("openai", "dall-e-3", usage.Tokens{}), func(e *usage.Event) {
			e.EndpointClass, e.ImageCount, e.ImageSize, e.ImageQuality = usage.EndpointImages, 2, "1024x1792", "hd"
		}), "0.24", usage.CostStandard},
		// 3 × 512x512 × 0.018 (dall-e-2 has no quality; "standard" falls back to any)
		{"dall-e-2 images", with(ev("openai", "dall-e-2", usage.Tokens{}), func(e *usage.Event) {
			e.EndpointClass, e.ImageCount, e.ImageSize, e.ImageQuality = usage.EndpointImages, 3, "512x512", "standard"
		}), "0.054", usage.CostStandard},
		// a size the price table lacks: unknown cost, not $0
		{"dall-e-3 unknown size", with(ev("openai", "dall-e-3", usage.Tokens{}), func(e *usage.Event) {
			e.EndpointClass, e.ImageCount, e.ImageSize = usage.EndpointImages, 1, "640x480"
		}), "", usage.CostNone},
		// 1000 × 3 + 100 × 15 + 3 searches × 0.01 = 0.003 + 0.0015 + 0.03
		{"anthropic web search", with(ev("anthropic", "claude-sonnet-4-5", usage.Tokens{Prompt: 1000, Completion: 100}), func(e *usage.Event) { e.WebSearchRequests = 3 }), "0.0345", usage.CostStandard},
		// Perplexity request fee: 1000 × 3 + 1000 × 15 + 0.014
		{"perplexity request fee", ev("perplexity", "sonar-pro", usage.Tokens{Prompt: 1000, Completion: 1000}), "0.032", usage.CostStandard},
		// a provider error is not billed a request fee
		{"perplexity error no fee", with(ev("perplexity", "sonar-pro", usage.Tokens{}), func(e *usage.Event) { e.HTTPStatus = 429 }), "0", usage.CostStandard},
		// at the threshold: base rates: 200000 × 1.25 + 1000 × 10 = 0.25 + 0.01
		{"gemini 2.5 pro at 200k", ev("google", "gemini-2.5-pro", usage.Tokens{Prompt: 200000, Completion: 1000}), "0.26", usage.CostStandard},
		// one over: whole request repriced: 200001 × 2.5 + 1000 × 15 = 0.5000025 + 0.015
		{"gemini 2.5 pro past 200k", ev("google", "gemini-2.5-pro", usage.Tokens{Prompt: 200001, Completion: 1000}), "0.5150025", usage.CostStandard},
		// 172001 × 5 + 100000 cached × 0.5 + 1000 × 22.5 = 0.860005 + 0.05 + 0.0225
		{"gpt-5.4 past 272k", ev("openai", "gpt-5.4", usage.Tokens{Prompt: 272001, CacheRead: 100000, Completion: 1000}), "0.932505", usage.CostStandard},
		// total input counts cache: 150000 uncached + 60000 read > 200k: 150000 × 6 + 60000 × 0.6 = 0.9 + 0.036
		{"claude 200k tier counts cache reads", ev("anthropic", "claude-sonnet-4-5", usage.Tokens{Prompt: 210000, CacheRead: 60000}), "0.936", usage.CostStandard},
		// Opus 4.6 lost its >200k surcharge on 2026-03-13: 250000 × 10 before, × 5 after
		{"claude opus 4.6 tier before 2026-03-13", with(ev("anthropic", "claude-opus-4-6", usage.Tokens{Prompt: 250000}), func(e *usage.Event) { e.TS = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }), "2.5", usage.CostStandard},
		{"claude opus 4.6 no tier after", ev("anthropic", "claude-opus-4-6", usage.Tokens{Prompt: 250000}), "1.25", usage.CostStandard},
		// batch at 50%: (1000 × 3 + 1000 × 15) × 0.5 = 0.009
		{"anthropic batch", with(ev("anthropic", "claude-sonnet-4-5", usage.Tokens{Prompt: 1000, Completion: 1000}), func(e *usage.Event) { e.ServiceTier = "batch" }), "0.009", usage.CostStandard},
		// gpt-4o batch: 600 × 1.25 + 400 cached × (1.25 × 0.5) + 100 × 5 = 0.00075 + 0.00025 + 0.0005
		{"openai batch", with(ev("openai", "gpt-4o", usage.Tokens{Prompt: 1000, CacheRead: 400, Completion: 100}), func(e *usage.Event) { e.ServiceTier = "batch" }), "0.0015", usage.CostStandard},
		// flex: 1000 × 0.625 + 1000 × 5
		{"openai flex", with(ev("openai", "gpt-5", usage.Tokens{Prompt: 1000, Completion: 1000}), func(e *usage.Event) { e.ServiceTier = "flex" }), "0.005625", usage.CostStandard},
		// priority: 1000 × 4.25 + 1000 × 17
		{"openai priority", with(ev("openai", "gpt-4o", usage.Tokens{Prompt: 1000, Completion: 1000}), func(e *usage.Event) { e.ServiceTier = "priority" }), "0.02125", usage.CostStandard},
		// "default" and "scale" are priced as standard: 1000 × 2.5 + 1000 × 10
		{"openai default tier", with(ev("openai", "gpt-4o", usage.Tokens{Prompt: 1000, Completion: 1000}), func(e *usage.Event) { e.ServiceTier = "default" }), "0.0125", usage.CostStandard},
		// DeepSeek peak (00:30–16:30 UTC): 1M × 0.27 + 1M × 1.1
		{"deepseek peak hours", with(ev("deepseek", "deepseek-chat", usage.Tokens{Prompt: 1_000_000, Completion: 1_000_000}), func(e *usage.Event) { e.TS = time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC) }), "1.37", usage.CostStandard},
		// off-peak: 1M × 0.135 + 1M × 0.55
		{"deepseek off-peak", with(ev("deepseek", "deepseek-chat", usage.Tokens{Prompt: 1_000_000, Completion: 1_000_000}), func(e *usage.Event) { e.TS = time.Date(2026, 8, 1, 20, 0, 0, 0, time.UTC) }), "0.685", usage.CostStandard},
		// xAI cached (LiteLLM #14874 double count): 200 × 3 + 800 × 0.75 + 100 × 15
		{"xai cached", ev("xai", "grok-3", usage.Tokens{Prompt: 1000, CacheRead: 800, Completion: 100}), "0.0027", usage.CostStandard},
		// Helicone #4893: Grok 3 mini via OpenRouter must not take the "fast" variant's price and must
		// price cache reads: 200 × 0.3 + 800 × 0.075 + 100 × 0.5 = 0.00006 + 0.00006 + 0.00005
		{"openrouter grok-3-mini cached", ev("openrouter", "x-ai/grok-3-mini", usage.Tokens{Prompt: 1000, CacheRead: 800, Completion: 100}), "0.00017", usage.CostStandard},
		// Helicone #2983: a new dated snapshot is priced as its model, not left unpriced:
		// 1000 × 2.5 + 1000 × 10
		{"new dated snapshot", ev("openai", "gpt-4o-2099-01-01", usage.Tokens{Prompt: 1000, Completion: 1000}), "0.0125", usage.CostStandard},
		// 1000 × 0.59 + 1000 × 0.79
		{"groq", ev("groq", "llama-3.3-70b-versatile", usage.Tokens{Prompt: 1000, Completion: 1000}), "0.00138", usage.CostStandard},
		// 1000 × 0.23 + 1000 × 0.4
		{"deepinfra", ev("deepinfra", "meta-llama/Llama-3.3-70B-Instruct", usage.Tokens{Prompt: 1000, Completion: 1000}), "0.00063", usage.CostStandard},
		// 1000 × 0.39 + 1000 × 0.39
		{"novita", ev("novita", "meta-llama/llama-3.3-70b-instruct", usage.Tokens{Prompt: 1000, Completion: 1000}), "0.00078", usage.CostStandard},
		// 1000 × 0.9 + 1000 × 0.9
		{"fireworks", ev("fireworks", "accounts/fireworks/models/llama-v3p3-70b-instruct", usage.Tokens{Prompt: 1000, Completion: 1000}), "0.0018", usage.CostStandard},
		// 1000 × 0.85 + 1000 × 1.2
		{"cerebras", ev("cerebras", "llama-3.3-70b", usage.Tokens{Prompt: 1000, Completion: 1000}), "0.00205", usage.CostStandard},
		// mistral-large-latest → mistral-large: 1000 × 2 + 1000 × 6
		{"mistral", ev("mistral", "mistral-large-latest", usage.Tokens{Prompt: 1000, Completion: 1000}), "0.008", usage.CostStandard},
		// 1000 × 0.13 + 1000 × 0.4
		{"nebius", ev("nebius", "meta-llama/Llama-3.3-70B-Instruct", usage.Tokens{Prompt: 1000, Completion: 1000}), "0.00053", usage.CostStandard},
		// 1000 × 0.6 + 1000 × 2.2
		{"zai", ev("zai", "glm-4.5", usage.Tokens{Prompt: 1000, Completion: 1000}), "0.0028", usage.CostStandard},
		// alias route name and missing timestamp: 1000 × 0.1 + 1000 × 0.4
		{"google alias, zero ts", with(ev("google-ai-studio", "gemini-2.0-flash", usage.Tokens{Prompt: 1000, Completion: 1000}), func(e *usage.Event) { e.TS = time.Time{} }), "0.0005", usage.CostStandard},
		// 1M × 0.02
		{"embeddings", with(ev("openai", "text-embedding-3-small", usage.Tokens{Prompt: 1_000_000}), func(e *usage.Event) { e.EndpointClass = usage.EndpointEmbeddings }), "0.02", usage.CostStandard},
		// 90.5 s × 0.0001
		{"whisper seconds", with(ev("openai", "whisper-1", usage.Tokens{}), func(e *usage.Event) { e.EndpointClass, e.AudioSeconds = usage.EndpointTranscription, dec("90.5") }), "0.00905", usage.CostStandard},
		// 1234 chars × 15 / 1M
		{"tts characters", with(ev("openai", "tts-1", usage.Tokens{}), func(e *usage.Event) { e.EndpointClass, e.InputCharacters = usage.EndpointSpeech, 1234 }), "0.01851", usage.CostStandard},
		// OpenRouter's reported cost wins; calculated (14 × 3 + 4 × 15 = 0.000102) kept beside it
		{"openrouter provider cost", with(ev("openrouter", "anthropic/claude-4.5-sonnet-20250929", usage.Tokens{Prompt: 14, Completion: 4}), func(e *usage.Event) { e.ProviderCost = decp("0.000102") }), "0.000102", usage.CostProvider},
		// peers #1/#2/#21 (streams logged at $0): a stream prices like any other request
		{"stream priced", with(ev("openai", "gpt-4o", usage.Tokens{Prompt: 1000, Completion: 1000}), func(e *usage.Event) { e.Stream = true }), "0.0125", usage.CostStandard},
		// peers #6/#25 (missing model → $0): unknown → null, none
		{"unknown model is null", ev("openai", "gpt-unknown-9", usage.Tokens{Prompt: 1000, Completion: 1000}), "", usage.CostNone},
		{"custom provider is null", ev("my-vllm", "llama", usage.Tokens{Prompt: 1000}), "", usage.CostNone},
		// not billed endpoints: zero, not_billed
		{"count_tokens not billed", with(ev("anthropic", "claude-sonnet-4-5", usage.Tokens{Prompt: 5000}), func(e *usage.Event) { e.EndpointClass = usage.EndpointCountTokens }), "0", usage.CostNotBilled},
		{"models list not billed", with(ev("openai", "", usage.Tokens{}), func(e *usage.Event) { e.EndpointClass = usage.EndpointModels }), "0", usage.CostNotBilled},
		{"batch poll not billed", with(ev("openai", "", usage.Tokens{}), func(e *usage.Event) { e.EndpointClass = usage.EndpointBatch }), "0", usage.CostNotBilled},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			e := r.ev
			en.Price(&e)
			if e.CostSource != r.source {
				t.Errorf("cost_source = %q, want %q", e.CostSource, r.source)
			}
			if r.want == "" {
				if e.TotalCost != nil {
					t.Errorf("total = %s, want null", e.TotalCost)
				}
				return
			}
			if e.TotalCost == nil {
				t.Fatalf("total = null, want %s (model %v)", r.want, e.PricingModel)
			}
			if !e.TotalCost.Equal(dec(r.want)) {
				t.Errorf("total = %s, want %s", e.TotalCost, r.want)
			}
			if e.PricingVersion == "" || e.PricingVersion != en.Catalog().Version() {
				t.Errorf("pricing_version = %q", e.PricingVersion)
			}
		})
	}
}

func TestProviderCostKeepsCalculated(t *testing.T) {
	en := newTestEngine(t, nil)
	e := usage.Event{Provider: "openrouter", Model: "anthropic/claude-sonnet-4", TS: aug2026,
		Tokens: usage.Tokens{Prompt: 1000, Completion: 1000}, ProviderCost: decp("0.5")}
	en.Price(&e)
	if e.CostSource != usage.CostProvider || !e.TotalCost.Equal(dec("0.5")) {
		t.Fatalf("total %v source %s", e.TotalCost, e.CostSource)
	}
	// 1000 × 3 + 1000 × 15
	if e.CalculatedCost == nil || !e.CalculatedCost.Equal(dec("0.018")) || !e.PricingMatched {
		t.Fatalf("calculated %v matched %v", e.CalculatedCost, e.PricingMatched)
	}
	// no catalog match but a provider cost: cost known, still listed unpriced
	e2 := usage.Event{Provider: "openrouter", Model: "someone/new-model", TS: aug2026, ProviderCost: decp("0.01")}
	en.Price(&e2)
	if e2.CostSource != usage.CostProvider || e2.PricingMatched || e2.CalculatedCost != nil {
		t.Fatalf("got %+v", e2)
	}
	if u := en.Unpriced(); len(u) != 1 || u[0].Model != "someone/new-model" || u[0].CostKnown != 1 {
		t.Fatalf("unpriced = %+v", u)
	}
}

func TestUnpricedTrackerIsBounded(t *testing.T) {
	en := newTestEngine(t, nil)
	for i := 0; i < maxUnpricedTracked+50; i++ {
		e := usage.Event{Provider: "openai", Model: "junk-" + itoa(int64(i)), TS: aug2026}
		en.Price(&e)
	}
	u := en.Unpriced()
	if len(u) != maxUnpricedTracked+1 || u[0].Model != "(other models)" || u[0].Events != 50 {
		t.Fatalf("%d entries, first %+v", len(u), u[0])
	}
}

func TestOverrides(t *testing.T) {
	ov := NewOverrideSet(3, []Override{
		{ID: 1, TenantID: "*", Model: "*", MarkupPct: decp("10")},
		{ID: 2, TenantID: "acme", Provider: "openai", Model: "gpt-4o*", Rates: &Rates{Input: decp("2"), Output: decp("8")}},
		{ID: 3, TenantID: "thirds", Model: "gpt-4o", MarkupPct: decp("33.333333333333")},
		{ID: 4, TenantID: "disc", Model: "anthropic/*", MarkupPct: decp("-20")},
	})
	en := newTestEngine(t, ov)
	base := usage.Event{Provider: "openai", Model: "gpt-4o", TS: aug2026, Tokens: usage.Tokens{Prompt: 10000, CacheRead: 4000, Completion: 500}}
	tests := []struct {
		tenant, provider, model string
		providerCost            *decimal.Decimal
		want                    string
	}{
		// catalog 0.025 × 1.1
		{"other", "openai", "gpt-4o", nil, "0.0275"},
		// custom rates, no cache-read rate so cached tokens take the input rate: 10000 × 2 + 500 × 8
		{"acme", "openai", "gpt-4o", nil, "0.024"},
		// 0.025 × 1.33333333333333 = 0.03333333333333325 → half-even at 12 digits
		{"thirds", "openai", "gpt-4o", nil, "0.033333333333"},
		// discount on a provider-reported cost: 0.5 × 0.8
		{"disc", "openrouter", "anthropic/claude-sonnet-4", decp("0.5"), "0.4"},
	}
	for _, tt := range tests {
		e := base
		e.TenantID, e.Provider, e.Model, e.ProviderCost = tt.tenant, tt.provider, tt.model, tt.providerCost
		en.Price(&e)
		if e.CostSource != usage.CostCustom || e.TotalCost == nil || !e.TotalCost.Equal(dec(tt.want)) {
			t.Errorf("%s: total %v source %s, want %s custom", tt.tenant, e.TotalCost, e.CostSource, tt.want)
		}
		if e.PricingVersion != en.Catalog().Version()+"+ov3" {
			t.Errorf("%s: version %q", tt.tenant, e.PricingVersion)
		}
	}
}

func TestEngineSwapConcurrent(t *testing.T) {
	en := newTestEngine(t, nil)
	old := en.Catalog()
	next, err := NewCatalog(append([]ProviderFile(nil), old.Files()...), "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	next = next.withVersion("v2-test")
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				e := usage.Event{Provider: "openai", Model: "gpt-4o", TS: aug2026, Tokens: usage.Tokens{Prompt: 1000}}
				en.Price(&e)
				if e.PricingVersion != old.Version() && e.PricingVersion != "v2-test" {
					t.Errorf("version %q", e.PricingVersion)
				}
			}
		}()
	}
	en.SetCatalog(next)
	wg.Wait()
	e := usage.Event{Provider: "openai", Model: "gpt-4o", TS: aug2026}
	en.Price(&e)
	if e.PricingVersion != "v2-test" {
		t.Fatalf("after swap: %q", e.PricingVersion)
	}
}
