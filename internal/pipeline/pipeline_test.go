package pipeline

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/shopspring/decimal"

	"github.com/spendops/spendops/internal/ledger"
	"github.com/spendops/spendops/internal/store"
	"github.com/spendops/spendops/internal/usage"
)

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func openLedger(t testing.TB, dir string) *ledger.Ledger {
	t.Helper()
	db, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	l, err := ledger.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func event(i int) usage.Event {
	return usage.Event{
		RequestID:   fmt.Sprintf("req-%06d", i),
		TS:          time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond),
		TenantID:    "default",
		APIKeyID:    "key_a",
		Provider:    "openai",
		Model:       "gpt-4o",
		Outcome:     usage.OutcomeCompleted,
		UsageSource: usage.SourceProvider,
		HTTPStatus:  200,
		Dims:        map[string]string{"team": "search"},
		Tokens:      usage.Tokens{Prompt: 10, Completion: 5, Total: 15},
		RawUsage:    json.RawMessage(`{"prompt_tokens": 10, "completion_tokens": 5}`),
	}
}

func denial(i int) usage.Denial {
	return usage.Denial{RequestID: fmt.Sprintf("den-%06d", i), TS: time.Now(), Type: usage.DenialMissingKey, HTTPStatus: 401}
}

func rowIDs(t testing.TB, db *sql.DB, table string) map[string]bool {
	t.Helper()
	rows, err := db.Query(`SELECT request_id FROM ` + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out[id] = true
	}
	return out
}

func count(t testing.TB, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newPipeline(t *testing.T, cfg Config) *Pipeline {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func segments(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "seg-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// spooledIDs reads the request ids in the spool files, as a restart would.
func spooledIDs(t *testing.T, dir string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, f := range segments(t, dir) {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var rec spoolRecord
			if decodeRecord(sc.Bytes(), &rec) != nil {
				continue
			}
			if rec.Event != nil {
				ids[rec.Event.RequestID] = true
			} else {
				ids[rec.Denial.RequestID] = true
			}
		}
		fh.Close()
	}
	return ids
}

// TestConcurrentProducers: 1,000 goroutines each emit one event and one
// denial; exactly 1,000 rows of each arrive, with a roomy queue and with a
// tiny one that forces most records through the spool.
func TestConcurrentProducers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		queue     int
		wantSpill bool
	}{{"queue", 10000, false}, {"overflow to spool", 4, true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openLedger(t, dir)
			p := newPipeline(t, Config{Store: l, SpoolDir: filepath.Join(dir, "spool"), QueueSize: tc.queue, BatchSize: 100})
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range 1000 {
				wg.Go(func() {
					<-start
					p.Usage(event(i))
					p.Denial(denial(i))
				})
			}
			close(start)
			wg.Wait()
			if err := p.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			if n := count(t, l.DB(), "usage_events"); n != 1000 {
				t.Errorf("usage rows = %d, want 1000", n)
			}
			if n := len(rowIDs(t, l.DB(), "usage_events")); n != 1000 {
				t.Errorf("distinct usage ids = %d", n)
			}
			if n := count(t, l.DB(), "denial_events"); n != 1000 {
				t.Errorf("denial rows = %d, want 1000", n)
			}
			spilled := testutil.ToFloat64(p.m.spilled.WithLabelValues(spillQueueFull))
			if (spilled > 0) != tc.wantSpill {
				t.Errorf("spilled = %v, want spill %v", spilled, tc.wantSpill)
			}
			if d := testutil.ToFloat64(p.m.dropped.WithLabelValues(dropDisk)); d != 0 {
				t.Errorf("dropped = %v", d)
			}
			if s := segments(t, filepath.Join(dir, "spool")); len(s) != 0 {
				t.Errorf("spool not emptied: %v", s)
			}
		})
	}
}

// flakyStore fails while failing is set, like a store that is down.
type flakyStore struct {
	Store
	failing atomic.Bool
	calls   atomic.Int64
}

var errDown = errors.New("store down")

func (f *flakyStore) InsertEvents(ctx context.Context, evs []usage.Event) error {
	f.calls.Add(1)
	if f.failing.Load() {
		return errDown
	}
	return f.Store.InsertEvents(ctx, evs)
}

