package main

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spendops/spendops/bench/report"
)

// plan is the size of a run.
type plan struct {
	rates        []float64 // non-streaming fixed rates
	keyRate      float64   // the rate repeated reps times and judged by the goals
	rateDur      time.Duration
	rateTimeout  time.Duration // a non-streaming request slower than this (from its intended send) is an error
	satStart     float64
	satStep      time.Duration
	satMax       float64
	streams      int
	chunks       int
	chunkDelayMs int
	streamReps   int
	openStreams  int
	openRamp     time.Duration
	openWait     time.Duration // how long to wait for all streams to open after the ramp
	satSteps     int           // bound on saturation steps per target
	bigTimeout   time.Duration
	bigBytes     int64
	ledgerRate   float64
	ledgerDur    time.Duration
	burst        int
}

func planFor(quick bool) plan {
	if quick {
		return plan{rates: []float64{500, 2000}, keyRate: 2000, rateDur: 2 * time.Second, rateTimeout: time.Second,
			satStart: 1000, satStep: time.Second, satMax: 32000, satSteps: 4,
			streams: 200, chunks: 100, chunkDelayMs: 20, streamReps: 1,
			openStreams: 2000, openRamp: time.Second, openWait: 5 * time.Second, bigBytes: 100 << 20, bigTimeout: 15 * time.Second,
			ledgerRate: 200, ledgerDur: 2 * time.Second, burst: 5000}
	}
	return plan{rates: []float64{500, 2000, 5000}, keyRate: 2000, rateDur: 8 * time.Second, rateTimeout: 2 * time.Second,
		satStart: 1000, satStep: 3 * time.Second, satMax: 64000, satSteps: 8,
		streams: 1000, chunks: 100, chunkDelayMs: 20, streamReps: 3,
		openStreams: 10000, openRamp: 5 * time.Second, openWait: 30 * time.Second, bigBytes: 100 << 20, bigTimeout: 90 * time.Second,
		ledgerRate: 500, ledgerDur: 5 * time.Second, burst: 20000}
}

func runtimeGCPause() { runtime.GC() }

