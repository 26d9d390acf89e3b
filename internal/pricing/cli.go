package pricing

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shopspring/decimal"
	"github.com/spendops/spendops/internal/store"
)

// OpenEvents opens the ledger's EventStore for `pricing reprice`; close is
// called when the command ends.
type OpenEvents func(ctx context.Context, dataDir string) (es EventStore, close func() error, err error)

// RunCLI runs `spendops pricing ...` without a ledger (reprice reports that
// it needs one). See RunCLIWith.
func RunCLI(ctx context.Context, args []string, dataDir string, stdout, stderr io.Writer) error {
	return RunCLIWith(ctx, args, dataDir, stdout, stderr, nil)
}

const cliUsage = `usage: spendops pricing <command>
  list    [--provider P] [--json]                      prices in force, with expense tiers
  import  --format litellm|genai-prices [--dry-run] FILE_OR_URL
                                                        merge a dataset into a new catalog version, print the diff
  versions                                              stored catalog versions
  diff    FROM [TO]                                     differences between versions (builtin, v3-…; TO = active)
  activate VERSION                                      make a stored version (or builtin) the active catalog
  reprice --from RFC3339 --to RFC3339 [--model M] [--unpriced]
                                                        price stored events again, with an audit trail`

// RunCLIWith runs `spendops pricing ...` against the SQLite database in
// dataDir; open supplies the ledger for reprice.
func RunCLIWith(ctx context.Context, args []string, dataDir string, stdout, stderr io.Writer, open OpenEvents) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, cliUsage)
		return errors.New("pricing: missing command")
	}
	db, err := store.Open(dataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := OpenStore(ctx, db)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("pricing "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch args[0] {
	case "list":
		prov := fs.String("provider", "", "only this provider")
		asJSON := fs.Bool("json", false, "JSON output")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		cat, err := st.Current(ctx)
		if err != nil {
			return err
		}
		return printList(stdout, cat, *prov, *asJSON)
	case "import":
		format := fs.String("format", "", "litellm or genai-prices")
		dry := fs.Bool("dry-run", false, "print the diff without storing a version")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return errors.New("pricing import: need one FILE_OR_URL")
		}
		data, err := readSource(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		base, err := st.Current(ctx)
		if err != nil {
			return err
		}
		next, diff, err := Import(*format, data, base)
		if err != nil {
			return err
		}
		if !*dry {
			if next, err = st.SaveCatalog(ctx, next); err != nil {
				return err
			}
			diff.To = next.Version()
		}
		diff.Print(stdout)
		if !*dry {
			fmt.Fprintf(stdout, "stored and activated %s (a running server picks it up on its next reload)\n", next.Version())
		}
		return nil
	case "versions":
		vs, err := st.Versions(ctx)
		if err != nil {
			return err
		}
		b, _ := Load()
		fmt.Fprintf(stdout, "builtin  %s  (embedded)\n", b.Version())
		for _, v := range vs {
			mark := ""
			if v.Active {
				mark = "  active"
			}
			fmt.Fprintf(stdout, "%s  %s  %s%s\n", v.Version, v.Source, v.Created.Format(time.RFC3339), mark)
		}
		return nil
	case "diff":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() < 1 || fs.NArg() > 2 {
			return errors.New("pricing diff: need FROM [TO]")
		}
		a, err := st.Catalog(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		var b *Catalog
		if fs.NArg() == 2 {
			b, err = st.Catalog(ctx, fs.Arg(1))
		} else {
			b, err = st.Current(ctx)
		}
		if err != nil {
			return err
		}
		DiffCatalogs(a, b, time.Now()).Print(stdout)
		return nil
	case "activate":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return errors.New("pricing activate: need VERSION")
		}
		return st.SetActive(ctx, fs.Arg(0))
	case "reprice":
		from := fs.String("from", "", "start (RFC 3339)")
		to := fs.String("to", "", "end, exclusive (RFC 3339)")
		model := fs.String("model", "", "only this model")
		unpriced := fs.Bool("unpriced", false, "only events without a price")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if open == nil {
			return errors.New("pricing reprice: this build has no event ledger")
		}
		opt := RepriceOptions{UnpricedOnly: *unpriced}
		opt.Model = *model
		var err error
		if *from != "" {
			if opt.From, err = time.Parse(time.RFC3339, *from); err != nil {
				return fmt.Errorf("--from: %w", err)
			}
		}
		if *to != "" {
			if opt.To, err = time.Parse(time.RFC3339, *to); err != nil {
				return fmt.Errorf("--to: %w", err)
			}
		}
		es, closeES, err := open(ctx, dataDir)
		if err != nil {
			return err
		}
		defer func() { _ = closeES() }()
		cat, err := st.Current(ctx)
		if err != nil {
			return err
		}
		ov, err := st.Overrides(ctx)
		if err != nil {
			return err
		}
		en, err := NewEngine(EngineConfig{Catalog: cat, Overrides: ov})
		if err != nil {
			return err
		}
		res, err := Reprice(ctx, es, en, st, opt)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "re-priced %d of %d events with %s: total %s → %s USD\n", res.Changed, res.Examined, cat.Version(), res.Before, res.After)
		return nil
	}
	fmt.Fprintln(stderr, cliUsage)
	return fmt.Errorf("pricing: unknown command %q", args[0])
}

func readSource(ctx context.Context, src string) ([]byte, error) {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", src, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("fetch %s: status %s", src, resp.Status)
		}
		return io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	}
	return os.ReadFile(src)
}

func printList(w io.Writer, cat *Catalog, prov string, asJSON bool) error {
	now := time.Now()
	rk := Rank(cat, now)
	var views []ModelView
	for _, pm := range cat.Models() {
		if prov == "" || pm.Provider == prov {
			views = append(views, view(pm, rk, now, false))
		}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"version": cat.Version(), "models": views})
	}
	fmt.Fprintf(w, "catalog %s (%d models)\n", cat.Version(), len(views))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tMODEL\tINPUT/1M\tOUTPUT/1M\tCACHE READ/1M\tTIER")
	for _, v := range views {
		r := v.Current.Rates
		tier := ""
		if v.Expense != nil {
			tier = v.Expense.Tier
			if v.Expense.Warn {
				tier += " !"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.Provider, v.Model, ds(r.Input), ds(r.Output), ds(r.CacheRead), tier)
	}
	return tw.Flush()
}

func ds(d *decimal.Decimal) string {
	if d == nil {
		return "-"
	}
	return d.String()
}
