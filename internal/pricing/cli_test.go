package pricing

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spendops/spendops/internal/usage"
)

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	run := func(open OpenEvents, args ...string) (string, error) {
		var out, errb strings.Builder
		err := RunCLIWith(t.Context(), args, dir, &out, &errb, open)
		return out.String() + errb.String(), err
	}
	out, err := run(nil, "list", "--provider", "anthropic")
	if err != nil || !strings.Contains(out, "claude-sonnet-4-5") || !strings.Contains(out, "$$$") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	file := filepath.Join(refDir(t), "litellm", "model_prices_and_context_window.json")
	out, err = run(nil, "import", "--format", "litellm", file)
	if err != nil || !strings.Contains(out, "changed  deepseek/deepseek-chat input: 0.135 → 0.28") || !strings.Contains(out, "stored and activated v1-") {
		t.Fatalf("import: %v\n%.2000s", err, out)
	}
	out, err = run(nil, "versions")
	if err != nil || !strings.Contains(out, "import:litellm") || !strings.Contains(out, "active") {
		t.Fatalf("versions: %v\n%s", err, out)
	}
	out, err = run(nil, "diff", "builtin")
	if err != nil || !strings.Contains(out, "deepseek/deepseek-chat input") {
		t.Fatalf("diff: %v\n%.500s", err, out)
	}
	if _, err := run(nil, "reprice", "--unpriced"); err == nil {
		t.Fatal("reprice without ledger succeeded")
	}
	ledger := newFakeLedger(usage.Event{RequestID: "q1", Provider: "deepseek", Model: "deepseek-chat", TS: aug2026,
		Tokens: usage.Tokens{Prompt: 1_000_000}, CostSource: usage.CostNone})
	open := func(context.Context, string) (EventStore, func() error, error) {
		return ledger, func() error { return nil }, nil
	}
	out, err = run(open, "reprice", "--from", "2026-07-01T00:00:00Z", "--to", "2026-09-01T00:00:00Z")
	// 1M × 0.28 (the imported price; noon UTC is DeepSeek's standard window, where the window price applies)
	if err != nil || !strings.Contains(out, "re-priced 1 of 1 events") {
		t.Fatalf("reprice: %v\n%s", err, out)
	}
	if _, err := run(nil, "import", "--format", "csv", file); err == nil {
		t.Fatal("bad format accepted")
	}
	if _, err := run(nil, "nope"); err == nil {
		t.Fatal("unknown command accepted")
	}
	if err := RunCLI(t.Context(), []string{"activate", "builtin"}, dir, &strings.Builder{}, &strings.Builder{}); err != nil {
		t.Fatal(err)
	}
}
