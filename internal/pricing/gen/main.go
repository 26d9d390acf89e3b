// Command gen rebuilds the embedded price catalog (internal/pricing/catalog)
// from the public pricing references (genai-prices v2 data.json and
// LiteLLM's model_prices_and_context_window.json) plus the reviewed manual
// entries in manual.json. Run from the repository root:
//
//	go run ./internal/pricing/gen [-ref DIR] [-out DIR]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spendops/spendops/internal/pricing"
)

func main() {
	ref := flag.String("ref", defaultRef(), "pricing-reference directory")
	out := flag.String("out", "internal/pricing/catalog", "output directory")
	manual := flag.String("manual", "internal/pricing/gen/manual.json", "manual entries")
	flag.Parse()
	if err := run(*ref, *out, *manual); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func defaultRef() string {
	if d := os.Getenv("SPENDOPS_SHARED_DIR"); d != "" {
		return filepath.Join(d, "pricing-reference")
	}
	return filepath.Join("..", "shared", "pricing-reference")
}

func run(ref, out, manual string) error {
	g, err := os.ReadFile(filepath.Join(ref, "genai-prices", "prices", "new_data", "v2", "data.json"))
	if err != nil {
		return err
	}
	l, err := os.ReadFile(filepath.Join(ref, "litellm", "model_prices_and_context_window.json"))
	if err != nil {
		return err
	}
	m, err := os.ReadFile(manual)
	if err != nil {
		return err
	}
	files, err := pricing.BuildCatalog(g, l, m)
	if err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(out, "*.json"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	n := 0
	for _, pf := range files {
		b, err := json.MarshalIndent(pf, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, pf.Provider+".json"), append(b, '\n'), 0o644); err != nil {
			return err
		}
		n += len(pf.Models)
	}
	fmt.Printf("wrote %d providers, %d models to %s\n", len(files), n, out)
	return nil
}