func run(quick bool, outPath, only string, reps int, pinned bool, pinNote string) error {
	began := time.Now()
	p := planFor(quick)
	reps = max(reps, 1)
	root, err := repoRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "spendops-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	rep := &report.Report{Title: "SpendOps benchmark", Date: began, Mode: map[bool]string{true: "quick", false: "full"}[quick]}
	rep.Machine = machine()
	nofile, err := raiseNoFile(uint64(max(4*p.openStreams+4096, 65536)))
	if err != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("RLIMIT_NOFILE could only be raised to %d: %v", nofile, err))
	}
	if need := uint64(2*p.openStreams + 2048); nofile < need {
		p.openStreams = int(nofile-2048) / 2
		rep.Notes = append(rep.Notes, fmt.Sprintf("open-stream test reduced to %d streams by the file limit", p.openStreams))
	}

	mock, mockURL, stopMock, err := mockServer()
	if err != nil {
		return err
	}
	defer stopMock()
	e := &env{root: root, tmp: tmp, mockURL: mockURL, quick: quick}
	if pinned {
		e.proxyPin = "1"
		rep.Assignment = "load generator + mock upstream (this process, GOMAXPROCS=1) on core 0; each proxy process on core 1 (taskset -c 1); one proxy is loaded at a time"
	} else {
		rep.Assignment = pinNote + "; all processes share all cores"
	}

	// Targets, started side by side and kept up for the whole run.
	direct := directTarget(e)
	targets := []*target{direct}
	starters := []struct {
		name  string
		start func(*env) *target
	}{{"bare", bareTarget}, {"spendops", spendopsTarget}, {"peer", peerTarget}}
	for _, s := range starters {
		if !contains(only, s.name) {
			continue
		}
		slog.Info("starting target", "target", s.name)
		targets = append(targets, s.start(e))
	}
	stopAll := func() {
		for _, t := range targets {
			t.proc.stop()
		}
	}
	defer stopAll()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() { <-sig; stopAll(); os.Exit(130) }()

	idle := map[string]int64{}
	time.Sleep(time.Second)
	for _, t := range targets {
		if t.proc != nil && t.ok() {
			idle[t.name] = t.proc.mem().RSS
		}
		if t.ok() {
			if err := smoke(t); err != nil {
				t.unavailable = err.Error()
			}
		}
		st := "ok"
		detail := t.detail
		if !t.ok() {
			st = "unavailable"
			detail = t.unavailable
			slog.Warn("target unavailable", "target", t.name, "reason", t.unavailable)
			t.proc.stop()
		}
		rep.Targets = append(rep.Targets, report.Target{Name: t.name, Status: st, Detail: detail})
	}
	var live, proxies []*target
	for _, t := range targets {
		if t.ok() {
			live = append(live, t)
			if t.proc != nil {
				proxies = append(proxies, t)
			}
		}
	}
	if !direct.ok() {
		return fmt.Errorf("direct target failed its smoke test: %s", direct.unavailable)
	}
	byName := func(n string) *target {
		for _, t := range live {
			if t.name == n {
				return t
			}
		}
		return nil
	}

	// 2. Non-streaming fixed rates; the key rate is repeated, targets interleaved so drift hits all alike.
	var runs []rateRun
	for r := 0; r < reps; r++ {
		for _, rate := range p.rates {
			if rate != p.keyRate && r > 0 {
				continue
			}
			for i := range live {
				t := live[(i+r)%len(live)]
				slog.Info("fixed rate", "target", t.name, "rate", rate, "rep", r+1)
				runs = append(runs, runRate(t, rate, p.rateDur, p.rateTimeout, r))
			}
		}
	}

	// 3. Saturation.
	var sats []satResult
	for _, t := range live {
		slog.Info("saturation", "target", t.name)
		sats = append(sats, saturate(t, p.satStart, p.satStep, p.satMax, p.satSteps))
	}

	// 4. Streaming.
	var sruns []streamRun
	for r := 0; r < p.streamReps; r++ {
		for i := range live {
			t := live[(i+r)%len(live)]
			slog.Info("streaming", "target", t.name, "streams", p.streams, "rep", r+1)
			sruns = append(sruns, runStreams(t, p.streams, p.chunks, p.chunkDelayMs, r))
		}
	}

	// 5. Ledger.
	var led *ledgerResult
	if so := byName("spendops"); so != nil {
		if err := probeEvents(so); err != nil {
			slog.Warn("ledger unavailable", "err", err)
			led = &ledgerResult{unavailable: err.Error()}
		} else {
			slog.Info("ledger", "rate", p.ledgerRate, "burst", p.burst)
			l := runLedger(so, p.ledgerRate, p.ledgerDur, p.burst, 64)
			led = &l
		}
	}

	// 6. Memory last, each test on freshly restarted proxies: after load a Go heap has room to spare (which
	// would hide per-stream cost) and a proxy that does not cancel its upstream when the client leaves keeps
	// dangling streams; either would distort the other scenarios or this one. Baseline RSS = 1 s after restart.
	startFn := map[string]func(*env) *target{}
	for _, s := range starters {
		startFn[s.name] = s.start
	}
	restart := func(t *target) *target {
		t.proc.stop()
		nt := startFn[t.name](e)
		targets = append(targets, nt)
		if !nt.ok() {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s did not restart for the memory tests: %s", t.name, nt.unavailable))
			return nil
		}
		time.Sleep(time.Second)
		return nt
	}
	slog.Info("memory: open streams", "streams", p.openStreams)
	// Every proxy is restarted before any is measured, and every client pool emptied, so idle connections
	// left by earlier scenarios (each one a file descriptor in this process, on the mock's side) do not eat
	// into the file limit the open streams need.
	for _, t := range targets {
		t.client.CloseIdleConnections()
	}
	var fresh []*target
	for _, t := range proxies {
		if nt := restart(t); nt != nil {
			fresh = append(fresh, nt)
		}
	}
	var opens []openStreamsResult
	for _, t := range fresh {
		opens = append(opens, runOpenStreams(t, mock, p.openStreams, p.openRamp, p.openWait))
	}
	slog.Info("memory: large response", "bytes", p.bigBytes)
	bigs := []bigResult{runBig(direct, p.bigBytes, p.bigTimeout)}
	for _, t := range fresh {
		if nt := restart(t); nt != nil {
			bigs = append(bigs, runBig(nt, p.bigBytes, p.bigTimeout))
		}
	}

	build(rep, p, reps, live, idle, opens, bigs, runs, sats, sruns, led)
	if !contains(only, "spendops") {
		rep.Notes = append(rep.Notes, "spendops was not selected (-targets)")
	}
	rep.Notes = append(rep.Notes, fmt.Sprintf("RLIMIT_NOFILE %d; logs of the proxies were in %s (removed)", nofile, tmp))
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		rep.Machine = append(rep.Machine, "Load average at end: "+strings.Join(strings.Fields(string(b))[:3], " "))
	}
	rep.Duration = time.Since(began)

	var sb strings.Builder
	if err := rep.Markdown(&sb); err != nil {
		return err
	}
	fmt.Print(sb.String())
	if outPath == "" {
		outPath = filepath.Join(root, "bench", "out", "report-"+began.UTC().Format("2006-01-02T150405Z")+".md")
	}
	if err := os.MkdirAll(filepath.Dir(outPath), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(outPath, []byte(sb.String()), 0o644); err != nil {
		return err
	}
	slog.Info("report written", "file", outPath, "took", time.Since(began).Round(time.Second))
	return nil
}

func machine() []string {
	var out []string
	cpu, ncpu := "unknown", 0
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			switch {
			case !ok:
			case strings.TrimSpace(k) == "model name" && cpu == "unknown":
				cpu = strings.TrimSpace(v)
			case strings.TrimSpace(k) == "processor":
				ncpu++
			}
		}
		f.Close()
	}
	affinity := fmt.Sprintf("the bench process may use %d", runtime.NumCPU())
	out = append(out, fmt.Sprintf("CPU: %s, %d logical cores (%s)", cpu, ncpu, affinity))
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		out = append(out, "Kernel: Linux "+strings.TrimSpace(string(b)))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		out = append(out, "Memory: "+firstLine(strings.Join(strings.Fields(string(b))[1:3], " ")))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		la := strings.Fields(string(b))
		out = append(out, "Load average at start: "+strings.Join(la[:3], " ")+
			" (other work on the machine shows up as noise; see the spreads)")
		if l1, err := strconv.ParseFloat(la[0], 64); err == nil && ncpu > 0 && l1 > float64(ncpu) {
			out = append(out, fmt.Sprintf("WARNING: the machine was busy (1-minute load %.1f on %d cores): absolute figures are inflated by other work; compare the ratios, which are taken within one run, and the spreads", l1, ncpu))
		}
	}
	out = append(out, "Go: "+runtime.Version())
	if v, err := exec.Command("node", "--version").Output(); err == nil {
		out = append(out, "Node: "+strings.TrimSpace(string(v)))
	}
	return out
}
