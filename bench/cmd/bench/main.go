// Command bench measures what a proxy costs on loopback: SpendOps next to no proxy, a bare Go reverse proxy
// (the floor) and a peer gateway, all against the same in-process mock upstream, and writes a markdown report
// with ratios, run-to-run noise and PASS/MISS against the project's goals.
//
//	go run ./bench/cmd/bench [-quick] [-out FILE] [-targets direct,bare,spendops,peer]
//
// Everything runs on 127.0.0.1 and stops by itself: each scenario is bounded in time and request count.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/spendops/spendops/bench/bareproxy"
	"github.com/spendops/spendops/bench/mockupstream"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bareproxy" {
		runBareProxy(os.Args[2:])
		return
	}
	quick := flag.Bool("quick", false, "short run (under 3 minutes): fewer rates, shorter steps, fewer streams")
	out := flag.String("out", "", "report file (default bench/out/report-<date>.md)")
	only := flag.String("targets", "direct,bare,spendops,peer", "comma-separated targets to measure (direct is always included)")
	reps := flag.Int("reps", 3, "repetitions of the key scenarios, for the noise figures")
	noPin := flag.Bool("no-pin", false, "do not pin processes to cores")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))

	// Pin the bench itself (load generator and mock) to core 0 by re-executing under taskset, before any
	// goroutine depends on GOMAXPROCS (the runtime sizes it from the affinity mask at start).
	pinNote, pinned := "", false
	switch {
	case *noPin:
		pinNote = "not pinned (-no-pin)"
	case os.Getenv("SPENDOPS_BENCH_PINNED") != "":
		pinned = true // this is the re-executed child, already on core 0
	case runtime.NumCPU() < 2:
		pinNote = fmt.Sprintf("not pinned: %d CPU visible", runtime.NumCPU())
	default:
		if _, err := exec.LookPath("taskset"); err != nil {
			pinNote = "not pinned: taskset not found"
		} else {
			os.Exit(reexecPinned())
		}
	}
	if err := run(*quick, *out, *only, *reps, pinned, pinNote); err != nil {
		slog.Error("bench failed", "err", err)
		os.Exit(1)
	}
}

func reexecPinned() int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	cmd := exec.Command("taskset", append([]string{"-c", "0", exe}, os.Args[1:]...)...)
	cmd.Env = append(os.Environ(), "SPENDOPS_BENCH_PINNED=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Forward Ctrl-C/TERM so the child can stop its proxies.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "bench: taskset:", err)
		return 1
	}
	go func() {
		for s := range sig {
			_ = cmd.Process.Signal(s)
		}
	}()
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		return 1
	}
	return 0
}

// runBareProxy is the floor target's process: the bench re-executes itself with "bareproxy".
func runBareProxy(args []string) {
	fs := flag.NewFlagSet("bareproxy", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	upstream := fs.String("upstream", "", "upstream base URL")
	_ = fs.Parse(args)
	u, err := url.Parse(*upstream)
	if err != nil || u.Host == "" {
		fmt.Fprintln(os.Stderr, "bareproxy: -upstream must be a URL")
		os.Exit(2)
	}
	srv := &http.Server{Addr: *addr, Handler: bareproxy.New(u), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "bareproxy:", err)
		os.Exit(1)
	}
}

// raiseNoFile lifts RLIMIT_NOFILE for the bench and, by inheritance, for the proxies it starts: 10,000 open
// streams need 10,000 client sockets here and twice that in each proxy.
func raiseNoFile(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur >= want {
		return lim.Cur, nil
	}
	nl := syscall.Rlimit{Cur: want, Max: max(lim.Max, want)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &nl); err != nil {
		// Not allowed to raise the hard limit: take what it allows.
		nl = syscall.Rlimit{Cur: lim.Max, Max: lim.Max}
		if err2 := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &nl); err2 != nil {
			return lim.Cur, err
		}
		return lim.Max, err
	}
	return want, nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "bench")); err == nil {
				return d, nil
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("repository root (go.mod with bench/) not found above %s", dir)
		}
	}
}

// mockServer starts the mock upstream in this process on a loopback port.
func mockServer() (*mockupstream.Server, string, func(), error) {
	m := mockupstream.New()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	srv := &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return m, "http://" + l.Addr().String(), func() { _ = srv.Close() }, nil
}

func contains(list, name string) bool {
	for _, s := range strings.Split(list, ",") {
		if strings.TrimSpace(s) == name {
			return true
		}
	}
	return false
}
