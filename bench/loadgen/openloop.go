package loadgen

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// OpenLoopConfig describes one constant-rate run.
type OpenLoopConfig struct {
	Rate        float64       // requests per second
	Duration    time.Duration // how long to keep sending
	MaxInFlight int           // requests beyond this many outstanding are counted as errors, never queued
	// Timeout bounds each request, measured from its intended send time; a late answer is an error.
	Timeout time.Duration
}

// OpenLoopResult is what one run measured. Latency holds successful requests only, each measured from the time
// the schedule said it should be sent, not from when a goroutine got around to sending it.
type OpenLoopResult struct {
	Latency   *Histogram
	Scheduled int64 // requests the schedule called for
	OK        int64
	Errors    int64 // failed, timed out, or refused because MaxInFlight was reached
	Overflow  int64 // of Errors: refused at MaxInFlight
	// SendLag is how late the scheduler issued requests (actual minus intended start); large values mean the
	// load generator itself was starved and the rate was not really offered.
	SendLag *Histogram
	Elapsed time.Duration // from the first intended send to the last completion
	// FirstError is the text of the first failure, so a report can say why a target failed.
	FirstError string
}

// ErrorRate is Errors / Scheduled.
func (r OpenLoopResult) ErrorRate() float64 {
	if r.Scheduled == 0 {
		return 0
	}
	return float64(r.Errors) / float64(r.Scheduled)
}

// Intended is the intended send time of request i (0-based) in a schedule that starts at start with the given
// rate: start + i/rate. Using the index rather than accumulating intervals keeps rounding from drifting.
func Intended(start time.Time, i int64, rate float64) time.Time {
	return start.Add(time.Duration(float64(i) * float64(time.Second) / rate))
}

// OpenLoop sends requests at a constant rate regardless of how fast the target answers, calling do once per
// request in its own goroutine with a context that expires Timeout after the intended send time. It returns
// when every request has finished or timed out, so it is bounded by Duration + Timeout.
func OpenLoop(ctx context.Context, cfg OpenLoopConfig, do func(ctx context.Context) error) OpenLoopResult {
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 10_000
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	res := OpenLoopResult{Latency: NewHistogram(), SendLag: NewHistogram()}
	total := int64(cfg.Rate * cfg.Duration.Seconds())
	res.Scheduled = total
	var ok, errs, overflow, inflight atomic.Int64
	var wg sync.WaitGroup
	var errOnce sync.Once
	start := time.Now()
	var i int64
	for i < total && ctx.Err() == nil {
		now := time.Now()
		// Issue every request that is due; when the scheduler falls behind this sends a burst, which is what an
		// open-loop client does, and the lateness is charged to the requests through their intended times.
		for i < total {
			intended := Intended(start, i, cfg.Rate)
			if intended.After(now) {
				break
			}
			i++
			res.SendLag.Record(now.Sub(intended))
			if inflight.Load() >= int64(cfg.MaxInFlight) {
				errs.Add(1)
				overflow.Add(1)
				errOnce.Do(func() { res.FirstError = "more than MaxInFlight requests outstanding" })
				continue
			}
			inflight.Add(1)
			wg.Add(1)
			go func(intended time.Time) {
				defer wg.Done()
				defer inflight.Add(-1)
				rctx, cancel := context.WithDeadline(ctx, intended.Add(cfg.Timeout))
				err := do(rctx)
				cancel()
				if err != nil {
					errs.Add(1)
					errOnce.Do(func() { res.FirstError = err.Error() })
					return
				}
				ok.Add(1)
				res.Latency.Record(time.Since(intended))
			}(intended)
		}
		if i < total {
			if d := time.Until(Intended(start, i, cfg.Rate)); d > 0 {
				time.Sleep(d)
			}
		}
	}
	// Requests never issued because ctx ended count as errors.
	errs.Add(total - i)
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.OK, res.Errors, res.Overflow = ok.Load(), errs.Load(), overflow.Load()
	return res
}