func (f *flakyStore) InsertDenials(ctx context.Context, ds []usage.Denial) error {
	f.calls.Add(1)
	if f.failing.Load() {
		return errDown
	}
	return f.Store.InsertDenials(ctx, ds)
}

func TestStoreOutageSpoolsAndReplays(t *testing.T) {
	dir := t.TempDir()
	l := openLedger(t, dir)
	fs := &flakyStore{Store: l}
	fs.failing.Store(true)
	spoolDir := filepath.Join(dir, "spool")
	p := newPipeline(t, Config{Store: fs, SpoolDir: spoolDir, BatchSize: 50, FlushInterval: 5 * time.Millisecond,
		RetryMin: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond})
	for i := range 300 {
		p.Usage(event(i))
	}
	for i := range 20 {
		p.Denial(denial(i))
	}
	waitFor(t, "all records spooled", 5*time.Second, func() bool { return p.spool.events.Load() == 320 })
	if !p.StoreDegraded() || p.Ready() != nil {
		t.Errorf("degraded=%v ready=%v", p.StoreDegraded(), p.Ready())
	}
	if n := count(t, l.DB(), "usage_events"); n != 0 {
		t.Fatalf("rows while down = %d", n)
	}
	// Retries keep probing with backoff while down.
	before := fs.calls.Load()
	time.Sleep(60 * time.Millisecond)
	if fs.calls.Load() == before {
		t.Error("no store retry while degraded")
	}
	fs.failing.Store(false)
	waitFor(t, "replay", 5*time.Second, func() bool {
		return count(t, l.DB(), "usage_events") == 300 && count(t, l.DB(), "denial_events") == 20
	})
	waitFor(t, "spool emptied", time.Second, func() bool { return len(segments(t, spoolDir)) == 0 && p.spool.events.Load() == 0 })
	if p.StoreDegraded() {
		t.Error("still degraded after recovery")
	}
	if err := p.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(p.m.spilled.WithLabelValues(spillStoreError)); got != 320 {
		t.Errorf("spilled for store errors = %v, want 320", got)
	}
	if got := testutil.ToFloat64(p.m.replayed.WithLabelValues("usage")); got != 300 {
		t.Errorf("replayed = %v", got)
	}
	if testutil.ToFloat64(p.m.storeErrors) == 0 {
		t.Error("store errors not counted")
	}
}

// TestLockedDatabase is the real outage: another connection holds SQLite's
// write lock, so the ledger's inserts time out; records wait in the spool
// and arrive once the lock is released.
func TestLockedDatabase(t *testing.T) {
	dir := t.TempDir()
	l := openLedger(t, dir)
	other, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	lock, err := other.BeginTx(t.Context(), nil) // _txlock=immediate: takes the write lock
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(`INSERT INTO schema_migrations(component, version) VALUES ('locktest', 1)`); err != nil {
		t.Fatal(err)
	}
	spoolDir := filepath.Join(dir, "spool")
	p := newPipeline(t, Config{Store: l, SpoolDir: spoolDir, BatchSize: 50, FlushInterval: 5 * time.Millisecond,
		StoreTimeout: 100 * time.Millisecond, RetryMin: 20 * time.Millisecond, RetryMax: 50 * time.Millisecond})
	for i := range 200 {
		p.Usage(event(i))
	}
	waitFor(t, "records spooled while locked", 10*time.Second, func() bool { return p.spool.events.Load() == 200 })
	if !p.StoreDegraded() {
		t.Error("not degraded while locked")
	}
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "replay after unlock", 10*time.Second, func() bool { return count(t, l.DB(), "usage_events") == 200 })
	if err := p.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(segments(t, spoolDir)) != 0 {
		t.Error("spool not emptied")
	}
}

