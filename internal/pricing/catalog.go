// Package pricing turns usage events into exact USD costs. It holds the
// price catalog (embedded JSON files generated from public pricing data plus
// reviewed manual entries, see docs/pricing.md), resolves model names to
// catalog entries, computes costs with decimal arithmetic, applies tenant
// overrides, and persists imported catalog versions, overrides and re-price
// audits in SQLite.
package pricing

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"time"
)

//go:embed catalog/*.json
var embedded embed.FS

// ErrUnknownFormat is returned by Import for a format it does not read.
var ErrUnknownFormat = errors.New("unknown pricing format")

// Catalog is an immutable, versioned set of provider price files with an
// index for name resolution. It is safe for concurrent use.
type Catalog struct {
	version   string
	source    string
	created   time.Time
	providers map[string]*providerIndex
	files     []ProviderFile
}

type providerIndex struct {
	file     *ProviderFile
	exact    map[string]*Model
	patterns []compiledPattern
	prefixes []prefixRef // longest first
}

type compiledPattern struct {
	re    *regexp.Regexp
	model *Model
}

type prefixRef struct {
	prefix string
	model  *Model
}

// Load returns the catalog embedded in the binary. Its version is
// "builtin-" plus the first 12 hex digits of the SHA-256 of its files.
func Load() (*Catalog, error) {
	names, err := fs.Glob(embedded, "catalog/*.json")
	if err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	sort.Strings(names)
	var files []ProviderFile
	for _, n := range names {
		b, err := embedded.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("load catalog: %w", err)
		}
		var pf ProviderFile
		if err := json.Unmarshal(b, &pf); err != nil {
			return nil, fmt.Errorf("load catalog %s: %w", n, err)
		}
		files = append(files, pf)
	}
	c, err := NewCatalog(files, "builtin", time.Time{})
	if err != nil {
		return nil, err
	}
	c.version = "builtin-" + c.Hash()
	return c, nil
}

// NewCatalog indexes provider files. The version is "" until set by the
// caller (Load and the store name versions); Hash identifies the content.
func NewCatalog(files []ProviderFile, source string, created time.Time) (*Catalog, error) {
	c := &Catalog{source: source, created: created, providers: map[string]*providerIndex{}}
	sort.Slice(files, func(i, j int) bool { return files[i].Provider < files[j].Provider })
	c.files = files
	for i := range c.files {
		pf := &c.files[i]
		if pf.Provider == "" {
			return nil, fmt.Errorf("catalog file %d: provider is empty", i)
		}
		if _, dup := c.providers[pf.Provider]; dup {
			return nil, fmt.Errorf("catalog: provider %q appears twice", pf.Provider)
		}
		ix := &providerIndex{file: pf, exact: map[string]*Model{}}
		for j := range pf.Models {
			m := &pf.Models[j]
			if err := validateModel(m); err != nil {
				return nil, fmt.Errorf("catalog %s/%s: %w", pf.Provider, m.ID, err)
			}
			for _, name := range append([]string{m.ID}, m.Aliases...) {
				k := strings.ToLower(name)
				if _, taken := ix.exact[k]; !taken {
					ix.exact[k] = m
				}
			}
			for _, p := range m.Patterns {
				re, err := regexp.Compile("(?i)" + p)
				if err != nil {
					return nil, fmt.Errorf("catalog %s/%s: pattern %q: %w", pf.Provider, m.ID, p, err)
				}
				ix.patterns = append(ix.patterns, compiledPattern{re, m})
			}
			for _, p := range m.Prefixes {
				ix.prefixes = append(ix.prefixes, prefixRef{strings.ToLower(p), m})
			}
		}
		sort.SliceStable(ix.prefixes, func(a, b int) bool { return len(ix.prefixes[a].prefix) > len(ix.prefixes[b].prefix) })
		c.providers[pf.Provider] = ix
	}
	return c, nil
}

