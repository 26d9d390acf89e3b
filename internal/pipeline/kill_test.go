package pipeline

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

const killChildEnv = "SPENDOPS_PIPELINE_KILL_CHILD"

// TestKill9 runs a pipeline in a child process, kills it with SIGKILL in
// the middle of a burst (queue full, store slow, spool in use), and starts
// a pipeline on the same data dir: of the events whose Usage call had
// returned, at most QueueSize+BatchSize (the in-memory ones) are missing.
func TestKill9(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9Child$", "-test.v=false")
	cmd.Env = append(os.Environ(), killChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	accepted := -1
	sc := bufio.NewScanner(out)
	deadline := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		n, err := strconv.Atoi(sc.Text())
		if err != nil {
			continue // test framework output
		}
		accepted = n
		if n >= 3000 {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if accepted < 3000 {
		t.Fatalf("child accepted only %d events before dying", accepted)
	}

	l := openLedger(t, dir)
	stored := len(rowIDs(t, l.DB(), "usage_events"))
	spooled := len(spooledIDs(t, filepath.Join(dir, "spool")))
	p := newPipeline(t, Config{Store: l, SpoolDir: filepath.Join(dir, "spool")})
	if err := p.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	ids := rowIDs(t, l.DB(), "usage_events")
	missing := 0
	for i := 0; i <= accepted; i++ {
		if !ids[event(i).RequestID] {
			missing++
		}
	}
	t.Logf("accepted %d, stored at kill %d, spooled at kill %d, missing after restart %d (bound %d)",
		accepted+1, stored, spooled, missing, killQueue+killBatch)
	if missing > killQueue+killBatch {
		t.Errorf("%d accepted events lost, bound is %d", missing, killQueue+killBatch)
	}
	if spooled == 0 {
		t.Error("the spool was not exercised")
	}
}

const killQueue, killBatch = 100, 50

// TestKill9Child is the child process of TestKill9.
func TestKill9Child(t *testing.T) {
	dir := os.Getenv(killChildEnv)
	if dir == "" {
		t.Skip("child process of TestKill9")
	}
	l := openLedger(t, dir)
	p, err := New(Config{Store: &slowStore{Store: l, delay: 5 * time.Millisecond}, Logger: slog.New(slog.DiscardHandler),
		SpoolDir: filepath.Join(dir, "spool"), QueueSize: killQueue, BatchSize: killBatch})
	if err != nil {
		t.Fatal(err)
	}
	// Print each id once Usage has returned (unbuffered): the parent
	// counts it as accepted.
	for i := 0; ; i++ {
		p.Usage(event(i))
		fmt.Fprintln(os.Stdout, i)
	}
}
