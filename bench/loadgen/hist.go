// Package loadgen drives loopback HTTP load for the benchmark: an open-loop scheduler that measures latency from
// each request's intended send time (so a stalled target cannot hide its queue, the "coordinated omission"
// mistake), a streaming client that times every chunk, and HDR histograms to hold the results.
package loadgen

import (
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram records durations with microsecond resolution from 1 µs to 5 minutes at 3 significant digits.
// It is safe for concurrent use.
type Histogram struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram
	// below counts values under the 1 µs floor (negative clock differences included); they are recorded as 1 µs
	// so that percentiles stay honest about how many samples there were.
	below int64
}

const histMaxMicros = int64(5 * time.Minute / time.Microsecond)

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{h: hdrhistogram.New(1, histMaxMicros, 3)}
}

// Record adds one duration. Values outside [1 µs, 5 min] are clamped to the range.
func (h *Histogram) Record(d time.Duration) {
	us := int64(d / time.Microsecond)
	h.mu.Lock()
	if us < 1 {
		us = 1
		h.below++
	}
	if us > histMaxMicros {
		us = histMaxMicros
	}
	_ = h.h.RecordValue(us)
	h.mu.Unlock()
}

// Count is the number of recorded values.
func (h *Histogram) Count() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.h.TotalCount()
}

// Quantile returns the value at quantile q in [0, 1] (0.99 is p99); 0 when the histogram is empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(h.h.ValueAtPercentile(q*100)) * time.Microsecond
}

// Max is the largest recorded value.
func (h *Histogram) Max() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return time.Duration(h.h.Max()) * time.Microsecond
}

// Mean is the mean of the recorded values.
func (h *Histogram) Mean() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return time.Duration(h.h.Mean() * float64(time.Microsecond))
}

// Merge adds every value of o into h.
func (h *Histogram) Merge(o *Histogram) {
	o.mu.Lock()
	snap := hdrhistogram.Import(o.h.Export())
	below := o.below
	o.mu.Unlock()
	h.mu.Lock()
	h.h.Merge(snap)
	h.below += below
	h.mu.Unlock()
}

// Summary is a fixed set of percentiles, the form in which results leave the load generator.
type Summary struct {
	Count int64
	P50   time.Duration
	P90   time.Duration
	P99   time.Duration
	P999  time.Duration
	Max   time.Duration
	Mean  time.Duration
}

// Summarize reads the usual percentiles.
func (h *Histogram) Summarize() Summary {
	return Summary{
		Count: h.Count(),
		P50:   h.Quantile(0.50),
		P90:   h.Quantile(0.90),
		P99:   h.Quantile(0.99),
		P999:  h.Quantile(0.999),
		Max:   h.Max(),
		Mean:  h.Mean(),
	}
}
