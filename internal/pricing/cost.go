package pricing

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Scale is the number of fractional digits costs are rounded to (half-even)
// when, and only when, they have more. Token costs of catalog prices never
// need it; markups of odd percentages can.
const Scale = 12

// Line is one priced leaf of an event's usage: a count of units times a
// rate. Cost is Quantity × Rate / Per, rounded to Scale.
type Line struct {
	Unit     string          `json:"unit"`
	Quantity decimal.Decimal `json:"quantity"`
	Rate     decimal.Decimal `json:"rate"`
	Per      int64           `json:"per"`
	Cost     decimal.Decimal `json:"cost"`
}

// Usage is what a price applies to: the billable counts of one event.
type Usage struct {
	Tokens          Tokens
	WebSearches     int64
	Requests        int64
	ImageCount      int64
	ImageSize       string
	ImageQuality    string
	AudioSeconds    decimal.Decimal
	InputCharacters int64
}

// Tokens mirrors usage.Tokens (OpenAI convention: subsets inside Prompt and
// Completion) so the cost math has no dependency on the event type.
type Tokens struct {
	Prompt, Completion                  int64
	CacheRead, CacheWrite, CacheWrite1h int64
	Reasoning, PromptAudio, PromptImage int64
	CompletionAudio, CompletionImage    int64
}

// Breakdown is a computed cost with its leaves.
type Breakdown struct {
	Lines []Line
	Total decimal.Decimal
	// Unpriced names a billable quantity the price has no rate for (e.g. an
	// image size missing from the table); the cost is then unknown.
	Unpriced string
}

// RatesFor resolves the effective rates of a price for a service tier, a
// request's total input tokens and a time: base rates, then the daily time
// window, then the highest long-context tier crossed, then the service tier
// (multiplier first, its own rates and tiers last).
func (mp *ModelPrice) RatesFor(serviceTier string, totalInput int64, at time.Time) Rates {
	p := mp.Period
	r := p.Rates
	secs := at.UTC().Hour()*3600 + at.UTC().Minute()*60 + at.UTC().Second()
	for _, w := range p.TimeWindows {
		s, _ := clockSeconds(w.Start)
		e, _ := clockSeconds(w.End)
		in := s <= secs && secs < e
		if e < s {
			in = secs >= s || secs < e
		}
		if in {
			r = r.overlay(w.Rates)
		}
	}
	r = r.overlay(crossed(p.Tiers, totalInput))
	st, ok := mp.serviceTier(serviceTier)
	if !ok {
		return r
	}
	if st.Multiplier != nil {
		r = r.scale(*st.Multiplier)
	}
	r = r.overlay(st.Rates)
	return r.overlay(crossed(st.Tiers, totalInput))
}

// serviceTier finds the named service tier: the period's entry, falling
// back to the provider default's multiplier for what the period's entry
// does not price. Standard names ("", default, standard, auto, on_demand)
// mean no service tier.
func (mp *ModelPrice) serviceTier(name string) (ServiceTier, bool) {
	name = NormalizeServiceTier(name)
	if name == "" {
		return ServiceTier{}, false
	}
	st, ok := mp.Period.ServiceTiers[name]
	def, dok := mp.ProviderServiceTiers[name]
	switch {
	case ok && dok && st.Multiplier == nil:
		st.Multiplier = def.Multiplier
		return st, true
	case ok:
		return st, true
	}
	return def, dok
}

// NormalizeServiceTier maps provider spellings to catalog service tier
// names; the standard tier maps to "".
func NormalizeServiceTier(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "", "default", "standard", "auto", "on_demand", "on-demand":
		return ""
	case "batches":
		return "batch"
	}
	return s
}

func crossed(tiers []Tier, totalInput int64) Rates {
	var r Rates
	for _, t := range tiers {
		if totalInput > t.AboveInputTokens {
			r = r.overlay(t.Rates)
		}
	}
	return r
}

func (r Rates) overlay(o Rates) Rates {
	set := func(dst **decimal.Decimal, src *decimal.Decimal) {
		if src != nil {
			*dst = src
		}
	}
	set(&r.Input, o.Input)
	set(&r.CacheRead, o.CacheRead)
	set(&r.CacheWrite, o.CacheWrite)
	set(&r.CacheWrite1h, o.CacheWrite1h)
	set(&r.Output, o.Output)
	set(&r.Reasoning, o.Reasoning)
	set(&r.InputAudio, o.InputAudio)
	set(&r.OutputAudio, o.OutputAudio)
	set(&r.InputImage, o.InputImage)
	set(&r.OutputImage, o.OutputImage)
	set(&r.WebSearch, o.WebSearch)
	set(&r.Request, o.Request)
	set(&r.AudioSecond, o.AudioSecond)
	set(&r.InputMChars, o.InputMChars)
	return r
}

func (r Rates) scale(f decimal.Decimal) Rates {
	for _, p := range r.fields() {
		if *p.v != nil {
			v := (*p.v).Mul(f)
			*p.v = &v
		}
	}
	return r
}

type rateField struct {
	name string
	v    **decimal.Decimal
}

// fields lists the rate fields by their JSON names (for diffs and checks).
func (r *Rates) fields() []rateField {
	return []rateField{
		{"input", &r.Input}, {"cache_read", &r.CacheRead}, {"cache_write", &r.CacheWrite},
		{"cache_write_1h", &r.CacheWrite1h}, {"output", &r.Output}, {"reasoning", &r.Reasoning},
		{"input_audio", &r.InputAudio}, {"output_audio", &r.OutputAudio}, {"input_image", &r.InputImage},
		{"output_image", &r.OutputImage}, {"web_search", &r.WebSearch}, {"request", &r.Request},
		{"audio_second", &r.AudioSecond}, {"input_mchars", &r.InputMChars},
	}
}

