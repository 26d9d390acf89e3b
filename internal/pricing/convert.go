package pricing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// This file reads the two public pricing datasets (facts only; see
// docs/pricing.md) into catalog provider files. Numbers are decoded as
// json.Number and parsed as decimals, so no value passes through a float.

// GenAIProviders maps genai-prices provider ids to SpendOps provider names.
var GenAIProviders = map[string]string{
	"openai": "openai", "anthropic": "anthropic", "google": "google", "openrouter": "openrouter",
	"x-ai": "xai", "groq": "groq", "novita": "novita", "fireworks": "fireworks", "perplexity": "perplexity",
	"cerebras": "cerebras", "mistral": "mistral", "deepseek": "deepseek", "zai": "zai",
}

// LiteLLMProviders maps LiteLLM litellm_provider values to SpendOps names.
var LiteLLMProviders = map[string]string{
	"openai": "openai", "text-completion-openai": "openai", "anthropic": "anthropic", "gemini": "google",
	"openrouter": "openrouter", "xai": "xai", "groq": "groq", "deepinfra": "deepinfra", "novita": "novita",
	"fireworks_ai": "fireworks", "fireworks_ai-embedding-models": "fireworks", "perplexity": "perplexity",
	"cerebras": "cerebras", "mistral": "mistral", "deepseek": "deepseek", "nebius": "nebius", "zai": "zai",
}

var genaiKeys = map[string]struct {
	field string
	shift int32 // decimal shift from the dataset's unit to ours
}{
	"input_mtok": {"input", 0}, "output_mtok": {"output", 0}, "cache_read_mtok": {"cache_read", 0},
	"cache_write_mtok": {"cache_write", 0}, "cache_write_5m_mtok": {"cache_write", 0},
	"cache_write_1h_mtok": {"cache_write_1h", 0}, "output_reasoning_mtok": {"reasoning", 0},
	"input_audio_mtok": {"input_audio", 0}, "output_audio_mtok": {"output_audio", 0},
	"input_image_mtok": {"input_image", 0}, "output_image_mtok": {"output_image", 0},
	"web_searches_kcount": {"web_search", -3}, "requests_kcount": {"request", -3},
}

func (r *Rates) set(field string, v decimal.Decimal) bool {
	for _, f := range r.fields() {
		if f.name == field {
			*f.v = &v
			return true
		}
	}
	return false
}

func (r *Rates) get(field string) *decimal.Decimal {
	for _, f := range r.fields() {
		if f.name == field {
			return *f.v
		}
	}
	return nil
}

func decodeNumbers(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	return d.Decode(v)
}

func num(v any) (decimal.Decimal, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(n.String())
	return d, err == nil
}

