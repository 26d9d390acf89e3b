// Command spendops is the SpendOps AI API spend proxy: one binary with the
// proxy server, key management and pricing tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spendops/spendops/internal/buildinfo"
)

const usageText = `usage:
  spendops serve  [--addr HOST:PORT] [--data-dir DIR] [--config FILE] [--upstream NAME=URL]...
  spendops keys create --name NAME [--tenant T] [--providers p1,p2] [--models PATTERN,...]
                       [--dims-required] [--dims-allowed k1,k2] [--dims-pinned k=v,...] [--dims-default k=v,...]
                       [--dims-max-pairs N] [--data-dir DIR] [--json]
  spendops keys list     [--data-dir DIR] [--json]
  spendops keys revoke   ID [--data-dir DIR]
  spendops keys activate ID [--data-dir DIR]
  spendops keys rotate   ID [--grace 24h] [--data-dir DIR] [--json]
  spendops keys update   ID [policy flags as for create] [--data-dir DIR]
  spendops keys audit    [ID] [--data-dir DIR]
  spendops pricing list|import|versions|diff|activate|reprice [--data-dir DIR] (see spendops pricing)
  spendops version
Every flag also reads SPENDOPS_<FLAG> (upper case, - as _); upstreams also SPENDOPS_UPSTREAM_<PROVIDER>.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "spendops: %s\n", ue.msg)
			fmt.Fprint(os.Stderr, usageText)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "spendops: %s\n", oneLine(err.Error()))
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"missing command"}
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "keys":
		return runKeys(ctx, args[1:], stdout, stderr)
	case "pricing":
		return runPricing(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "spendops", buildinfo.Version)
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usageText)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

// envFlags sets every flag not given on the command line from
// SPENDOPS_<NAME>, so flags > env. It returns an error naming the variable
// when a value does not parse.
func envFlags(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		name := "SPENDOPS_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s: %w", name, e)
			}
		}
	})
	return err
}

// listFlag is a repeatable or comma-separated string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// multiFlag is a repeatable flag kept whole (values may contain commas).
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