func TestCloseDrainsQueueAndSpool(t *testing.T) {
	dir := t.TempDir()
	l := openLedger(t, dir)
	spoolDir := filepath.Join(dir, "spool")
	p := newPipeline(t, Config{Store: l, SpoolDir: spoolDir, QueueSize: 100, FlushInterval: time.Hour})
	for i := range 5000 {
		p.Usage(event(i))
	}
	// Nothing is flushed by time (1 h); Close must drain it all.
	if err := p.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := count(t, l.DB(), "usage_events"); n != 5000 {
		t.Errorf("rows = %d, want 5000", n)
	}
	if len(segments(t, spoolDir)) != 0 {
		t.Error("spool not emptied")
	}
	if p.Ready() == nil {
		t.Error("ready after Close")
	}
	// After Close records go to the spool, for the next start.
	p.Usage(event(99999))
	if ids := spooledIDs(t, spoolDir); !ids["req-099999"] {
		t.Error("record after Close not spooled")
	}
	if err := p.Close(t.Context()); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestCloseDeadlineKeepsSpool: the store stays down during shutdown; Close
// returns at its deadline saying records remain, and the next start stores
// them all.
func TestCloseDeadlineKeepsSpool(t *testing.T) {
	dir := t.TempDir()
	l := openLedger(t, dir)
	fs := &flakyStore{Store: l}
	fs.failing.Store(true)
	spoolDir := filepath.Join(dir, "spool")
	p := newPipeline(t, Config{Store: fs, SpoolDir: spoolDir, FlushInterval: time.Hour, RetryMin: 10 * time.Millisecond})
	for i := range 700 {
		p.Usage(event(i))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := p.Close(ctx)
	if err == nil || !strings.Contains(err.Error(), "700 records left in spool") {
		t.Fatalf("Close = %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Close took %v past its deadline", el)
	}
	if n := len(spooledIDs(t, spoolDir)); n != 700 {
		t.Fatalf("spooled = %d", n)
	}
	p2 := newPipeline(t, Config{Store: l, SpoolDir: spoolDir})
	if err := p2.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := count(t, l.DB(), "usage_events"); n != 700 {
		t.Errorf("rows after restart = %d", n)
	}
}

// TestCrashRecovery abandons a pipeline as kill -9 would (no drain, no
// fsync) while the store is slow, then starts a new one on the same spool
// directory: every spooled record arrives, and at most QueueSize +
// BatchSize records (the in-memory ones) are lost.
func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	l := openLedger(t, dir)
	spoolDir := filepath.Join(dir, "spool")
	const queue, batch, n = 50, 20, 1000
	slow := &slowStore{Store: l, delay: 20 * time.Millisecond}
	p := newPipeline(t, Config{Store: slow, SpoolDir: spoolDir, QueueSize: queue, BatchSize: batch, FlushInterval: time.Millisecond})
	for i := range n {
		p.Usage(event(i))
	}
	p.abandon()
	spooled := spooledIDs(t, spoolDir)
	stored := rowIDs(t, l.DB(), "usage_events")
	if len(spooled) == 0 {
		t.Fatal("test did not exercise the spool")
	}

	p2 := newPipeline(t, Config{Store: l, SpoolDir: spoolDir})
	if err := p2.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	after := rowIDs(t, l.DB(), "usage_events")
	for id := range spooled {
		if !after[id] {
			t.Fatalf("spooled record %s lost", id)
		}
	}
	for id := range stored {
		if !after[id] {
			t.Fatalf("stored record %s lost", id)
		}
	}
	lost := n - len(after)
	t.Logf("stored before crash %d, spooled %d, lost %d (bound %d)", len(stored), len(spooled), lost, queue+batch)
	if lost > queue+batch {
		t.Errorf("lost %d records, bound is %d", lost, queue+batch)
	}
}

type slowStore struct {
	Store
	delay time.Duration
}

func (s *slowStore) InsertEvents(ctx context.Context, evs []usage.Event) error {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Store.InsertEvents(ctx, evs)
}

// countingPricer prices every event at a fixed cost and counts calls per
// request id; it panics on the model "boom".
type countingPricer struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingPricer) Price(e *usage.Event) {
	c.mu.Lock()
	c.calls[e.RequestID]++
	c.mu.Unlock()
	if e.Model == "boom" {
		e.CostSource = usage.CostStandard
		panic("pricing bug")
	}
	d := decimal.RequireFromString("0.000150000")
	e.CalculatedCost, e.TotalCost, e.CostSource, e.PricingMatched, e.PricingVersion = &d, &d, usage.CostStandard, true, "v1"
}