// IsZero reports whether no rate is set.
func (r Rates) IsZero() bool {
	for _, f := range r.fields() {
		if *f.v != nil {
			return false
		}
	}
	return true
}

// Compute prices a usage with resolved rates and the period's image table.
//
// Leaf decomposition: input tokens split into cache read, cache write
// (1-hour, then 5-minute/unknown TTL), audio, image and the uncached text
// remainder; output tokens into reasoning, audio, image and the remainder.
// Each leaf takes its own rate when the catalog has one, else its parent's
// (cache write 1h → cache write → input; reasoning → output), so a price
// applies only to the part of a bucket no more specific price covers and no
// token is billed twice. Subsets are taken in that order and each is capped
// by what is left of its parent, so inconsistent counts (cached > prompt)
// can never produce a negative leaf.
func Compute(r Rates, images []ImagePrice, u Usage) Breakdown {
	var b Breakdown
	tok := func(unit string, n int64, rates ...*decimal.Decimal) {
		if n <= 0 {
			return
		}
		for _, rt := range rates {
			if rt != nil {
				b.add(unit, decimal.NewFromInt(n), *rt, 1_000_000)
				return
			}
		}
	}
	t := u.Tokens
	left := max(t.Prompt, 0)
	take := func(n int64) int64 {
		n = min(max(n, 0), left)
		left -= n
		return n
	}
	cr := take(t.CacheRead)
	cw1h := take(min(t.CacheWrite1h, t.CacheWrite))
	cw := take(t.CacheWrite - t.CacheWrite1h)
	pa := take(t.PromptAudio)
	pi := take(t.PromptImage)
	tok("cache_read", cr, r.CacheRead, r.Input)
	tok("cache_write_1h", cw1h, r.CacheWrite1h, r.CacheWrite, r.Input)
	tok("cache_write", cw, r.CacheWrite, r.Input)
	tok("input_audio", pa, r.InputAudio, r.Input)
	tok("input_image", pi, r.InputImage, r.Input)
	tok("input", left, r.Input)

	left = max(t.Completion, 0)
	rs := take(t.Reasoning)
	ca := take(t.CompletionAudio)
	ci := take(t.CompletionImage)
	tok("reasoning", rs, r.Reasoning, r.Output)
	tok("output_audio", ca, r.OutputAudio, r.Output)
	tok("output_image", ci, r.OutputImage, r.Output)
	tok("output", left, r.Output)

	if u.WebSearches > 0 && r.WebSearch != nil {
		b.add("web_search", decimal.NewFromInt(u.WebSearches), *r.WebSearch, 1)
	}
	if u.Requests > 0 && r.Request != nil {
		b.add("request", decimal.NewFromInt(u.Requests), *r.Request, 1)
	}
	if u.AudioSeconds.IsPositive() && r.AudioSecond != nil {
		b.add("audio_second", u.AudioSeconds, *r.AudioSecond, 1)
	}
	if u.InputCharacters > 0 && r.InputMChars != nil {
		b.add("input_characters", decimal.NewFromInt(u.InputCharacters), *r.InputMChars, 1_000_000)
	}
	// Per-image prices are for endpoints that report no image tokens
	// (DALL·E, Imagen); when output image tokens were reported they already
	// priced the images above.
	if u.ImageCount > 0 && len(images) > 0 && t.CompletionImage == 0 {
		if p, ok := imagePrice(images, u.ImageSize, u.ImageQuality); ok {
			b.add("image", decimal.NewFromInt(u.ImageCount), p, 1)
		} else {
			b.Unpriced = "image " + u.ImageSize + " " + u.ImageQuality
		}
	}
	return b
}

func (b *Breakdown) add(unit string, qty, rate decimal.Decimal, per int64) {
	c := qty.Mul(rate)
	if per == 1_000_000 {
		c = c.Shift(-6)
	} else if per != 1 {
		c = c.Div(decimal.NewFromInt(per))
	}
	c = RoundCost(c)
	b.Lines = append(b.Lines, Line{Unit: unit, Quantity: qty, Rate: rate, Per: per, Cost: c})
	b.Total = b.Total.Add(c)
}

// RoundCost applies the rounding rule: exact values are kept; only digits
// beyond Scale fractional digits are rounded, half to even.
func RoundCost(d decimal.Decimal) decimal.Decimal {
	if -d.Exponent() > Scale {
		return d.RoundBank(Scale)
	}
	return d
}

// imagePrice picks the per-image price for a size and quality: exact size
// and quality, then exact size with any quality, then any size with the
// quality, then an entry with neither. Sizes compare with "x" or "-x-"
// separators alike; quality "standard"/"auto"/"" are equivalent.
func imagePrice(images []ImagePrice, size, quality string) (decimal.Decimal, bool) {
	size = normSize(size)
	quality = normQuality(quality)
	try := func(wantSize, wantQ bool) (decimal.Decimal, bool) {
		for _, ip := range images {
			s, q := normSize(ip.Size), strings.ToLower(strings.TrimSpace(ip.Quality))
			if (wantSize && s == size || !wantSize && s == "") && (wantQ && q == quality || !wantQ && q == "") {
				return ip.Price, true
			}
		}
		return decimal.Decimal{}, false
	}
	for _, c := range [][2]bool{{true, true}, {true, false}, {false, true}, {false, false}} {
		if p, ok := try(c[0], c[1]); ok {
			return p, true
		}
	}
	return decimal.Decimal{}, false
}

func normSize(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.ReplaceAll(s, "-x-", "x")
	if s == "auto" {
		return ""
	}
	return s
}

func normQuality(q string) string {
	q = strings.ToLower(strings.TrimSpace(q))
	switch q {
	case "auto", "":
		return "standard"
	}
	return q
}
