package report

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestDur(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0.0 µs"},
		{42_300 * time.Nanosecond, "42.3 µs"},
		{850 * time.Microsecond, "850 µs"},
		{12_340 * time.Microsecond, "12.3 ms"},
		{-150 * time.Microsecond, "-150 µs"},
		{75 * time.Second, "75.0 s"},
	}
	for _, tt := range tests {
		if got := Dur(tt.d); got != tt.want {
			t.Errorf("Dur(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{512, "512 B"},
		{20 << 10, "20.0 KiB"},
		{100 << 20, "100.0 MiB"},
		{-(30 << 10), "-30.0 KiB"},
		{30 << 30, "30.00 GiB"},
	}
	for _, tt := range tests {
		if got := Bytes(tt.n); got != tt.want {
			t.Errorf("Bytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestRatio(t *testing.T) {
	tests := []struct {
		a, b float64
		want string
	}{
		{2, 1, "2.00x"},
		{1.234, 1, "1.23x"},
		{25, 2, "12.5x"},
		{500, 2, "250x"},
		{1, 0, "n/a"},
		{0, 1, "n/a"},
		{-3, 1, "n/a"},
		{math.NaN(), 1, "n/a"},
		{math.Inf(1), 1, "n/a"},
	}
	for _, tt := range tests {
		if got := Ratio(tt.a, tt.b); got != tt.want {
			t.Errorf("Ratio(%v,%v) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestSpread(t *testing.T) {
	s := SpreadOf([]float64{3, 1, 2})
	if s != (Spread{Min: 1, Median: 2, Max: 3, N: 3}) {
		t.Fatalf("%+v", s)
	}
	if got := SpreadOf([]float64{4, 1, 3, 2}).Median; got != 2.5 {
		t.Fatalf("even median %v", got)
	}
	if got := SpreadOf(nil).Format(DurF); got != "n/a" {
		t.Fatalf("empty %q", got)
	}
	got := SpreadOf([]float64{2e5, 1e5, 3e5}).Format(DurF)
	if got != "200 µs (100 µs – 300 µs, n=3)" {
		t.Fatalf("format %q", got)
	}
	if got := SpreadOf([]float64{5e4}).Format(DurF); got != "50.0 µs" {
		t.Fatalf("single %q", got)
	}
}

func TestCheck(t *testing.T) {
	if g := Check("cpu", "≤ 1.3x", "1.1x", true); g.Status != Pass {
		t.Fatal(g)
	}
	if g := Check("cpu", "≤ 1.3x", "1.5x", false); g.Status != Miss {
		t.Fatal(g)
	}
	if g := Unmeasured("cpu", "≤ 1.3x", "spendops unavailable"); g.Status != NA || g.Measured != "spendops unavailable" {
		t.Fatal(g)
	}
}

func TestMarkdown(t *testing.T) {
	r := &Report{
		Title:      "SpendOps benchmark",
		Date:       time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC),
		Mode:       "quick",
		Duration:   95 * time.Second,
		Machine:    []string{"CPU: AMD EPYC (2 cores)"},
		Assignment: "proxy on core 1",
		Targets: []Target{
			{Name: "bare", Status: "ok", Detail: "httputil.ReverseProxy"},
			{Name: "spendops", Status: "unavailable", Detail: "no serve | command"},
		},
		Goals:  []Goal{Check("added p99", "< 1 ms", "0.4 ms", true)},
		Tables: []Table{{Title: "Latency", Note: "from intended send", Header: []string{"target", "p99"}, Rows: [][]string{{"bare", "1 ms"}, {"short"}}}},
		Notes:  []string{"noisy machine"},
	}
	var b strings.Builder
	if err := r.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"# SpendOps benchmark\n",
		"Run 2026-11-27T12:00:00Z, mode quick, took 1m35s.",
		"- Core assignment: proxy on core 1\n",
		"| spendops | unavailable | no serve \\| command |\n",
		"| goal | want | measured | verdict |\n|---|---|---|---|\n| added p99 | < 1 ms | 0.4 ms | PASS |\n",
		"## Latency\n\nfrom intended send\n\n| target | p99 |\n|---|---|\n| bare | 1 ms |\n| short |  |\n",
		"## Notes\n\n- noisy machine\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}