func validateModel(m *Model) error {
	if m.ID == "" {
		return errors.New("model id is empty")
	}
	if len(m.Prices) == 0 {
		return errors.New("no prices")
	}
	prev := ""
	for i, p := range m.Prices {
		if p.EffectiveFrom != "" {
			if _, err := time.Parse(time.DateOnly, p.EffectiveFrom); err != nil {
				return fmt.Errorf("prices[%d].effective_from: %w", i, err)
			}
		} else if i > 0 {
			return fmt.Errorf("prices[%d]: only the first period may omit effective_from", i)
		}
		if i > 0 && p.EffectiveFrom <= prev {
			return fmt.Errorf("prices[%d]: periods must be in increasing effective_from order", i)
		}
		prev = p.EffectiveFrom
		for j := 1; j < len(p.Tiers); j++ {
			if p.Tiers[j].AboveInputTokens <= p.Tiers[j-1].AboveInputTokens {
				return fmt.Errorf("prices[%d].tiers: thresholds must increase", i)
			}
		}
		for _, w := range p.TimeWindows {
			if _, ok := clockSeconds(w.Start); !ok {
				return fmt.Errorf("prices[%d].time_windows: bad start %q", i, w.Start)
			}
			if _, ok := clockSeconds(w.End); !ok {
				return fmt.Errorf("prices[%d].time_windows: bad end %q", i, w.End)
			}
		}
	}
	return nil
}

// Version names the catalog version recorded on every priced event.
func (c *Catalog) Version() string { return c.version }

// Source says where the catalog came from (builtin, import:litellm, ...).
func (c *Catalog) Source() string { return c.source }

// Created is when the catalog version was made (zero for the builtin one).
func (c *Catalog) Created() time.Time { return c.created }

// Files returns the provider files. Callers must not modify them.
func (c *Catalog) Files() []ProviderFile { return c.files }

// Hash is the first 12 hex digits of the SHA-256 of the catalog's canonical
// JSON, so equal contents give equal hashes whatever their origin.
func (c *Catalog) Hash() string {
	b, _ := json.Marshal(c.files)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:12]
}

// withVersion returns a shallow copy carrying another version name.
func (c *Catalog) withVersion(v string) *Catalog {
	cp := *c
	cp.version = v
	return &cp
}

// ModelPrice is a resolved catalog entry: the model, the price period in
// force at the lookup time, and the provider-wide service tiers.
type ModelPrice struct {
	Provider string
	Model    *Model
	Period   *Period
	// ProviderServiceTiers are the provider defaults, used for service
	// tiers the period does not name.
	ProviderServiceTiers map[string]ServiceTier
}

// Lookup resolves a model name for a provider at a time. Resolution, first
// hit wins (case-insensitive):
//
//  1. the name as given, then without a "models/" prefix (Gemini), then
//     without a provider prefix naming this provider ("openai/gpt-4o",
//     "gemini/…", "fireworks_ai/…");
//  2. for each candidate: exact id or alias, then a pattern, then the
//     longest prefix;
//  3. the candidates with a date or version suffix removed
//     (-2024-08-06, -20250514, @20240620, -latest, -001, Mistral's -2506);
//  4. for OpenRouter-style "vendor/model" names, the vendor's own provider
//     (openrouter "anthropic/claude-sonnet-4" → anthropic "claude-sonnet-4"),
//     because OpenRouter bills its upstream's list price.
func (c *Catalog) Lookup(provider, model string, at time.Time) (*ModelPrice, bool) {
	m, prov := c.resolve(provider, model)
	if m == nil {
		return nil, false
	}
	return &ModelPrice{Provider: prov, Model: m, Period: periodAt(m, at), ProviderServiceTiers: c.providers[prov].file.ServiceTiers}, true
}

var (
	dateSuffix  = regexp.MustCompile(`(?i)(-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-latest|-\d{3,4}|-v\d+(:\d+)?)$`)
	vendorToOur = map[string]string{
		"anthropic": "anthropic", "openai": "openai", "google": "google", "x-ai": "xai", "xai": "xai",
		"mistralai": "mistral", "mistral": "mistral", "deepseek": "deepseek", "perplexity": "perplexity",
		"z-ai": "zai", "zai": "zai", "cerebras": "cerebras", "groq": "groq",
	}
	modelFamilies = []struct{ prefix, provider string }{
		{"claude", "anthropic"}, {"gpt-", "openai"}, {"o1", "openai"}, {"o3", "openai"}, {"o4", "openai"},
		{"gemini", "google"}, {"grok", "xai"}, {"mistral", "mistral"}, {"deepseek", "deepseek"}, {"glm", "zai"},
	}
	providerPrefixes = map[string][]string{
		"openai": {"openai/"}, "anthropic": {"anthropic/"}, "google": {"gemini/", "google/", "models/"},
		"xai": {"xai/", "x-ai/"}, "groq": {"groq/"}, "deepinfra": {"deepinfra/"}, "novita": {"novita/"},
		"fireworks": {"fireworks_ai/", "fireworks/", "accounts/fireworks/models/"}, "perplexity": {"perplexity/"}, "cerebras": {"cerebras/"},
		"mistral": {"mistral/"}, "deepseek": {"deepseek/"}, "nebius": {"nebius/"}, "zai": {"zai/", "z-ai/"},
		"openrouter": {"openrouter/"},
	}
)

