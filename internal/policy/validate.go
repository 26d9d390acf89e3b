package policy

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spendops/spendops/internal/keys"
)

// maxPatternLen bounds one model pattern.
const maxPatternLen = 256

// ValidatePolicy checks a key policy before it is stored (admin API, CLI):
// provider names and model patterns well formed, limits neither negative
// nor above the hard caps (64 pairs, 128-character keys, 1024-character
// values), allowed/pinned/default keys in the key grammar, pinned and
// default values in the value grammar and within the limits, and no key
// both pinned and defaulted. All problems are reported, joined.
func ValidatePolicy(p keys.Policy) error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	for i, name := range p.Providers {
		if name != "*" && !validProviderName(name) {
			add("providers[%d]: %q is not \"*\" or a provider name ([a-z0-9-], 1-64)", i, name)
		}
	}
	for i, pat := range p.Models {
		if err := validPattern(pat); err != nil {
			add("models[%d]: %q: %w", i, pat, err)
		}
	}

	d := p.Dims
	limit := func(name string, v, hard int) {
		if v < 0 || v > hard {
			add("dims.%s: %d is outside 0..%d (0 means the default)", name, v, hard)
		}
	}
	limit("max_pairs", d.MaxPairs, hardMaxPairs)
	limit("max_key_len", d.MaxKeyLen, hardMaxKeyLen)
	limit("max_value_len", d.MaxValueLen, hardMaxValueLen)
	l := limitsOf(d)

	key := func(field, k string) {
		switch {
		case !validKeyChars(k):
			add("%s: key %q must be letters, digits, '_', '.' or '-', starting with a letter or digit", field, k)
		case strings.ToLower(k) != k:
			add("%s: key %q must be lower-case", field, k)
		case len(k) > l.maxKeyLen:
			add("%s: key %q is longer than %d characters", field, k, l.maxKeyLen)
		}
	}
	for i, a := range d.Allowed {
		if a != "*" {
			key(fmt.Sprintf("dims.allowed[%d]", i), a)
		}
	}
	preset := func(field string, m map[string]string) {
		for _, k := range sortedKeys(m) {
			key(field, k)
			v := m[k]
			switch {
			case strings.TrimFunc(v, unicode.IsSpace) != v || v == "":
				add("%s[%q]: value must be non-empty with no surrounding spaces", field, k)
			case !utf8.ValidString(v) || !validValueChars(v):
				add("%s[%q]: value has a control or invisible character", field, k)
			case utf8.RuneCountInString(v) > l.maxValueLen:
				add("%s[%q]: value is longer than %d characters", field, k, l.maxValueLen)
			}
		}
	}
	preset("dims.pinned", d.Pinned)
	preset("dims.defaults", d.Defaults)
	for _, k := range sortedKeys(d.Pinned) {
		if _, ok := d.Defaults[k]; ok {
			add("dims: key %q is both pinned and defaulted", k)
		}
	}
	if n := len(d.Pinned) + len(d.Defaults); n > hardMaxPresetPairs {
		add("dims: %d pinned and default dimensions, at most %d", n, hardMaxPresetPairs)
	}
	return errors.Join(errs...)
}

func validProviderName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validPattern checks "*", "provider:exact" and "provider:prefix*".
func validPattern(pat string) error {
	if pat == "*" {
		return nil
	}
	if len(pat) > maxPatternLen {
		return fmt.Errorf("longer than %d bytes", maxPatternLen)
	}
	prov, model, ok := strings.Cut(pat, ":")
	if !ok {
		return errors.New(`want "*", "provider:model" or "provider:prefix*"`)
	}
	if !validProviderName(prov) {
		return fmt.Errorf("provider %q must be a provider name ([a-z0-9-], 1-64)", prov)
	}
	if model == "" {
		return errors.New("empty model (use \"provider:*\" for all of a provider's models)")
	}
	if i := strings.IndexByte(model, '*'); i >= 0 && i != len(model)-1 {
		return errors.New(`"*" is allowed only at the end`)
	}
	if strings.TrimFunc(model, unicode.IsSpace) != model {
		return errors.New("surrounding spaces in the model")
	}
	if !utf8.ValidString(model) || !validValueChars(model) {
		return errors.New("control or invisible character in the model")
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
