package main

import (
	"context"
	"io"
	"os"
	"strings"

	"github.com/spendops/spendops/internal/ledger"
	"github.com/spendops/spendops/internal/pricing"
	"github.com/spendops/spendops/internal/server"
	"github.com/spendops/spendops/internal/store"
)

// runPricing runs `spendops pricing ...`; --data-dir (or SPENDOPS_DATA_DIR)
// selects the database, the other arguments go to the pricing CLI.
func runPricing(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	dataDir := "./spendops-data"
	if v, ok := os.LookupEnv("SPENDOPS_DATA_DIR"); ok && v != "" {
		dataDir = v
	}
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--data-dir" || a == "-data-dir":
			if i+1 >= len(args) {
				return usageError{"pricing: --data-dir needs a value"}
			}
			dataDir = args[i+1]
			i++
		case strings.HasPrefix(a, "--data-dir="), strings.HasPrefix(a, "-data-dir="):
			dataDir = a[strings.IndexByte(a, '=')+1:]
		default:
			rest = append(rest, a)
		}
	}
	return pricing.RunCLIWith(ctx, rest, dataDir, stdout, stderr, openLedgerEvents)
}

// openLedgerEvents opens the ledger of a data dir for `pricing reprice`.
func openLedgerEvents(ctx context.Context, dataDir string) (pricing.EventStore, func() error, error) {
	db, err := store.Open(dataDir)
	if err != nil {
		return nil, nil, err
	}
	led, err := ledger.Open(ctx, db, nil) // nil: no logging from the CLI
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return server.LedgerEvents{L: led}, db.Close, nil
}
