// Package provider knows the upstream AI providers SpendOps fronts: their
// names, base URLs, wire dialects and the few path mappings their documented
// SDK base URLs need.
package provider

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Dialect names the wire format a provider speaks. It selects the usage
// extractor and decides whether streaming usage can be injected.
type Dialect string

// Dialects SpendOps understands.
const (
	DialectOpenAI    Dialect = "openai-compatible"
	DialectAnthropic Dialect = "anthropic"
	DialectGemini    Dialect = "gemini"
)

// Valid reports whether d is a known dialect.
func (d Dialect) Valid() bool {
	switch d {
	case DialectOpenAI, DialectAnthropic, DialectGemini:
		return true
	}
	return false
}

// Provider is one upstream. Values are immutable once built by a Registry.
type Provider struct {
	// Name is the route segment: /v1/{Name}/...
	Name string
	// BaseURL is the upstream base; the rest of the client path is appended
	// to its path verbatim (after StripPrefix).
	BaseURL *url.URL
	// Dialect selects the usage extractor.
	Dialect Dialect
	// InjectStreamUsage adds stream_options.include_usage=true to streaming
	// JSON requests that lack it (decisions.md, "Auto-injected" providers).
	InjectStreamUsage bool
	// StripPrefix is removed from the start of the client path when present,
	// so the documented SDK base URL (…/v1/{name}/v1) reaches providers whose
	// base already ends in an OpenAI-compatible root (DeepInfra, Novita).
	StripPrefix string
}

// UpstreamPath maps the client's path after /v1/{name} to the upstream path.
// rest must already be validated by SafeRest.
func (p *Provider) UpstreamPath(rest string) string {
	if p.StripPrefix != "" {
		if rest == p.StripPrefix {
			rest = ""
		} else if strings.HasPrefix(rest, p.StripPrefix+"/") {
			rest = rest[len(p.StripPrefix):]
		}
	}
	return strings.TrimSuffix(p.BaseURL.Path, "/") + rest
}

// Definition is the configurable description of a provider.
type Definition struct {
	Name              string  `yaml:"name" json:"name"`
	BaseURL           string  `yaml:"base_url" json:"base_url"`
	Dialect           Dialect `yaml:"dialect" json:"dialect"`
	InjectStreamUsage *bool   `yaml:"inject_stream_usage,omitempty" json:"inject_stream_usage,omitempty"`
	StripPrefix       string  `yaml:"strip_prefix,omitempty" json:"strip_prefix,omitempty"`
}

// Builtins returns the 15 providers of the hosted product's newer providers
// table. Streaming-usage injection follows that table: never for Anthropic
// (native usage), OpenRouter (always included), DeepInfra, Mistral and
// Fireworks ("Standard (no injection)").
func Builtins() []Definition {
	yes, no := true, false
	return []Definition{
		{Name: "openai", BaseURL: "https://api.openai.com", Dialect: DialectOpenAI, InjectStreamUsage: &yes},
		{Name: "anthropic", BaseURL: "https://api.anthropic.com", Dialect: DialectAnthropic, InjectStreamUsage: &no},
		{Name: "google", BaseURL: "https://generativelanguage.googleapis.com", Dialect: DialectGemini, InjectStreamUsage: &yes},
		{Name: "openrouter", BaseURL: "https://openrouter.ai/api", Dialect: DialectOpenAI, InjectStreamUsage: &no},
		{Name: "xai", BaseURL: "https://api.x.ai", Dialect: DialectOpenAI, InjectStreamUsage: &yes},
		{Name: "groq", BaseURL: "https://api.groq.com/openai", Dialect: DialectOpenAI, InjectStreamUsage: &yes},
		{Name: "deepinfra", BaseURL: "https://api.deepinfra.com/v1/openai", Dialect: DialectOpenAI, InjectStreamUsage: &no, StripPrefix: "/v1"},
		{Name: "novita", BaseURL: "https://api.novita.ai/v3/openai", Dialect: DialectOpenAI, InjectStreamUsage: &yes, StripPrefix: "/v1"},
		{Name: "fireworks", BaseURL: "https://api.fireworks.ai/inference", Dialect: DialectOpenAI, InjectStreamUsage: &no},
		{Name: "perplexity", BaseURL: "https://api.perplexity.ai", Dialect: DialectOpenAI, InjectStreamUsage: &yes},
		{Name: "cerebras", BaseURL: "https://api.cerebras.ai", Dialect: DialectOpenAI, InjectStreamUsage: &yes},
		{Name: "mistral", BaseURL: "https://api.mistral.ai", Dialect: DialectOpenAI, InjectStreamUsage: &no},
		{Name: "deepseek", BaseURL: "https://api.deepseek.com", Dialect: DialectOpenAI, InjectStreamUsage: &yes},
		{Name: "nebius", BaseURL: "https://api.tokenfactory.nebius.com", Dialect: DialectOpenAI, InjectStreamUsage: &yes},
		{Name: "zai", BaseURL: "https://api.z.ai/api/paas/v4", Dialect: DialectOpenAI, InjectStreamUsage: &yes},
	}
}

