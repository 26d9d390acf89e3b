package pricing

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Override is a tenant's own price for the models matching a pattern: its
// own Rates (flat, replacing the catalog's for those models), a MarkupPct
// applied to the resulting cost (10 = +10 %, -15 = 15 % discount), or both.
// Events it applies to get cost_source "custom".
type Override struct {
	ID int64 `json:"id"`
	// TenantID is the tenant it applies to; "*" applies to every tenant.
	TenantID string `json:"tenant_id"`
	// Provider limits it to one provider; empty means any.
	Provider string `json:"provider,omitempty"`
	// Model is an exact model name or a pattern with "*" wildcards
	// ("gpt-4o*", "*"), compared case-insensitively.
	Model     string           `json:"model"`
	Rates     *Rates           `json:"rates,omitempty"`
	MarkupPct *decimal.Decimal `json:"markup_pct,omitempty"`
	Note      string           `json:"note,omitempty"`
	CreatedAt time.Time        `json:"created_at"`

	re *regexp.Regexp
}

// Validate checks an override before it is stored.
func (o *Override) Validate() error {
	if strings.TrimSpace(o.TenantID) == "" {
		return errors.New("tenant_id is required (use \"*\" for all tenants)")
	}
	if strings.TrimSpace(o.Model) == "" {
		return errors.New("model is required (use \"*\" for all models)")
	}
	if (o.Rates == nil || o.Rates.IsZero()) && o.MarkupPct == nil {
		return errors.New("an override needs rates, markup_pct or both")
	}
	if o.MarkupPct != nil && o.MarkupPct.LessThanOrEqual(decimal.NewFromInt(-100)) {
		return errors.New("markup_pct must be above -100")
	}
	if o.Rates != nil {
		for _, f := range o.Rates.fields() {
			if *f.v != nil && (*f.v).IsNegative() {
				return fmt.Errorf("rates.%s is negative", f.name)
			}
		}
	}
	return nil
}

func (o *Override) compile() {
	parts := strings.Split(strings.ToLower(o.Model), "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	o.re = regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

// specificity orders matching overrides: a named tenant beats "*", a named
// provider beats any, an exact model beats a pattern, a longer pattern
// beats a shorter one.
func (o *Override) specificity() int {
	s := len(o.Model)
	if o.TenantID != "*" {
		s += 1 << 20
	}
	if o.Provider != "" {
		s += 1 << 19
	}
	if !strings.Contains(o.Model, "*") {
		s += 1 << 18
	}
	return s
}

// OverrideSet is an immutable, versioned set of overrides. Every change to
// the stored overrides makes a new version.
type OverrideSet struct {
	version int64
	items   []Override
}

// NewOverrideSet indexes overrides for matching.
func NewOverrideSet(version int64, items []Override) *OverrideSet {
	s := &OverrideSet{version: version, items: append([]Override(nil), items...)}
	for i := range s.items {
		s.items[i].compile()
	}
	return s
}

// Version is the override set's version (0 = none ever stored).
func (s *OverrideSet) Version() int64 {
	if s == nil {
		return 0
	}
	return s.version
}

// Items returns the overrides. Callers must not modify them.
func (s *OverrideSet) Items() []Override {
	if s == nil {
		return nil
	}
	return s.items
}

// Match returns the most specific override for a tenant, provider and any
// of the model names, or nil.
func (s *OverrideSet) Match(tenant, provider string, models ...string) *Override {
	if s == nil {
		return nil
	}
	var best *Override
	for i := range s.items {
		o := &s.items[i]
		if o.TenantID != "*" && o.TenantID != tenant {
			continue
		}
		if o.Provider != "" && o.Provider != provider {
			continue
		}
		hit := false
		for _, m := range models {
			if m != "" && o.re.MatchString(strings.ToLower(m)) {
				hit = true
				break
			}
		}
		if hit && (best == nil || o.specificity() > best.specificity()) {
			best = o
		}
	}
	return best
}
