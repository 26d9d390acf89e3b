package loadgen

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spendops/spendops/bench/mockupstream"
)

func TestHistogramQuantiles(t *testing.T) {
	h := NewHistogram()
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 5000 * time.Microsecond},
		{0.99, 9900 * time.Microsecond},
		{0.999, 9990 * time.Microsecond},
		{1, 10000 * time.Microsecond},
	}
	for _, tt := range tests {
		got := h.Quantile(tt.q)
		// 3 significant digits: within 0.1% (plus the bucket edge).
		if diff := got - tt.want; diff < -tt.want/500 || diff > tt.want/500 {
			t.Errorf("q%v = %v, want %v", tt.q, got, tt.want)
		}
	}
	if h.Count() != 10000 {
		t.Fatalf("count %d", h.Count())
	}
	s := h.Summarize()
	if s.P50 > s.P99 || s.P99 > s.P999 || s.P999 > s.Max {
		t.Fatalf("percentiles not monotone: %+v", s)
	}
	if m := s.Mean; m < 4990*time.Microsecond || m > 5010*time.Microsecond {
		t.Fatalf("mean %v", m)
	}
}

func TestHistogramClampAndMerge(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	a.Record(-5 * time.Millisecond) // clock skew between processes can make a chunk look early
	a.Record(0)
	b.Record(time.Hour)
	b.Record(2 * time.Millisecond)
	a.Merge(b)
	if a.Count() != 4 {
		t.Fatalf("count %d", a.Count())
	}
	if a.Quantile(0) != time.Microsecond {
		t.Fatalf("min %v, want clamped to 1µs", a.Quantile(0))
	}
	if mx := a.Max(); mx < 4*time.Minute || mx > 6*time.Minute {
		t.Fatalf("max %v, want clamped near 5m", mx)
	}
	if NewHistogram().Quantile(0.99) != 0 {
		t.Fatal("empty histogram must report 0")
	}
}

func TestIntended(t *testing.T) {
	start := time.Unix(1000, 0)
	if got := Intended(start, 0, 2000); !got.Equal(start) {
		t.Fatalf("i=0: %v", got)
	}
	if got := Intended(start, 2000, 2000); !got.Equal(start.Add(time.Second)) {
		t.Fatalf("i=rate: %v", got)
	}
	// No drift after many steps at a rate whose interval is not a whole number of nanoseconds.
	if got := Intended(start, 3_000_000, 3000); !got.Equal(start.Add(1000 * time.Second)) {
		t.Fatalf("drift: %v", got.Sub(start))
	}
}

// TestOpenLoopCountsQueueing is the coordinated-omission check: a target that serves one request at a time and
// takes 4 ms each, offered 500 req/s (one every 2 ms), builds a queue. Latency must be measured from the
// intended send time, so the last requests show about half the run's length of waiting, not 4 ms.
func TestOpenLoopCountsQueueing(t *testing.T) {
	var mu sync.Mutex
	res := OpenLoop(context.Background(), OpenLoopConfig{Rate: 500, Duration: 200 * time.Millisecond, Timeout: 5 * time.Second},
		func(ctx context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			time.Sleep(4 * time.Millisecond)
			return nil
		})
	if res.Scheduled != 100 || res.OK != 100 || res.Errors != 0 {
		t.Fatalf("scheduled %d ok %d errors %d", res.Scheduled, res.OK, res.Errors)
	}
	// 100 requests × 4 ms = 400 ms of service for a 200 ms schedule: the last waits ~200 ms beyond its slot.
	if mx := res.Latency.Max(); mx < 150*time.Millisecond {
		t.Fatalf("max latency %v: queueing hidden (closed-loop measurement?)", mx)
	}
	if p50 := res.Latency.Quantile(0.5); p50 < 50*time.Millisecond {
		t.Fatalf("p50 %v, want the queue visible at the median", p50)
	}
	if res.Elapsed < 350*time.Millisecond {
		t.Fatalf("elapsed %v shorter than the service time", res.Elapsed)
	}
}