// ConvertGenAI reads genai-prices v2 data.json into provider files for the
// SpendOps providers it covers. Price keys SpendOps has no bucket for (video,
// per-modality cache reads, citations) are left out and named in the
// model's provenance.
func ConvertGenAI(data []byte) ([]ProviderFile, error) {
	var raw []struct {
		ID     string `json:"id"`
		Models []struct {
			ID         string         `json:"id"`
			Match      map[string]any `json:"match"`
			Prices     any            `json:"prices"`
			Deprecated bool           `json:"deprecated"`
		} `json:"models"`
	}
	if err := decodeNumbers(data, &raw); err != nil {
		return nil, fmt.Errorf("genai-prices: %w", err)
	}
	var out []ProviderFile
	for _, p := range raw {
		our, ok := GenAIProviders[p.ID]
		if !ok {
			continue
		}
		pf := ProviderFile{Provider: our}
		for _, rm := range p.Models {
			m := Model{ID: rm.ID, Kind: kindOf(rm.ID), Source: "genai-prices"}
			prov := "genai-prices v2 " + p.ID + "/" + rm.ID
			var ignored []string
			genaiMatch(&m, rm.Match)
			periods, ign, err := genaiPrices(rm.Prices)
			if err != nil {
				return nil, fmt.Errorf("genai-prices %s/%s: %w", p.ID, rm.ID, err)
			}
			ignored = append(ignored, ign...)
			m.Prices = periods
			if len(ignored) > 0 {
				sort.Strings(ignored)
				prov += " (not modelled: " + strings.Join(dedupe(ignored), ", ") + ")"
			}
			m.Provenance = prov
			pf.Models = append(pf.Models, m)
		}
		out = append(out, pf)
	}
	return out, nil
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func genaiMatch(m *Model, clause map[string]any) {
	for k, v := range clause {
		switch k {
		case "or":
			for _, c := range v.([]any) {
				if cm, ok := c.(map[string]any); ok {
					genaiMatch(m, cm)
				}
			}
		case "equals":
			if s := v.(string); !strings.EqualFold(s, m.ID) {
				m.Aliases = append(m.Aliases, s)
			}
		case "starts_with":
			m.Prefixes = append(m.Prefixes, v.(string))
		case "regex":
			if _, err := regexp.Compile(v.(string)); err == nil {
				m.Patterns = append(m.Patterns, v.(string))
			}
		case "contains":
			m.Patterns = append(m.Patterns, regexp.QuoteMeta(v.(string)))
		case "ends_with":
			m.Patterns = append(m.Patterns, regexp.QuoteMeta(v.(string))+"$")
		}
	}
	sort.Strings(m.Aliases)
}

func genaiPrices(v any) ([]Period, []string, error) {
	var items []map[string]any
	switch t := v.(type) {
	case map[string]any:
		items = []map[string]any{{"prices": t}}
	case []any:
		for _, it := range t {
			if mi, ok := it.(map[string]any); ok {
				items = append(items, mi)
			}
		}
	default:
		return nil, nil, fmt.Errorf("prices has unexpected type %T", v)
	}
	var periods []Period
	var ignored []string
	for _, it := range items {
		pm, _ := it["prices"].(map[string]any)
		rates, tiers, ign := genaiRates(pm)
		ignored = append(ignored, ign...)
		c, _ := it["constraint"].(map[string]any)
		if st, ok := c["start_time"].(string); ok {
			if len(periods) == 0 {
				return nil, nil, fmt.Errorf("time window before any period")
			}
			et, _ := c["end_time"].(string)
			last := &periods[len(periods)-1]
			last.TimeWindows = append(last.TimeWindows, TimeWindow{Start: strings.TrimSuffix(st, "Z"), End: strings.TrimSuffix(et, "Z"), Rates: rates})
			continue
		}
		from, _ := c["start_date"].(string)
		periods = append(periods, Period{EffectiveFrom: from, Rates: rates, Tiers: tiers})
	}
	sort.SliceStable(periods, func(i, j int) bool { return periods[i].EffectiveFrom < periods[j].EffectiveFrom })
	return periods, ignored, nil
}

func genaiRates(pm map[string]any) (Rates, []Tier, []string) {
	var r Rates
	tiers := map[int64]*Rates{}
	var ignored []string
	for k, v := range pm {
		spec, ok := genaiKeys[k]
		if !ok {
			ignored = append(ignored, k)
			continue
		}
		if d, ok := num(v); ok {
			r.set(spec.field, d.Shift(spec.shift))
			continue
		}
		tv, _ := v.(map[string]any)
		if d, ok := num(tv["base"]); ok {
			r.set(spec.field, d.Shift(spec.shift))
		}
		tl, _ := tv["tiers"].([]any)
		for _, t := range tl {
			tm, _ := t.(map[string]any)
			start, ok1 := num(tm["start"])
			price, ok2 := num(tm["price"])
			if !ok1 || !ok2 {
				continue
			}
			s := start.IntPart()
			if tiers[s] == nil {
				tiers[s] = &Rates{}
			}
			tiers[s].set(spec.field, price.Shift(spec.shift))
		}
	}
	return r, sortedTiers(tiers), ignored
}

func sortedTiers(m map[int64]*Rates) []Tier {
	var out []Tier
	for s, r := range m {
		out = append(out, Tier{AboveInputTokens: s, Rates: *r})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AboveInputTokens < out[j].AboveInputTokens })
	return out
}

func kindOf(id string) string {
	id = strings.ToLower(id)
	switch {
	case strings.Contains(id, "embed"):
		return "embedding"
	case strings.Contains(id, "moderation"):
		return "moderation"
	case strings.Contains(id, "dall-e") || strings.Contains(id, "imagen") || strings.Contains(id, "gpt-image") || strings.Contains(id, "image-generation"):
		return "image"
	case strings.Contains(id, "whisper") || strings.Contains(id, "tts") || strings.Contains(id, "transcribe"):
		return "audio"
	}
	return "chat"
}