// TestPricing: each event is priced exactly once, in the writer, whether it
// went straight to the store, through a failed batch (spooled priced) or
// through the overflow spool (spooled unpriced, priced on replay); a
// panicking Pricer leaves the event unpriced, not lost and not $0.
func TestPricing(t *testing.T) {
	dir := t.TempDir()
	l := openLedger(t, dir)
	fs := &flakyStore{Store: l}
	fs.failing.Store(true)
	pr := &countingPricer{calls: map[string]int{}}
	p := newPipeline(t, Config{Store: fs, Pricer: pr, SpoolDir: filepath.Join(dir, "spool"), QueueSize: 8, BatchSize: 10,
		FlushInterval: time.Millisecond, RetryMin: 5 * time.Millisecond, RetryMax: 10 * time.Millisecond})
	for i := range 300 {
		e := event(i)
		if i == 7 {
			e.Model = "boom"
		}
		p.Usage(e)
	}
	time.Sleep(20 * time.Millisecond)
	fs.failing.Store(false)
	if err := p.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(p.m.spilled.WithLabelValues(spillQueueFull)); got == 0 {
		t.Error("no queue-full spill: unpriced spool path not exercised")
	}
	for i := range 300 {
		if c := pr.calls[event(i).RequestID]; c != 1 {
			t.Errorf("%s priced %d times", event(i).RequestID, c)
		}
	}
	evs, _, err := l.QueryEvents(t.Context(), ledger.Filter{Limit: 1000})
	if err != nil || len(evs) != 300 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	for _, e := range evs {
		if e.Model == "boom" {
			if e.TotalCost != nil || e.CostSource != usage.CostNone {
				t.Errorf("panicked pricing stored cost %v %s", e.TotalCost, e.CostSource)
			}
			continue
		}
		if e.TotalCost == nil || e.TotalCost.String() != "0.00015" || e.PricingVersion != "v1" {
			t.Fatalf("%s unpriced: %v", e.RequestID, e.TotalCost)
		}
	}
}

// TestSpoolTornLine: a crash mid-append leaves a torn last line; replay
// stores the whole records, counts the torn one as dropped, and deletes the
// segment. Raw usage bytes come back exactly.
func TestSpoolTornLine(t *testing.T) {
	dir := t.TempDir()
	l := openLedger(t, dir)
	spoolDir := filepath.Join(dir, "spool")
	if err := os.MkdirAll(spoolDir, 0o700); err != nil {
		t.Fatal(err)
	}
	var buf []byte
	for i := range 3 {
		var err error
		if buf, err = encodeEvent(buf, event(i), false, 0); err != nil {
			t.Fatal(err)
		}
	}
	buf, _ = encodeDenial(buf, denial(1), 0)
	buf = append(buf, `{"k":"u","e":{"request_id":"torn`...)
	if err := os.WriteFile(filepath.Join(spoolDir, segName(7)), buf, 0o600); err != nil {
		t.Fatal(err)
	}
	p := newPipeline(t, Config{Store: l, SpoolDir: spoolDir})
	if got := p.spool.events.Load(); got != 5 {
		t.Errorf("spool events on start = %d, want 5", got)
	}
	if err := p.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := count(t, l.DB(), "usage_events"); n != 3 {
		t.Errorf("rows = %d", n)
	}
	if n := count(t, l.DB(), "denial_events"); n != 1 {
		t.Errorf("denials = %d", n)
	}
	if got := testutil.ToFloat64(p.m.dropped.WithLabelValues(dropCorrupt)); got != 1 {
		t.Errorf("corrupt dropped = %v, want 1", got)
	}
	evs, _, _ := l.QueryEvents(t.Context(), ledger.Filter{RequestID: "req-000001"})
	if len(evs) != 1 || string(evs[0].RawUsage) != `{"prompt_tokens": 10, "completion_tokens": 5}` {
		t.Errorf("raw usage after spool = %+v", evs)
	}
	if len(segments(t, spoolDir)) != 0 {
		t.Error("segment not deleted")
	}
	// The next segment number continues after the highest seen.
	if p.spool.nextSeq <= 7 {
		t.Errorf("nextSeq = %d", p.spool.nextSeq)
	}
}