func TestOpenLoopRateAndErrors(t *testing.T) {
	var n int
	var mu sync.Mutex
	start := time.Now()
	res := OpenLoop(context.Background(), OpenLoopConfig{Rate: 1000, Duration: 100 * time.Millisecond, MaxInFlight: 1000},
		func(ctx context.Context) error {
			mu.Lock()
			n++
			odd := n%4 == 0
			mu.Unlock()
			if odd {
				return errors.New("boom")
			}
			return nil
		})
	el := time.Since(start)
	if res.Scheduled != 100 || res.OK+res.Errors != 100 || res.Errors != 25 {
		t.Fatalf("scheduled %d ok %d errors %d", res.Scheduled, res.OK, res.Errors)
	}
	if res.FirstError != "boom" {
		t.Fatalf("first error %q", res.FirstError)
	}
	if res.ErrorRate() != 0.25 {
		t.Fatalf("error rate %v", res.ErrorRate())
	}
	// The schedule spans 99 ms: it must neither finish early (burst) nor take far longer.
	if el < 95*time.Millisecond || el > 600*time.Millisecond {
		t.Fatalf("elapsed %v for a 100 ms schedule", el)
	}
}

func TestOpenLoopOverflowAndTimeout(t *testing.T) {
	release := make(chan struct{})
	// The first 10 requests hold their slots until their 500 ms timeout, long after the 50 ms schedule ends.
	res := OpenLoop(context.Background(), OpenLoopConfig{Rate: 1000, Duration: 50 * time.Millisecond, MaxInFlight: 10, Timeout: 500 * time.Millisecond},
		func(ctx context.Context) error {
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	close(release)
	if res.Overflow != 40 || res.Errors != 50 || res.OK != 0 {
		t.Fatalf("overflow %d errors %d ok %d", res.Overflow, res.Errors, res.OK)
	}
}

func TestRunStreamsAgainstMock(t *testing.T) {
	srv := httptest.NewServer(mockupstream.New())
	defer srv.Close()
	newReq := func(ctx context.Context) (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, "POST", srv.URL+"/v1/chat/completions",
			strings.NewReader(`{"model":"m@chunks=20,delay_ms=2","stream":true,"stream_options":{"include_usage":true}}`))
		r.Header.Set("Content-Type", "application/json")
		return r, err
	}
	res := RunStreams(context.Background(), http.DefaultClient, StreamConfig{Streams: 20, Ramp: 20 * time.Millisecond, Timeout: 5 * time.Second, Chunks: 20}, newReq)
	if res.Completed != 20 || res.Failed != 0 || res.Chunks != 400 || res.Expected != 400 || res.Usage != 20 {
		t.Fatalf("%+v", res)
	}
	if res.ChunkDelay.Count() != 400 || res.TTFB.Count() != 20 {
		t.Fatalf("histogram counts %d %d", res.ChunkDelay.Count(), res.TTFB.Count())
	}
	// Loopback delivery takes micro- to milliseconds; a unit mistake (ns read as µs, or stamps from another
	// clock) would be off by orders of magnitude.
	if res.ChunkDelay.Quantile(0.5) > 500*time.Millisecond {
		t.Fatalf("loopback chunk delay p50 %v is implausible", res.ChunkDelay.Quantile(0.5))
	}
}

func TestHoldStreams(t *testing.T) {
	mock := mockupstream.New()
	srv := httptest.NewServer(mock)
	defer srv.Close()
	newReq := func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, "POST", srv.URL+"/v1/chat/completions",
			strings.NewReader(`{"model":"m@chunks=2,hold_ms=30000","stream":true}`))
	}
	opened, release := HoldStreams(context.Background(), http.DefaultClient, 30, 10*time.Millisecond, 5*time.Second, newReq)
	if opened != 30 || mock.OpenStreams() != 30 {
		t.Fatalf("opened %d, mock sees %d", opened, mock.OpenStreams())
	}
	start := time.Now()
	release()
	if time.Since(start) > 3*time.Second {
		t.Fatal("release did not close the streams promptly")
	}
}