var (
	litellmImageKey  = regexp.MustCompile(`^(?:(standard|hd|low|medium|high)/)?(\d+)-x-(\d+)/(.+)$`)
	litellmTierKey   = regexp.MustCompile(`_above_(\d+)k_tokens$`)
	litellmBaseField = map[string]string{
		"input_cost_per_token": "input", "output_cost_per_token": "output",
		"cache_read_input_token_cost": "cache_read", "input_cost_per_token_cache_hit": "cache_read",
		"cache_creation_input_token_cost": "cache_write", "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
		"output_cost_per_reasoning_token": "reasoning", "input_cost_per_audio_token": "input_audio",
		"output_cost_per_audio_token": "output_audio", "input_cost_per_image_token": "input_image",
		"output_cost_per_image_token": "output_image",
	}
	litellmModes = map[string]string{
		"chat": "chat", "responses": "chat", "completion": "chat", "embedding": "embedding",
		"image_generation": "image", "image_edit": "image", "audio_transcription": "audio",
		"audio_speech": "audio", "moderation": "moderation",
	}
)

// ConvertLiteLLM reads LiteLLM's model_prices_and_context_window.json into
// provider files for the SpendOps providers. Per-token prices become per
// million; "_above_Nk_tokens" keys become long-context tiers; "_batches",
// "_flex" and "_priority" keys become service tiers; "quality/WxH/model"
// keys become per-image prices (per-pixel values, float approximations of
// per-image list prices, are multiplied out and rounded to $0.001).
func ConvertLiteLLM(data []byte) ([]ProviderFile, error) {
	var raw map[string]any
	if err := decodeNumbers(data, &raw); err != nil {
		return nil, fmt.Errorf("litellm: %w", err)
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	byProv := map[string]map[string]*Model{}
	get := func(prov, id string) *Model {
		if byProv[prov] == nil {
			byProv[prov] = map[string]*Model{}
		}
		m := byProv[prov][id]
		if m == nil {
			m = &Model{ID: id, Kind: kindOf(id), Source: "litellm", Prices: []Period{{}}}
			byProv[prov][id] = m
		}
		return m
	}
	for _, key := range keys {
		e, ok := raw[key].(map[string]any)
		if !ok {
			continue
		}
		lp, _ := e["litellm_provider"].(string)
		our, ok := LiteLLMProviders[lp]
		if !ok {
			continue
		}
		mode, _ := e["mode"].(string)
		kind, ok := litellmModes[mode]
		if !ok {
			continue
		}
		id := stripProviderPrefix(our, lp, key)
		if mm := litellmImageKey.FindStringSubmatch(id); mm != nil {
			m := get(our, stripProviderPrefix(our, lp, mm[4]))
			m.Kind = "image"
			price, ok := litellmImagePrice(e, mm[2], mm[3])
			if ok {
				m.Prices[0].Images = append(m.Prices[0].Images, ImagePrice{Size: mm[2] + "x" + mm[3], Quality: mm[1], Price: price})
				m.Provenance = "litellm " + m.ID + " (+ size/quality entries)"
			}
			continue
		}
		m := get(our, id)
		m.Kind = kind
		m.Provenance = "litellm " + key
		litellmFill(m, our, e)
	}
	var out []ProviderFile
	for prov, ms := range byProv {
		pf := ProviderFile{Provider: prov}
		for _, m := range ms {
			if !m.Prices[0].Rates.IsZero() || len(m.Prices[0].Images) > 0 {
				sortImages(m.Prices[0].Images)
				pf.Models = append(pf.Models, *m)
			}
		}
		sort.Slice(pf.Models, func(i, j int) bool { return pf.Models[i].ID < pf.Models[j].ID })
		out = append(out, pf)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Provider < out[j].Provider })
	return out, nil
}

func sortImages(im []ImagePrice) {
	sort.Slice(im, func(i, j int) bool {
		if im[i].Size != im[j].Size {
			return im[i].Size < im[j].Size
		}
		return im[i].Quality < im[j].Quality
	})
}

func stripProviderPrefix(our, lp, key string) string {
	for _, p := range append([]string{lp + "/"}, providerPrefixes[our]...) {
		if s, ok := strings.CutPrefix(key, p); ok && s != "" && p != "models/" {
			key = s
		}
	}
	return key
}

