package pricing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/spendops/spendops/internal/usage"
)

// refDir finds shared/pricing-reference: $SPENDOPS_SHARED_DIR, else
// ../shared beside the repository root. Missing: skip locally, fail in CI.
func refDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("SPENDOPS_SHARED_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared")
	}
	dir = filepath.Join(dir, "pricing-reference")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pricing reference data missing: %v", err)
		}
		t.Skipf("pricing reference data missing: %v", err)
	}
	return dir
}

func readRef(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{refDir(t)}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func genaiData(t testing.TB) []byte {
	return readRef(t, "genai-prices", "prices", "new_data", "v2", "data.json")
}

func litellmData(t testing.TB) []byte {
	return readRef(t, "litellm", "model_prices_and_context_window.json")
}

// The committed catalog must be exactly what the generator makes from the
// references and manual.json, so nobody edits generated files by hand.
func TestCatalogMatchesGenerator(t *testing.T) {
	manual, err := os.ReadFile(filepath.Join("gen", "manual.json"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := BuildCatalog(genaiData(t), litellmData(t), manual)
	if err != nil {
		t.Fatal(err)
	}
	for _, pf := range files {
		want, _ := json.MarshalIndent(pf, "", "  ")
		got, err := embedded.ReadFile("catalog/" + pf.Provider + ".json")
		if err != nil {
			t.Fatalf("catalog/%s.json missing: run go run ./internal/pricing/gen", pf.Provider)
		}
		if !bytes.Equal(bytes.TrimSpace(got), want) {
			t.Errorf("catalog/%s.json is stale: run go run ./internal/pricing/gen", pf.Provider)
		}
	}
	c := mustLoad(t)
	if n := len(c.Models()); n < 300 || n > 1500 {
		t.Errorf("catalog has %d models; keep it in the hundreds", n)
	}
}

// crossCheckExceptions are the deliberate differences from the preferred
// reference of an entry (genai-prices for genai-derived models, LiteLLM for
// LiteLLM-derived ones), each with its reason.
var crossCheckExceptions = map[string]string{
	"openai/dall-e-3 image.*": "manual: OpenAI's per-image list prices instead of LiteLLM's per-pixel float approximations",
	"openai/dall-e-2 image.*": "manual: OpenAI's per-image list prices instead of LiteLLM's per-pixel float approximations",
}

func exceptionFor(provider, model, field string) (string, bool) {
	for k, why := range crossCheckExceptions {
		pm, f, _ := strings.Cut(k, " ")
		if pm != provider+"/"+model {
			continue
		}
		if f == field || strings.HasSuffix(f, "*") && strings.HasPrefix(field, strings.TrimSuffix(f, "*")) {
			return why, true
		}
	}
	return "", false
}

// Every catalog entry is compared with both references. Where our value
// differs from the entry's preferred reference, the difference must be
// listed above. Where the two references disagree with each other the
// preferred one was taken by policy; those are counted and logged.
func TestCrossCheckReferences(t *testing.T) {
	gf, err := ConvertGenAI(genaiData(t))
	if err != nil {
		t.Fatal(err)
	}
	lf, err := ConvertLiteLLM(litellmData(t))
	if err != nil {
		t.Fatal(err)
	}
	gc, err := NewCatalog(gf, "genai", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	lc, err := NewCatalog(lf, "litellm", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	c := mustLoad(t)
	now := time.Now()
	checked, refDisagree, listed := 0, 0, 0
	var disagreements []string
	for _, pm := range c.Models() {
		ours := flattenPeriod(periodAt(pm.Model, now))
		var g, l map[string]string
		if gm := findExact(findFile(gc, pm.Provider), pm.Model.ID); gm != nil {
			g = flattenPeriod(periodAt(gm, now))
		}
		if lm := findExact(findFile(lc, pm.Provider), pm.Model.ID); lm != nil && strings.EqualFold(lm.ID, pm.Model.ID) {
			l = flattenPeriod(periodAt(lm, now))
		}
		if g == nil && l == nil && !strings.Contains(pm.Model.Source, "manual") {
			t.Errorf("%s/%s: in neither reference and not manual", pm.Provider, pm.Model.ID)
			continue
		}
		pref, prefName := g, "genai-prices"
		if !strings.HasPrefix(pm.Model.Source, "genai-prices") {
			pref, prefName = l, "litellm"
		}
		for f, v := range ours {
			checked++
			want, inPref := pref[f]
			// Fields added from LiteLLM to a genai entry are checked against LiteLLM.
			if !inPref && prefName == "genai-prices" && l != nil {
				want, inPref = l[f]
			}
			if inPref && want == v {
				if g != nil && l != nil && g[f] != "" && l[f] != "" && g[f] != l[f] {
					refDisagree++
					disagreements = append(disagreements, fmt.Sprintf("%s/%s %s genai=%s litellm=%s", pm.Provider, pm.Model.ID, f, g[f], l[f]))
				}
				continue
			}
			if why, ok := exceptionFor(pm.Provider, pm.Model.ID, f); ok {
				listed++
				t.Logf("deliberate: %s/%s %s = %s (%s has %q): %s", pm.Provider, pm.Model.ID, f, v, prefName, want, why)
				continue
			}
			t.Errorf("%s/%s %s = %s, %s has %q, and the difference is not listed", pm.Provider, pm.Model.ID, f, v, prefName, want)
		}
	}
	sort.Strings(disagreements)
	t.Logf("checked %d price fields; %d deliberate differences; %d fields where genai-prices and LiteLLM disagree (genai-prices taken)", checked, listed, refDisagree)
	for i, d := range disagreements {
		if i == 15 {
			t.Logf("... %d more", len(disagreements)-15)
			break
		}
		t.Logf("references disagree: %s", d)
	}
}

func findFile(c *Catalog, provider string) *ProviderFile {
	if ix := c.providers[provider]; ix != nil {
		return ix.file
	}
	return &ProviderFile{}
}

// usagesDataset is genai-prices' tests/dataset/usages.json: real usage
// blocks, the usage genai-prices extracted and the prices it computed.
type usagesItem struct {
	Model string `json:"model"`
	Body  struct {
		Model string `json:"model"`
	} `json:"body"`
	Extracted []struct {
		Usage      map[string]int64 `json:"usage"`
		Extractors []struct {
			Provider    string           `json:"provider_id"`
			Flavor      string           `json:"api_flavor"`
			InputPrice  *decimal.Decimal `json:"input_price"`
			OutputPrice *decimal.Decimal `json:"output_price"`
			TotalPrice  *decimal.Decimal `json:"total_price"`
		} `json:"extractors"`
	} `json:"extracted"`
}

// genai usage keys SpendOps has no bucket for; their tokens stay in the
// parent bucket at its rate.
var unmodelledUnits = []string{"input_video_tokens", "cache_audio_read_tokens", "cache_image_read_tokens", "cache_video_read_tokens", "cache_text_read_tokens"}

func tokensFromGenAI(u map[string]int64) (usage.Tokens, int64) {
	t := usage.Tokens{
		Prompt: u["input_tokens"], Completion: u["output_tokens"], CacheRead: u["cache_read_tokens"],
		CacheWrite: u["cache_write_tokens"], CacheWrite5m: u["cache_write_5m_tokens"], CacheWrite1h: u["cache_write_1h_tokens"],
		Reasoning: u["output_reasoning_tokens"], PromptAudio: u["input_audio_tokens"], PromptImage: u["input_image_tokens"],
		CompletionAudio: u["output_audio_tokens"], CompletionImage: u["output_image_tokens"],
	}
	t.Total = t.Prompt + t.Completion
	return t, u["web_searches"]
}

// Our cost for genai-prices' own extracted usage equals genai-prices'
// computed price, or the difference has a listed reason.
func TestUsagesDatasetAgreement(t *testing.T) {
	var items []usagesItem
	if err := json.Unmarshal(readRef(t, "genai-prices", "tests", "dataset", "usages.json"), &items); err != nil {
		t.Fatal(err)
	}
	en := newTestEngine(t, nil)
	// The dataset's prices were computed at its commit date (2026-08-21);
	// noon UTC is DeepSeek's standard (non-discount) window, the window
	// genai-prices' base price does not apply in.
	at := time.Date(2026, 8, 21, 12, 0, 0, 0, time.UTC)
	total, agree := 0, 0
	reasons := map[string]int{}
	var unexplained []string
	for _, it := range items {
		model := it.Model
		if model == "" {
			model = it.Body.Model
		}
		for _, ex := range it.Extracted {
			for _, x := range ex.Extractors {
				our, ok := GenAIProviders[x.Provider]
				if !ok || x.InputPrice == nil {
					continue
				}
				want := x.InputPrice.Add(*x.OutputPrice)
				if x.TotalPrice != nil {
					want = *x.TotalPrice
				}
				tk, searches := tokensFromGenAI(ex.Usage)
				e := usage.Event{Provider: our, Model: model, TS: at, Tokens: tk, WebSearchRequests: searches, EndpointClass: usage.EndpointChat}
				q := en.Quote(&e)
				total++
				if q.Total != nil && q.Total.Equal(want) {
					agree++
					continue
				}
				reason := classify(q, ex.Usage, en, our, model)
				if reason == "" {
					got := "null"
					if q.Total != nil {
						got = q.Total.String()
					}
					unexplained = append(unexplained, fmt.Sprintf("%s %s %s: ours %s genai %s usage %v", our, x.Flavor, model, got, want, ex.Usage))
					continue
				}
				reasons[reason]++
			}
		}
	}
	pct := func(a, b int) string {
		return decimal.NewFromInt(int64(a)).Div(decimal.NewFromInt(int64(b))).Shift(2).StringFixed(1)
	}
	vertex := 0
	for r, n := range reasons {
		if strings.HasPrefix(r, "Claude on") {
			vertex = n
		}
	}
	t.Logf("usages.json: %d comparisons, %d equal (%s%%); excluding %d Vertex-only Claude rows: %s%%",
		total, agree, pct(agree, total), vertex, pct(agree, total-vertex))
	for r, n := range reasons {
		t.Logf("  %d differ: %s", n, r)
	}
	for _, u := range unexplained {
		t.Errorf("unexplained difference: %s", u)
	}
	if total < 1000 {
		t.Fatalf("only %d comparisons; dataset not read?", total)
	}
}

// classify names the listed reason for a difference, or "".
func classify(q Quote, u map[string]int64, en *Engine, provider, model string) string {
	if provider == "google" && strings.Contains(model, "claude") {
		return "Claude on genai-prices' google (Vertex AI) provider: SpendOps' google is the Gemini API, which serves no Claude models (null cost)"
	}
	for _, k := range unmodelledUnits {
		if u[k] > 0 {
			return "usage has a unit SpendOps does not price apart (" + k + "): priced at its parent's rate"
		}
	}
	for _, l := range q.Breakdown.Lines {
		if l.Unit == "request" {
			return "per-request search fee genai-prices does not list (OpenAI search-preview models; fee from LiteLLM)"
		}
	}
	mp, ok := en.Catalog().Lookup(provider, model, time.Now())
	if !ok {
		return ""
	}
	if strings.Contains(mp.Model.Source, "litellm") && strings.Contains(mp.Model.Provenance, "input_audio") {
		return "audio tokens at the audio rate (from LiteLLM); genai-prices lacks it and bills them as text"
	}
	return ""
}
