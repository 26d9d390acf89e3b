package pricing

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// openRouterVendors are the OpenRouter model vendors kept in the embedded
// catalog; OpenRouter reports each request's cost itself, so its table only
// backs the calculated cost shown beside it.
var openRouterVendors = []string{"anthropic/", "openai/", "google/", "x-ai/", "meta-llama/", "mistralai/", "deepseek/", "qwen/", "z-ai/", "moonshotai/", "perplexity/"}

// litellmChatProviders take chat models missing from genai-prices from
// LiteLLM; for the other providers LiteLLM only adds embedding, image and
// audio models (Fireworks and Novita list hundreds of chat models).
var litellmChatProviders = map[string]bool{
	"openai": true, "anthropic": true, "google": true, "xai": true, "mistral": true, "deepseek": true,
	"perplexity": true, "cerebras": true, "groq": true, "zai": true, "deepinfra": true, "nebius": true,
}

// Manual is the reviewed hand-written part of the catalog: provider-wide
// service tiers and model entries that add to or replace generated ones.
// A manual model whose ID exists replaces that model's prices (when it has
// any) and adds its aliases, prefixes and patterns.
type Manual struct {
	Providers []ProviderFile `json:"providers"`
}

// BuildCatalog is the generator: genai-prices first, LiteLLM for what it
// lacks (models, service tiers, per-image, per-second, per-character and
// search fees), then the manual entries. The result is deterministic.
func BuildCatalog(genai, litellm, manual []byte) ([]ProviderFile, error) {
	gp, err := ConvertGenAI(genai)
	if err != nil {
		return nil, err
	}
	files := map[string]*ProviderFile{}
	for i := range gp {
		pf := gp[i]
		pf.Models = keepModels(pf.Provider, pf.Models)
		files[pf.Provider] = &pf
	}
	base, err := NewCatalog(flatten(files), "genai", time.Time{})
	if err != nil {
		return nil, err
	}
	ll, err := ConvertLiteLLM(litellm)
	if err != nil {
		return nil, err
	}
	for _, lf := range ll {
		pf := files[lf.Provider]
		if pf == nil {
			pf = &ProviderFile{Provider: lf.Provider}
			files[lf.Provider] = pf
		}
		for _, lm := range lf.Models {
			if gm := findExact(pf, lm.ID); gm != nil {
				// Only the entry for the model itself enriches it: an alias
				// can be a variant with its own fees (gpt-4o-mini's alias
				// gpt-4o-mini-search-preview carries a per-request fee).
				if strings.EqualFold(gm.ID, lm.ID) {
					enrich(gm, &lm)
				}
				continue
			}
			if m, _ := base.resolveMode(lf.Provider, lm.ID, true); m != nil {
				continue // covered by a genai-prices pattern or prefix
			}
			// Fireworks lists ~290 chat models; only its Llama family (the
			// provider page's example) is taken.
			fwLlama := lf.Provider == "fireworks" && strings.HasPrefix(lm.ID, "llama")
			if lm.Kind == "chat" && !litellmChatProviders[lf.Provider] && !fwLlama {
				continue
			}
			if strings.HasPrefix(lm.ID, "ft:") {
				continue // fine-tune templates, not callable model names
			}
			pf.Models = append(pf.Models, lm)
		}
	}
	var man Manual
	if err := json.Unmarshal(manual, &man); err != nil {
		return nil, fmt.Errorf("manual entries: %w", err)
	}
	for _, mp := range man.Providers {
		pf := files[mp.Provider]
		if pf == nil {
			pf = &ProviderFile{Provider: mp.Provider}
			files[mp.Provider] = pf
		}
		for k, v := range mp.ServiceTiers {
			if pf.ServiceTiers == nil {
				pf.ServiceTiers = map[string]ServiceTier{}
			}
			pf.ServiceTiers[k] = v
		}
		for _, mm := range mp.Models {
			gm := findExact(pf, mm.ID)
			if gm == nil {
				mm.Source = "manual"
				pf.Models = append(pf.Models, mm)
				continue
			}
			if len(mm.Prices) > 0 {
				gm.Prices = mm.Prices
			}
			gm.Aliases = append(gm.Aliases, mm.Aliases...)
			gm.Prefixes = append(gm.Prefixes, mm.Prefixes...)
			gm.Patterns = append(gm.Patterns, mm.Patterns...)
			if mm.Kind != "" {
				gm.Kind = mm.Kind
			}
			gm.Source += "+manual"
			gm.Provenance += "; manual: " + mm.Provenance
		}
	}
	out := flatten(files)
	for i := range out {
		sort.Slice(out[i].Models, func(a, b int) bool { return out[i].Models[a].ID < out[i].Models[b].ID })
	}
	if _, err := NewCatalog(out, "check", time.Time{}); err != nil {
		return nil, err
	}
	return out, nil
}

// keepModels drops genai-prices entries SpendOps does not want: OpenRouter
// models of minor vendors (OpenRouter reports each request's cost itself),
// and the Claude models of genai-prices' google provider (Vertex AI; the
// Gemini API serves none).
func keepModels(provider string, ms []Model) []Model {
	var keep []Model
	for _, m := range ms {
		switch provider {
		case "openrouter":
			for _, v := range openRouterVendors {
				if strings.HasPrefix(m.ID, v) {
					keep = append(keep, m)
					break
				}
			}
		case "google":
			if !strings.Contains(m.ID, "claude") {
				keep = append(keep, m)
			}
		default:
			keep = append(keep, m)
		}
	}
	return keep
}

func flatten(m map[string]*ProviderFile) []ProviderFile {
	var out []ProviderFile
	for _, pf := range m {
		out = append(out, *pf)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Provider < out[j].Provider })
	return out
}

func findExact(pf *ProviderFile, id string) *Model {
	for i := range pf.Models {
		m := &pf.Models[i]
		if strings.EqualFold(m.ID, id) {
			return m
		}
		for _, a := range m.Aliases {
			if strings.EqualFold(a, id) {
				return m
			}
		}
	}
	return nil
}

// enrich adds to a genai-prices model what only LiteLLM has, in the current
// period: service tiers, per-image prices and per-unit fees. Token rates are
// never taken from LiteLLM when genai-prices has the model.
func enrich(gm, lm *Model) {
	cur := &gm.Prices[len(gm.Prices)-1]
	src := lm.Prices[0]
	var added []string
	if len(src.ServiceTiers) > 0 && len(cur.ServiceTiers) == 0 {
		cur.ServiceTiers = src.ServiceTiers
		added = append(added, "service tiers")
	}
	if len(src.Images) > 0 && len(cur.Images) == 0 {
		cur.Images = src.Images
		added = append(added, "per-image prices")
	}
	// Modality and reasoning token rates genai-prices lacks would otherwise
	// bill audio or image tokens at the text rate (gpt-4o-audio-preview's
	// audio input costs 16× its text input).
	for _, f := range []string{"web_search", "request", "audio_second", "input_mchars", "input_audio", "output_audio", "input_image", "output_image", "reasoning"} {
		if v := src.Rates.get(f); v != nil && cur.Rates.get(f) == nil {
			cur.Rates.set(f, *v)
			added = append(added, f)
		}
	}
	if len(added) > 0 {
		if !strings.Contains(gm.Source, "litellm") {
			gm.Source += "+litellm"
		}
		gm.Provenance += "; " + lm.Provenance + ": " + strings.Join(added, ", ")
	}
}