func litellmImagePrice(e map[string]any, w, h string) (decimal.Decimal, bool) {
	for _, k := range []string{"input_cost_per_image", "output_cost_per_image"} {
		if d, ok := num(e[k]); ok && d.IsPositive() {
			return d, true
		}
	}
	if d, ok := num(e["input_cost_per_pixel"]); ok && d.IsPositive() {
		wi, _ := strconv.ParseInt(w, 10, 64)
		hi, _ := strconv.ParseInt(h, 10, 64)
		return d.Mul(decimal.NewFromInt(wi * hi)).RoundBank(3), true
	}
	return decimal.Decimal{}, false
}

func litellmFill(m *Model, our string, e map[string]any) {
	p := &m.Prices[0]
	tiers := map[string]map[int64]*Rates{}
	for k, v := range e {
		d, ok := num(v)
		if !ok {
			continue
		}
		name, st := k, ""
		for _, suf := range []string{"_batches", "_flex", "_priority"} {
			if s, ok := strings.CutSuffix(name, suf); ok {
				name, st = s, strings.TrimPrefix(suf, "_")
				if st == "batches" {
					st = "batch"
				}
			}
		}
		var threshold int64
		if mm := litellmTierKey.FindStringSubmatch(name); mm != nil {
			n, _ := strconv.ParseInt(mm[1], 10, 64)
			threshold = n * 1000
			name = strings.TrimSuffix(name, mm[0])
		}
		field, ok := litellmBaseField[name]
		if !ok || k == "input_cost_per_token_cache_hit" {
			continue
		}
		val := d.Shift(6)
		var target *Rates
		switch {
		case threshold > 0:
			if tiers[st] == nil {
				tiers[st] = map[int64]*Rates{}
			}
			if tiers[st][threshold] == nil {
				tiers[st][threshold] = &Rates{}
			}
			target = tiers[st][threshold]
		case st != "":
			if p.ServiceTiers == nil {
				p.ServiceTiers = map[string]ServiceTier{}
			}
			s := p.ServiceTiers[st]
			s.Rates.set(field, val)
			p.ServiceTiers[st] = s
			continue
		default:
			target = &p.Rates
		}
		target.set(field, val)
	}
	for st, tm := range tiers {
		if st == "" {
			p.Tiers = sortedTiers(tm)
			continue
		}
		s := p.ServiceTiers[st]
		s.Tiers = sortedTiers(tm)
		if p.ServiceTiers == nil {
			p.ServiceTiers = map[string]ServiceTier{}
		}
		p.ServiceTiers[st] = s
	}
	// DeepSeek-style entries name the cache-read price "cache hit".
	if d, ok := num(e["input_cost_per_token_cache_hit"]); ok && p.Rates.CacheRead == nil {
		v := d.Shift(6)
		p.Rates.CacheRead = &v
	}
	// whisper-1 lists the same per-second price as input and output; it is
	// one charge per second of audio, so only one of them is taken.
	if d, ok := num(e["input_cost_per_second"]); ok && d.IsPositive() {
		p.Rates.AudioSecond = &d
	} else if d, ok := num(e["output_cost_per_second"]); ok && d.IsPositive() && m.Kind == "audio" && p.Rates.Input == nil {
		p.Rates.AudioSecond = &d
	}
	if d, ok := num(e["input_cost_per_character"]); ok && d.IsPositive() {
		v := d.Shift(6)
		p.Rates.InputMChars = &v
	}
	if d, ok := num(e["input_cost_per_request"]); ok && d.IsPositive() {
		p.Rates.Request = &d
	}
	for _, k := range []string{"output_cost_per_image", "input_cost_per_image"} {
		if d, ok := num(e[k]); ok && d.IsPositive() && (m.Kind == "image" || k == "output_cost_per_image") {
			p.Images = []ImagePrice{{Price: d}}
			break
		}
	}
	if sc, ok := e["search_context_cost_per_query"].(map[string]any); ok {
		if d, ok := num(sc["search_context_size_medium"]); ok && d.IsPositive() {
			// Perplexity and OpenAI's search-preview chat models charge per
			// request by search context size; the others per search call.
			if our == "perplexity" || (our == "openai" && strings.Contains(m.ID, "search")) {
				p.Rates.Request = &d
			} else {
				p.Rates.WebSearch = &d
			}
		}
	}
}
