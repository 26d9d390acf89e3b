package pricing

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spendops/spendops/internal/store"
	"github.com/spendops/spendops/internal/usage"
)

func openTestStore(t *testing.T) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := OpenStore(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStore(t.Context(), db); err != nil { // idempotent
		t.Fatal(err)
	}
	return st, dir
}

// fakeLedger is an in-memory EventStore.
type fakeLedger struct {
	mu     sync.Mutex
	events map[string]usage.Event
}

func newFakeLedger(evs ...usage.Event) *fakeLedger {
	l := &fakeLedger{events: map[string]usage.Event{}}
	for _, e := range evs {
		l.events[e.RequestID] = e
	}
	return l
}

func (l *fakeLedger) sorted(keep func(usage.Event) bool) []usage.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []usage.Event
	for _, e := range l.events {
		if keep(e) {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RequestID < out[j].RequestID })
	return out
}

func (l *fakeLedger) UnpricedEvents(_ context.Context, f EventFilter) ([]usage.Event, error) {
	return l.sorted(func(e usage.Event) bool { return e.CostSource == usage.CostNone }), nil
}

func (l *fakeLedger) EventsInRange(_ context.Context, from, to time.Time, model string) ([]usage.Event, error) {
	return l.sorted(func(e usage.Event) bool {
		return !e.TS.Before(from) && e.TS.Before(to) && (model == "" || e.Model == model || e.ResponseModel == model)
	}), nil
}

func (l *fakeLedger) UpdateCosts(_ context.Context, evs []usage.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range evs {
		old := l.events[e.RequestID]
		old.CalculatedCost, old.TotalCost, old.CostSource = e.CalculatedCost, e.TotalCost, e.CostSource
		old.PricingMatched, old.PricingModel, old.PricingVersion = e.PricingMatched, e.PricingModel, e.PricingVersion
		l.events[e.RequestID] = old
	}
	return nil
}

