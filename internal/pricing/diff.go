package pricing

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Change is one difference between two catalog versions' current prices.
type Change struct {
	Provider string `json:"provider"`
	Model    string `json:"model"`
	// Kind is "added" or "removed" (a whole model), or "changed" (a price
	// field; Field names it, Old/New hold the values, "" when absent).
	Kind  string `json:"kind"`
	Field string `json:"field,omitempty"`
	Old   string `json:"old,omitempty"`
	New   string `json:"new,omitempty"`
}

// Diff lists the differences between two catalogs' prices in force at a
// time, sorted by provider, model and field.
type Diff struct {
	From    string   `json:"from"`
	To      string   `json:"to"`
	Changes []Change `json:"changes"`
}

// Counts returns the number of added models, removed models and changed
// price fields.
func (d Diff) Counts() (added, removed, changed int) {
	for _, c := range d.Changes {
		switch c.Kind {
		case "added":
			added++
		case "removed":
			removed++
		default:
			changed++
		}
	}
	return
}

// Print writes the diff for people, one line per change.
func (d Diff) Print(w io.Writer) {
	a, r, c := d.Counts()
	fmt.Fprintf(w, "pricing diff %s → %s: %d models added, %d removed, %d prices changed\n", d.From, d.To, a, r, c)
	for _, ch := range d.Changes {
		switch ch.Kind {
		case "added", "removed":
			fmt.Fprintf(w, "%-8s %s/%s\n", ch.Kind, ch.Provider, ch.Model)
		default:
			fmt.Fprintf(w, "changed  %s/%s %s: %s → %s\n", ch.Provider, ch.Model, ch.Field, orDash(ch.Old), orDash(ch.New))
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// DiffCatalogs compares the prices two catalogs have in force at a time:
// models added or removed, and every flattened price field (rates, tiers,
// service tiers, images, time windows) that changed.
func DiffCatalogs(from, to *Catalog, at time.Time) Diff {
	d := Diff{From: from.Version(), To: to.Version()}
	fm, tm := flatModels(from, at), flatModels(to, at)
	for k, fv := range fm {
		tv, ok := tm[k]
		if !ok {
			d.Changes = append(d.Changes, Change{Provider: k[0], Model: k[1], Kind: "removed"})
			continue
		}
		for f, ov := range fv {
			if nv := tv[f]; nv != ov {
				d.Changes = append(d.Changes, Change{Provider: k[0], Model: k[1], Kind: "changed", Field: f, Old: ov, New: nv})
			}
		}
		for f, nv := range tv {
			if _, ok := fv[f]; !ok {
				d.Changes = append(d.Changes, Change{Provider: k[0], Model: k[1], Kind: "changed", Field: f, New: nv})
			}
		}
	}
	for k := range tm {
		if _, ok := fm[k]; !ok {
			d.Changes = append(d.Changes, Change{Provider: k[0], Model: k[1], Kind: "added"})
		}
	}
	sort.Slice(d.Changes, func(i, j int) bool {
		a, b := d.Changes[i], d.Changes[j]
		if a.Provider != b.Provider {
			return a.Provider < b.Provider
		}
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		return a.Field < b.Field
	})
	return d
}

func flatModels(c *Catalog, at time.Time) map[[2]string]map[string]string {
	out := map[[2]string]map[string]string{}
	for _, pm := range c.Models() {
		out[[2]string{pm.Provider, pm.Model.ID}] = flattenPeriod(periodAt(pm.Model, at))
	}
	return out
}

// flattenPeriod turns a period into field → value, e.g. "input",
// "tier>200000.output", "service.batch.multiplier", "image.1024x1024.hd".
func flattenPeriod(p *Period) map[string]string {
	out := map[string]string{}
	addRates := func(prefix string, r Rates) {
		for _, f := range r.fields() {
			if *f.v != nil {
				out[prefix+f.name] = (*f.v).String()
			}
		}
	}
	addRates("", p.Rates)
	for _, t := range p.Tiers {
		addRates(fmt.Sprintf("tier>%d.", t.AboveInputTokens), t.Rates)
	}
	for _, w := range p.TimeWindows {
		addRates("window "+w.Start+"-"+w.End+".", w.Rates)
	}
	for name, st := range p.ServiceTiers {
		if st.Multiplier != nil {
			out["service."+name+".multiplier"] = st.Multiplier.String()
		}
		addRates("service."+name+".", st.Rates)
		for _, t := range st.Tiers {
			addRates(fmt.Sprintf("service.%s.tier>%d.", name, t.AboveInputTokens), t.Rates)
		}
	}
	for _, im := range p.Images {
		out["image."+strings.Trim(im.Size+"."+im.Quality, ".")] = im.Price.String()
	}
	return out
}
