// Package compat holds the real-SDK compatibility suite (compat/run.sh);
// this test keeps the README's table equal to the suite's last results.
package compat

import (
	"os"
	"strings"
	"testing"
)

func TestREADMETableMatchesResults(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	results, err := os.ReadFile("RESULTS.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "<!-- compat-table:start -->\n")
	block, _, ok2 := strings.Cut(block, "<!-- compat-table:end -->")
	if !ok || !ok2 {
		t.Fatal("README.md lacks the compat-table markers")
	}
	i := strings.Index(string(results), "| SDK | Version")
	if i < 0 {
		t.Fatal("RESULTS.md has no summary table")
	}
	var table []string
	for _, l := range strings.Split(string(results)[i:], "\n") {
		if !strings.HasPrefix(l, "|") {
			break
		}
		table = append(table, l)
	}
	if want := strings.Join(table, "\n") + "\n"; block != want {
		t.Fatalf("README compat table differs from compat/RESULTS.md; run python3 compat/readme_table.py\nREADME:\n%s\nRESULTS:\n%s", block, want)
	}
}
