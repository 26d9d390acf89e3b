package pricing

import (
	"sort"
	"time"

	"github.com/shopspring/decimal"
)

// Expense tiers of a model (aso-docs 2.36).
const (
	ExpenseBudget   = "$"
	ExpenseStandard = "$$"
	ExpensePremium  = "$$$"
)

// WarnFactor defines "significantly above the $$$ threshold": a model warns
// when its cost score is at least WarnFactor times the median score of the
// $$$ tier. The $$$ lower bound itself sits low (cheap open models dominate
// the catalog), so the premium tier's own median is the reference; 4× it
// singles out the few flagship "pro" models (o1-pro, gpt-5-pro, old Opus)
// whose use on routine traffic is usually a mistake worth a look.
var WarnFactor = decimal.NewFromInt(4)

// Expense is a model's expense tier.
type Expense struct {
	// Score is max(input, output) USD per 1M tokens, standard tier, base
	// context tier, at the ranking time.
	Score decimal.Decimal `json:"cost_score"`
	Tier  string          `json:"tier"`
	Warn  bool            `json:"warn"`
}

// Ranking holds the tier bounds of a catalog: Lower is the largest score in
// the bottom third, Upper the smallest score in the top third, WarnAt the
// score from which premium models warn.
type Ranking struct {
	Lower, Upper, WarnAt decimal.Decimal
	byModel              map[*Model]Expense
}

// Rank computes expense tiers for the token-priced models of a catalog
// (chat and embedding models with an input or output rate), splitting the
// sorted scores into thirds. Models without token prices get no tier.
func Rank(c *Catalog, at time.Time) *Ranking {
	type sm struct {
		m     *Model
		score decimal.Decimal
	}
	var all []sm
	for _, pm := range c.Models() {
		r := periodAt(pm.Model, at).Rates
		var s *decimal.Decimal
		for _, v := range []*decimal.Decimal{r.Input, r.Output} {
			if v != nil && (s == nil || v.GreaterThan(*s)) {
				s = v
			}
		}
		if s != nil && s.IsPositive() {
			all = append(all, sm{pm.Model, *s})
		}
	}
	rk := &Ranking{byModel: map[*Model]Expense{}}
	if len(all) == 0 {
		return rk
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].score.LessThan(all[j].score) })
	n := len(all)
	rk.Lower = all[(n-1)/3].score
	rk.Upper = all[min((2*n)/3, n-1)].score
	top := all[min((2*n)/3, n-1):]
	rk.WarnAt = top[len(top)/2].score.Mul(WarnFactor)
	for _, s := range all {
		e := Expense{Score: s.score, Tier: ExpenseStandard}
		switch {
		case s.score.LessThanOrEqual(rk.Lower):
			e.Tier = ExpenseBudget
		case s.score.GreaterThanOrEqual(rk.Upper):
			e.Tier = ExpensePremium
			e.Warn = s.score.GreaterThanOrEqual(rk.WarnAt)
		}
		rk.byModel[s.m] = e
	}
	return rk
}

// Of returns a model's expense tier, if it has one.
func (r *Ranking) Of(m *Model) (Expense, bool) {
	e, ok := r.byModel[m]
	return e, ok
}
