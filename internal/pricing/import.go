package pricing

import (
	"fmt"
	"time"
)

// Import merges a pricing dataset ("litellm": LiteLLM's
// model_prices_and_context_window.json; "genai-prices": genai-prices v2
// data.json) into a new catalog based on base, effective at now:
//
//   - a model new to base is added with the imported prices;
//   - a model whose imported prices differ from base's current ones gets a
//     new period effective from today (UTC), so history is kept; fields the
//     dataset does not know (e.g. manual per-image prices) carry over;
//   - models the dataset lacks are kept (datasets are partial).
//
// The returned Diff compares base with the result at now.
func Import(format string, data []byte, base *Catalog) (*Catalog, Diff, error) {
	return importAt(format, data, base, time.Now().UTC())
}

func importAt(format string, data []byte, base *Catalog, now time.Time) (*Catalog, Diff, error) {
	var files []ProviderFile
	var err error
	switch format {
	case "litellm":
		files, err = ConvertLiteLLM(data)
	case "genai-prices":
		files, err = ConvertGenAI(data)
		for i := range files {
			files[i].Models = keepModels(files[i].Provider, files[i].Models)
		}
	default:
		return nil, Diff{}, fmt.Errorf("import %q: %w", format, ErrUnknownFormat)
	}
	if err != nil {
		return nil, Diff{}, fmt.Errorf("import %s: %w", format, err)
	}
	today := now.Format(time.DateOnly)
	merged := map[string]*ProviderFile{}
	for _, pf := range base.Files() {
		cp := pf
		cp.Models = make([]Model, len(pf.Models))
		for i, m := range pf.Models {
			cp.Models[i] = m
			cp.Models[i].Prices = append([]Period(nil), m.Prices...)
		}
		merged[pf.Provider] = &cp
	}
	for _, in := range files {
		pf := merged[in.Provider]
		if pf == nil {
			pf = &ProviderFile{Provider: in.Provider}
			merged[in.Provider] = pf
		}
		for _, im := range in.Models {
			cur := findExact(pf, im.ID)
			if cur == nil || !equalFold(cur.ID, im.ID) {
				if cur != nil {
					continue // an alias of a model we have: the model's own entry decides
				}
				im.Source = format
				pf.Models = append(pf.Models, im)
				continue
			}
			last := cur.Prices[len(cur.Prices)-1]
			next := mergePeriod(last, im.Prices[len(im.Prices)-1])
			if samePeriod(last, next) {
				continue
			}
			next.EffectiveFrom = today
			if last.EffectiveFrom >= today {
				cur.Prices[len(cur.Prices)-1] = next
			} else {
				cur.Prices = append(cur.Prices, next)
			}
			cur.Provenance += fmt.Sprintf("; import %s %s", format, today)
		}
	}
	c, err := NewCatalog(flatten(merged), "import:"+format, now)
	if err != nil {
		return nil, Diff{}, fmt.Errorf("import %s: %w", format, err)
	}
	c.version = "import-" + c.Hash()
	return c, DiffCatalogs(base, c, now), nil
}

func equalFold(a, b string) bool { return len(a) == len(b) && (a == b || lower(a) == lower(b)) }

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// mergePeriod lays an imported period over the current one: imported rates
// win field by field; tiers, service tiers, windows and images are replaced
// when the import has them.
func mergePeriod(cur, in Period) Period {
	out := cur
	out.Rates = cur.Rates.overlay(in.Rates)
	if len(in.Tiers) > 0 {
		out.Tiers = in.Tiers
	}
	if len(in.TimeWindows) > 0 {
		out.TimeWindows = in.TimeWindows
	}
	if len(in.ServiceTiers) > 0 {
		st := map[string]ServiceTier{}
		for k, v := range cur.ServiceTiers {
			st[k] = v
		}
		for k, v := range in.ServiceTiers {
			st[k] = v
		}
		out.ServiceTiers = st
	}
	if len(in.Images) > 0 {
		out.Images = in.Images
	}
	return out
}

func samePeriod(a, b Period) bool {
	fa, fb := flattenPeriod(&a), flattenPeriod(&b)
	if len(fa) != len(fb) {
		return false
	}
	for k, v := range fa {
		if fb[k] != v {
			return false
		}
	}
	return true
}