// TestSpoolDiskFailure: when the spool cannot be written, records are
// dropped loudly (counted, Ready fails) instead of blocking or crashing.
func TestSpoolDiskFailure(t *testing.T) {
	dir := t.TempDir()
	l := openLedger(t, dir)
	fs := &flakyStore{Store: l}
	fs.failing.Store(true)
	spoolDir := filepath.Join(dir, "spool")
	p := newPipeline(t, Config{Store: fs, SpoolDir: spoolDir, QueueSize: 1, BatchSize: 1, RetryMin: time.Hour, RetryMax: time.Hour})
	// Replace the spool directory by a file: creating segments fails.
	if err := os.RemoveAll(spoolDir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(spoolDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		p.Usage(event(i))
	}
	waitFor(t, "drops counted", 2*time.Second, func() bool {
		return testutil.ToFloat64(p.m.dropped.WithLabelValues(dropDisk)) == 10
	})
	if p.Ready() == nil {
		t.Error("Ready while dropping")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_ = p.Close(ctx)
	if got := testutil.ToFloat64(p.m.dropped.WithLabelValues(dropDisk)); got != 10 {
		t.Errorf("dropped = %v, want 10", got)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Store: &flakyStore{}, Logger: slog.New(slog.DiscardHandler), SpoolDir: "x"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Config){
		"no store":      func(c *Config) { c.Store = nil },
		"no logger":     func(c *Config) { c.Logger = nil },
		"no spool dir":  func(c *Config) { c.SpoolDir = "" },
		"negative size": func(c *Config) { c.QueueSize = -1 },
		"negative time": func(c *Config) { c.FlushInterval = -1 },
		"retry order":   func(c *Config) { c.RetryMin, c.RetryMax = time.Second, time.Millisecond },
	} {
		c := ok
		mut(&c)
		if c.Validate() == nil {
			t.Errorf("%s: no error", name)
		}
		if _, err := New(c); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

func TestMetricsRegister(t *testing.T) {
	dir := t.TempDir()
	l := openLedger(t, dir)
	p := newPipeline(t, Config{Store: l, SpoolDir: filepath.Join(dir, "spool")})
	reg := prometheus.NewPedanticRegistry()
	for _, c := range p.Collectors() {
		if err := reg.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	p.Usage(event(1))
	if err := p.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, want := range []string{"spendops_pipeline_queue_depth", "spendops_pipeline_batch_size", "spendops_pipeline_batch_commit_seconds",
		"spendops_pipeline_event_latency_seconds", "spendops_pipeline_spool_bytes", "spendops_pipeline_spool_events",
		"spendops_pipeline_written_total", "spendops_pipeline_dropped_total", "spendops_pipeline_store_errors_total"} {
		if !names[want] {
			t.Errorf("metric %s missing", want)
		}
	}
	if got := testutil.ToFloat64(p.m.written.WithLabelValues("usage")); got != 1 {
		t.Errorf("written = %v", got)
	}
}

// TestMissingRequestID: a record without request id (a caller bug) is kept
// under a generated id instead of poisoning its batch forever.
func TestMissingRequestID(t *testing.T) {
	dir := t.TempDir()
	l := openLedger(t, dir)
	p := newPipeline(t, Config{Store: l, SpoolDir: filepath.Join(dir, "spool"), Logger: slog.New(slog.DiscardHandler)})
	e := event(1)
	e.RequestID = ""
	p.Usage(e)
	p.Usage(e)
	p.Usage(event(2))
	p.Denial(usage.Denial{TS: time.Now(), Type: usage.DenialBadRequest})
	if err := p.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	ids := rowIDs(t, l.DB(), "usage_events")
	missing := 0
	for id := range ids {
		if strings.HasPrefix(id, "missing-") {
			missing++
		}
	}
	if len(ids) != 3 || missing != 2 || count(t, l.DB(), "denial_events") != 1 {
		t.Errorf("ids = %v", ids)
	}
}
