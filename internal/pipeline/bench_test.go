package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/spendops/spendops/internal/usage"
)

// latencyStore records, for each event, the time from Usage to the return
// of the commit that made it queryable.
type latencyStore struct {
	Store
	enq []atomic.Int64 // Unix ns of Usage, by event number
	mu  sync.Mutex
	lat []time.Duration
}

func (s *latencyStore) InsertEvents(ctx context.Context, evs []usage.Event) error {
	if err := s.Store.InsertEvents(ctx, evs); err != nil {
		return err
	}
	now := time.Now().UnixNano()
	s.mu.Lock()
	for i := range evs {
		n, _ := strconv.Atoi(evs[i].RequestID[len("req-"):])
		s.lat = append(s.lat, time.Duration(now-s.enq[n].Load()))
	}
	s.mu.Unlock()
	return nil
}

func (s *latencyStore) report(b *testing.B) {
	slices.Sort(s.lat)
	if len(s.lat) == 0 {
		return
	}
	q := func(f float64) float64 { return float64(s.lat[int(f*float64(len(s.lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
}

func benchEvent(i int) usage.Event {
	e := event(i)
	e.RequestID = fmt.Sprintf("req-%09d", i)
	return e
}

func runIngest(b *testing.B, rate int) {
	dir := b.TempDir()
	l := openLedger(b, dir)
	ls := &latencyStore{Store: l, enq: make([]atomic.Int64, b.N)}
	p, err := New(Config{Store: ls, Logger: slog.New(slog.DiscardHandler), SpoolDir: filepath.Join(dir, "spool")})
	if err != nil {
		b.Fatal(err)
	}
	evs := make([]usage.Event, b.N)
	for i := range evs {
		evs[i] = benchEvent(i)
	}
	const producers = 8
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range producers {
		wg.Go(func() {
			for i := w; i < b.N; i += producers {
				if rate > 0 {
					if d := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))); d > 0 {
						time.Sleep(d)
					}
				}
				ls.enq[i].Store(time.Now().UnixNano())
				p.Usage(evs[i])
			}
		})
	}
	wg.Wait()
	if err := p.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	el := time.Since(start)
	b.StopTimer()
	if n := count(b, l.DB(), "usage_events"); n != b.N {
		b.Fatalf("rows = %d, want %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
	ls.report(b)
	b.ReportMetric(testutil.ToFloat64(p.m.spilled.WithLabelValues(spillQueueFull))/float64(b.N), "spilled-frac")
}

// BenchmarkIngest pushes events through the pipeline into SQLite as fast
// as 8 producers can (the queue may overflow to the spool): sustained
// throughput, and the enqueue-to-queryable latency under saturation.
// Run with -benchtime=50000x.
func BenchmarkIngest(b *testing.B) { runIngest(b, 0) }

// BenchmarkIngestPaced offers 2,000 events/s, a heavy but not saturating
// load, for the enqueue-to-queryable latency of normal operation. Run with
// -benchtime=10000x (5 s).
func BenchmarkIngestPaced(b *testing.B) { runIngest(b, 2000) }
