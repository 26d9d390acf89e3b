// Package report turns benchmark measurements into the markdown report: figures with their ratios to the floor
// (bare reverse proxy) and to the peer gateway, run-to-run noise, and PASS/MISS against the project's goals.
package report

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"
)

// Status is a goal's verdict.
type Status string

// Goal verdicts. NA is used when the measurement could not be taken (target unavailable); it is never a PASS.
const (
	Pass Status = "PASS"
	Miss Status = "MISS"
	NA   Status = "N/A"
)

// Goal is one target the project set itself, with what was measured against it.
type Goal struct {
	Name     string
	Want     string
	Measured string
	Status   Status
}

// Check builds a goal whose status is Pass when ok, else Miss.
func Check(name, want, measured string, ok bool) Goal {
	st := Miss
	if ok {
		st = Pass
	}
	return Goal{Name: name, Want: want, Measured: measured, Status: st}
}

// Unmeasured builds an NA goal with the reason in place of a measurement.
func Unmeasured(name, want, reason string) Goal {
	return Goal{Name: name, Want: want, Measured: reason, Status: NA}
}

// Table is one section of figures.
type Table struct {
	Title  string
	Note   string
	Header []string
	Rows   [][]string
}

// Target is one system measured in the run.
type Target struct {
	Name   string
	Status string // "ok" or "unavailable"
	Detail string // version, command line, or why it is unavailable
}

// Report is the whole run.
type Report struct {
	Title      string
	Date       time.Time
	Mode       string
	Duration   time.Duration
	Machine    []string // "CPU: ...", "Kernel: ..." lines
	Assignment string   // which process ran on which core
	Targets    []Target
	Tables     []Table
	Goals      []Goal
	Notes      []string
}

// Markdown writes the report.
func (r *Report) Markdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", r.Title)
	fmt.Fprintf(&b, "Run %s, mode %s, took %s.\n\n", r.Date.UTC().Format(time.RFC3339), r.Mode, r.Duration.Round(time.Second))
	b.WriteString("## Machine\n\n")
	for _, m := range r.Machine {
		fmt.Fprintf(&b, "- %s\n", m)
	}
	if r.Assignment != "" {
		fmt.Fprintf(&b, "- Core assignment: %s\n", r.Assignment)
	}
	b.WriteString("\n## Targets\n\n")
	tt := Table{Header: []string{"target", "status", "detail"}}
	for _, t := range r.Targets {
		tt.Rows = append(tt.Rows, []string{t.Name, t.Status, t.Detail})
	}
	writeTable(&b, tt)
	if len(r.Goals) > 0 {
		b.WriteString("\n## Goals\n\n")
		gt := Table{Header: []string{"goal", "want", "measured", "verdict"}}
		for _, g := range r.Goals {
			gt.Rows = append(gt.Rows, []string{g.Name, g.Want, g.Measured, string(g.Status)})
		}
		writeTable(&b, gt)
	}
	for _, t := range r.Tables {
		fmt.Fprintf(&b, "\n## %s\n\n", t.Title)
		if t.Note != "" {
			fmt.Fprintf(&b, "%s\n\n", t.Note)
		}
		writeTable(&b, t)
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeTable(b *strings.Builder, t Table) {
	row := func(cells []string) {
		b.WriteString("|")
		for i := range t.Header {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			c = strings.ReplaceAll(strings.ReplaceAll(c, "|", `\|`), "\n", " ")
			b.WriteString(" " + c + " |")
		}
		b.WriteString("\n")
	}
	row(t.Header)
	b.WriteString("|")
	for range t.Header {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		row(r)
	}
}

// Dur formats a duration for a table: µs below 10 ms with one decimal below 100 µs, ms above; negative values
// (a proxy measured faster than direct, i.e. noise) keep their sign.
func Dur(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	var s string
	switch {
	case d < 100*time.Microsecond:
		s = fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		s = fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Second:
		s = fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	default:
		s = fmt.Sprintf("%.1f s", d.Seconds())
	}
	if neg {
		return "-" + s
	}
	return s
}

// Bytes formats a byte count in binary units.
func Bytes(n int64) string {
	neg := n < 0
	if neg {
		n = -n
	}
	var s string
	switch {
	case n < 10<<10:
		s = fmt.Sprintf("%d B", n)
	case n < 10<<20:
		s = fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 10<<30:
		s = fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		s = fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	}
	if neg {
		return "-" + s
	}
	return s
}

// Ratio formats a/b as "1.23x"; "n/a" when either side is missing (zero, negative, NaN), because a ratio to a
// value that was not measured, or was within noise of zero, means nothing.
func Ratio(a, b float64) string {
	if !(a > 0) || !(b > 0) || math.IsInf(a, 0) || math.IsInf(b, 0) {
		return "n/a"
	}
	r := a / b
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0fx", r)
	case r >= 10:
		return fmt.Sprintf("%.1fx", r)
	default:
		return fmt.Sprintf("%.2fx", r)
	}
}

// Spread is the min, median and max of repeated measurements of one figure.
type Spread struct {
	Min, Median, Max float64
	N                int
}

// SpreadOf computes the spread; the median of an even count is the mean of the middle two.
func SpreadOf(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Spread{Min: s[0], Median: m, Max: s[len(s)-1], N: len(s)}
}

// Format renders the spread with f applied to each value: "median (min–max, n=3)".
func (s Spread) Format(f func(float64) string) string {
	if s.N == 0 {
		return "n/a"
	}
	if s.N == 1 {
		return f(s.Median)
	}
	return fmt.Sprintf("%s (%s – %s, n=%d)", f(s.Median), f(s.Min), f(s.Max), s.N)
}

// DurF adapts Dur to a float64 of nanoseconds, for Spread.Format.
func DurF(ns float64) string { return Dur(time.Duration(ns)) }