// Aliases maps alternative route names to a provider name.
var Aliases = map[string]string{"google-ai-studio": "google"}

// Registry resolves route names to providers. It is read-only after New.
type Registry struct {
	byName map[string]*Provider
}

// New builds a registry from the built-in providers, then applies the
// user-defined definitions (a definition with a built-in's name replaces
// fields it sets), then the base-URL overrides (name → URL).
func New(custom []Definition, overrides map[string]string) (*Registry, error) {
	defs := map[string]Definition{}
	for _, d := range Builtins() {
		defs[d.Name] = d
	}
	for i, d := range custom {
		if !validName(d.Name) {
			return nil, fmt.Errorf("providers[%d].name: %q must be 1-64 of [a-z0-9-]", i, d.Name)
		}
		if _, isAlias := Aliases[d.Name]; isAlias {
			return nil, fmt.Errorf("providers[%d].name: %q is a reserved alias", i, d.Name)
		}
		if base, ok := defs[d.Name]; ok {
			if d.BaseURL == "" {
				d.BaseURL = base.BaseURL
			}
			if d.Dialect == "" {
				d.Dialect = base.Dialect
			}
			if d.InjectStreamUsage == nil {
				d.InjectStreamUsage = base.InjectStreamUsage
			}
			if d.StripPrefix == "" {
				d.StripPrefix = base.StripPrefix
			}
		}
		if d.Dialect == "" {
			d.Dialect = DialectOpenAI
		}
		if !d.Dialect.Valid() {
			return nil, fmt.Errorf("providers[%d].dialect: %q is not one of openai-compatible, anthropic, gemini", i, d.Dialect)
		}
		defs[d.Name] = d
	}
	for name, u := range overrides {
		canon := Canonical(name)
		d, ok := defs[canon]
		if !ok {
			return nil, fmt.Errorf("upstream override %q: unknown provider", name)
		}
		d.BaseURL = u
		defs[canon] = d
	}
	r := &Registry{byName: map[string]*Provider{}}
	for name, d := range defs {
		u, err := parseBase(d.BaseURL)
		if err != nil {
			return nil, fmt.Errorf("provider %s: base_url: %w", name, err)
		}
		inject := d.InjectStreamUsage != nil && *d.InjectStreamUsage
		r.byName[name] = &Provider{Name: name, BaseURL: u, Dialect: d.Dialect, InjectStreamUsage: inject, StripPrefix: d.StripPrefix}
	}
	return r, nil
}

// Lookup returns the provider for a route name or alias.
func (r *Registry) Lookup(name string) (*Provider, bool) {
	p, ok := r.byName[Canonical(name)]
	return p, ok
}

// Names lists the canonical provider names, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.byName))
	for n := range r.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Canonical resolves an alias to its provider name.
func Canonical(name string) string {
	if c, ok := Aliases[name]; ok {
		return c
	}
	return name
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func parseBase(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q: scheme must be http or https", s)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q: want scheme://host[:port][/path] with no user, query or fragment", s)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}