func (c *Catalog) resolve(provider, model string) (*Model, string) {
	return c.resolveMode(provider, model, false)
}

// resolveMode with strict set skips the fallbacks (suffix removal, other
// providers): the generator uses it to decide whether a reference entry is
// already covered by a genai-prices match rule.
func (c *Catalog) resolveMode(provider, model string, strict bool) (*Model, string) {
	name := strings.ToLower(strings.TrimSpace(model))
	if name == "" {
		return nil, ""
	}
	ix := c.providers[provider]
	if ix != nil {
		cands := []string{name}
		if s, ok := strings.CutPrefix(name, "models/"); ok {
			cands = append(cands, s)
		}
		for _, p := range providerPrefixes[provider] {
			for _, cnd := range cands {
				if s, ok := strings.CutPrefix(cnd, p); ok && s != "" {
					cands = append(cands, s)
				}
			}
		}
		for _, cnd := range cands {
			if m := ix.match(cnd); m != nil {
				return m, provider
			}
		}
		if strict {
			return nil, ""
		}
		for _, cnd := range cands {
			if s := dateSuffix.ReplaceAllString(cnd, ""); s != cnd && s != "" {
				if m := ix.match(s); m != nil {
					return m, provider
				}
			}
		}
	}
	if strict {
		return nil, ""
	}
	if provider == "openrouter" && !strings.Contains(name, "/") {
		// OpenRouter sometimes answers with the upstream's bare model name.
		for _, f := range modelFamilies {
			if strings.HasPrefix(name, f.prefix) {
				return c.resolve(f.provider, name)
			}
		}
	}
	if vendor, rest, ok := strings.Cut(name, "/"); ok && (provider == "openrouter" || ix == nil) {
		if our, known := vendorToOur[vendor]; known && our != provider {
			rest, _, _ = strings.Cut(rest, ":") // ":beta", ":thinking" variants bill as the base model
			return c.resolve(our, rest)
		}
	}
	return nil, ""
}

func (ix *providerIndex) match(name string) *Model {
	if m := ix.exact[name]; m != nil {
		return m
	}
	for _, p := range ix.patterns {
		if p.re.MatchString(name) {
			return p.model
		}
	}
	for _, p := range ix.prefixes {
		if strings.HasPrefix(name, p.prefix) {
			return p.model
		}
	}
	return nil
}

// periodAt returns the period in force at t: the last one whose
// EffectiveFrom (UTC midnight) is not after t. Before the first dated
// period, the first period applies.
func periodAt(m *Model, t time.Time) *Period {
	day := t.UTC().Format(time.DateOnly)
	p := &m.Prices[0]
	for i := range m.Prices {
		if m.Prices[i].EffectiveFrom == "" || m.Prices[i].EffectiveFrom <= day {
			p = &m.Prices[i]
		}
	}
	return p
}

func clockSeconds(s string) (int, bool) {
	s = strings.TrimSuffix(s, "Z")
	for _, layout := range []string{"15:04:05", "15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Hour()*3600 + t.Minute()*60 + t.Second(), true
		}
	}
	return 0, false
}

// Models lists every (provider, model) of the catalog in file order.
func (c *Catalog) Models() []ProviderModel {
	var out []ProviderModel
	for i := range c.files {
		for j := range c.files[i].Models {
			out = append(out, ProviderModel{Provider: c.files[i].Provider, Model: &c.files[i].Models[j]})
		}
	}
	return out
}

// ProviderModel pairs a model with its provider.
type ProviderModel struct {
	Provider string
	Model    *Model
}