// An unpriced model gets a null cost and shows in the unpriced summary;
// adding an override prices it via Reprice, with audit rows.
func TestUnpricedThenOverrideReprices(t *testing.T) {
	st, _ := openTestStore(t)
	en := newTestEngine(t, nil)
	evs := []usage.Event{
		{RequestID: "r1", Provider: "openai", Model: "gpt-new-1", TenantID: "acme", TS: aug2026, Tokens: usage.Tokens{Prompt: 1000, Completion: 100}},
		{RequestID: "r2", Provider: "openai", Model: "gpt-new-1", TenantID: "acme", TS: aug2026, Tokens: usage.Tokens{Prompt: 2000}},
		{RequestID: "r3", Provider: "openai", Model: "gpt-4o", TenantID: "acme", TS: aug2026, Tokens: usage.Tokens{Prompt: 1000}},
	}
	for i := range evs {
		en.Price(&evs[i])
	}
	if evs[0].TotalCost != nil || evs[0].CostSource != usage.CostNone || evs[0].PricingMatched {
		t.Fatalf("unpriced event: %+v", evs[0])
	}
	sum := UnpricedSummary(evs)
	if len(sum) != 1 || sum[0].Model != "gpt-new-1" || sum[0].Events != 2 {
		t.Fatalf("summary = %+v", sum)
	}
	ledger := newFakeLedger(evs...)

	o, err := st.AddOverride(t.Context(), Override{TenantID: "acme", Provider: "openai", Model: "gpt-new-*", Rates: &Rates{Input: decp("1"), Output: decp("4")}})
	if err != nil {
		t.Fatal(err)
	}
	set, err := st.Overrides(t.Context())
	if err != nil || set.Version() != 1 || len(set.Items()) != 1 {
		t.Fatalf("overrides %+v %v", set, err)
	}
	en.SetOverrides(set)
	res, err := Reprice(t.Context(), ledger, en, st, RepriceOptions{UnpricedOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	// r1: 1000 × 1 + 100 × 4 = 0.0014; r2: 2000 × 1 = 0.002
	if res.Changed != 2 || res.Examined != 2 || !res.After.Equal(dec("0.0034")) {
		t.Fatalf("result %+v", res)
	}
	got := ledger.events["r1"]
	if got.CostSource != usage.CostCustom || !got.TotalCost.Equal(dec("0.0014")) {
		t.Fatalf("r1 after reprice: %v %s", got.TotalCost, got.CostSource)
	}
	audits, err := st.RepriceAudits(t.Context(), "")
	if err != nil || len(audits) != 2 {
		t.Fatalf("audits %+v %v", audits, err)
	}
	a := audits[0]
	if a.RequestID != "r1" || a.OldCost != nil || !a.NewCost.Equal(dec("0.0014")) || a.OldSource != "none" || a.NewSource != "custom" ||
		a.OldVersion != en.Catalog().Version() || a.NewVersion != en.Catalog().Version()+"+ov1" {
		t.Fatalf("audit %+v", a)
	}
	// Running again changes nothing.
	if res, _ := Reprice(t.Context(), ledger, en, st, RepriceOptions{UnpricedOnly: true}); res.Changed != 0 {
		t.Fatalf("second run changed %d", res.Changed)
	}
	// A range re-price after deleting the override returns them to null.
	if err := st.DeleteOverride(t.Context(), o.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteOverride(t.Context(), o.ID); err == nil {
		t.Fatal("deleting twice succeeded")
	}
	set, _ = st.Overrides(t.Context())
	if set.Version() != 2 || len(set.Items()) != 0 {
		t.Fatalf("after delete %+v", set)
	}
	en.SetOverrides(set)
	res, err = Reprice(t.Context(), ledger, en, st, RepriceOptions{EventFilter: EventFilter{From: aug2026.Add(-time.Hour), To: aug2026.Add(time.Hour), Model: "gpt-new-1"}})
	if err != nil || res.Changed != 2 || ledger.events["r2"].TotalCost != nil {
		t.Fatalf("range reprice %+v %v", res, err)
	}
	if n, _ := st.RepriceAudits(t.Context(), "r2"); len(n) != 2 {
		t.Fatalf("r2 audits %d", len(n))
	}
}

func TestOverrideValidation(t *testing.T) {
	st, _ := openTestStore(t)
	bad := []Override{
		{TenantID: "", Model: "*", MarkupPct: decp("5")},
		{TenantID: "a", Model: "", MarkupPct: decp("5")},
		{TenantID: "a", Model: "*"},
		{TenantID: "a", Model: "*", MarkupPct: decp("-100")},
		{TenantID: "a", Model: "*", Rates: &Rates{Input: decp("-1")}},
	}
	for i, o := range bad {
		if _, err := st.AddOverride(t.Context(), o); err == nil {
			t.Errorf("bad[%d] accepted", i)
		}
	}
}

// Importing the LiteLLM file makes a new stored version whose diff names
// known changes, and the diff between stored versions is reproducible.
func TestImportLiteLLM(t *testing.T) {
	st, _ := openTestStore(t)
	base := mustLoad(t)
	now := time.Date(2026, 8, 21, 0, 0, 0, 0, time.UTC)
	next, diff, err := importAt("litellm", litellmData(t), base, now)
	if err != nil {
		t.Fatal(err)
	}
	added, removed, changed := diff.Counts()
	t.Logf("litellm import: %d added, %d removed, %d changed", added, removed, changed)
	if added == 0 || changed == 0 || removed != 0 {
		t.Fatalf("counts %d/%d/%d", added, removed, changed)
	}
	want := []Change{
		// genai-prices has the discounted DeepSeek base price; LiteLLM the standard one.
		{Provider: "deepseek", Model: "deepseek-chat", Kind: "changed", Field: "input", Old: "0.135", New: "0.28"},
		// Fireworks chat models the embedded catalog leaves out.
		{Provider: "fireworks", Model: "qwen3-coder-480b-a35b-instruct", Kind: "added"},
	}
	for _, w := range want {
		found := false
		for _, c := range diff.Changes {
			if c == w {
				found = true
			}
		}
		if !found {
			t.Errorf("diff lacks %+v", w)
		}
	}
	var out strings.Builder
	diff.Print(&out)
	if !strings.Contains(out.String(), "changed  deepseek/deepseek-chat input: 0.135 → 0.28") {
		t.Errorf("printed diff lacks the deepseek line:\n%.600s", out.String())
	}
	// History kept: before the import date the old price still applies.
	mp, _ := next.Lookup("deepseek", "deepseek-chat", now.AddDate(0, 0, -1))
	if !mp.Period.Rates.Input.Equal(dec("0.135")) {
		t.Errorf("old period lost: %s", mp.Period.Rates.Input)
	}
	mp, _ = next.Lookup("deepseek", "deepseek-chat", now)
	if !mp.Period.Rates.Input.Equal(dec("0.28")) {
		t.Errorf("new period: %s", mp.Period.Rates.Input)
	}
	saved, err := st.SaveCatalog(t.Context(), next)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(saved.Version(), "v1-") {
		t.Fatalf("version %q", saved.Version())
	}
	cur, err := st.Current(t.Context())
	if err != nil || cur.Version() != saved.Version() || cur.Hash() != next.Hash() {
		t.Fatalf("current %v %v", cur.Version(), err)
	}
	again := DiffCatalogs(base, cur, now)
	if len(again.Changes) != len(diff.Changes) {
		t.Fatalf("diff after reload: %d vs %d", len(again.Changes), len(diff.Changes))
	}
	// Importing the same data again changes nothing.
	_, d2, err := importAt("litellm", litellmData(t), cur, now)
	if err != nil || len(d2.Changes) != 0 {
		t.Fatalf("re-import: %d changes, %v", len(d2.Changes), err)
	}
	if _, _, err := Import("csv", nil, base); err == nil {
		t.Fatal("unknown format accepted")
	}
	// A running engine picks up the stored version (and overrides) on reload.
	en := newTestEngine(t, nil)
	if changed, err := st.Reload(t.Context(), en); err != nil || !changed || en.Catalog().Version() != saved.Version() {
		t.Fatalf("reload: %v %v %s", changed, err, en.Catalog().Version())
	}
	if changed, _ := st.Reload(t.Context(), en); changed {
		t.Fatal("second reload changed")
	}
	vs, _ := st.Versions(t.Context())
	if len(vs) != 1 || !vs[0].Active || vs[0].Source != "import:litellm" {
		t.Fatalf("versions %+v", vs)
	}
}

// The builtin catalog is built from genai-prices, so importing the same
// genai-prices data changes no price.
func TestImportGenAIIsNoOp(t *testing.T) {
	_, diff, err := importAt("genai-prices", genaiData(t), mustLoad(t), aug2026)
	if err != nil {
		t.Fatal(err)
	}
	if len(diff.Changes) != 0 {
		var b strings.Builder
		diff.Print(&b)
		t.Fatalf("%d changes:\n%.1500s", len(diff.Changes), b.String())
	}
}

func TestExpenseTiers(t *testing.T) {
	c := mustLoad(t)
	rk := Rank(c, aug2026)
	if !rk.Lower.LessThan(rk.Upper) {
		t.Fatalf("bounds %s %s", rk.Lower, rk.Upper)
	}
	counts := map[string]int{}
	warn := 0
	for _, pm := range c.Models() {
		if e, ok := rk.Of(pm.Model); ok {
			counts[e.Tier]++
			if e.Warn {
				warn++
			}
		}
	}
	total := counts["$"] + counts["$$"] + counts["$$$"]
	for _, k := range []string{"$", "$$", "$$$"} {
		if counts[k] < total/4 || counts[k] > total/2 {
			t.Errorf("tier %s has %d of %d models", k, counts[k], total)
		}
	}
	t.Logf("bounds $<=%s, $$$>=%s, warn>=%s; tiers %v; %d warn", rk.Lower, rk.Upper, rk.WarnAt, counts, warn)
	if warn == 0 || warn > total/10 {
		t.Errorf("%d of %d models warn; warn is for outliers", warn, total)
	}
	tier := func(p, m string) Expense {
		mp, ok := c.Lookup(p, m, aug2026)
		if !ok {
			t.Fatalf("%s/%s missing", p, m)
		}
		e, _ := rk.Of(mp.Model)
		return e
	}
	if e := tier("groq", "llama-3.1-8b-instant"); e.Tier != ExpenseBudget {
		t.Errorf("llama-3.1-8b-instant tier %+v", e)
	}
	if e := tier("openai", "o1-pro"); e.Tier != ExpensePremium || !e.Warn {
		t.Errorf("o1-pro tier %+v", e)
	}
	if e := tier("anthropic", "claude-sonnet-4-5"); e.Tier != ExpensePremium || e.Warn {
		t.Errorf("claude-sonnet-4-5 tier %+v", e)
	}
}
