package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spendops/spendops/bench/loadgen"
	"github.com/spendops/spendops/bench/mockupstream"
)

var smallBody = []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hi"}],"max_tokens":16}`)

func streamBody(chunks, delayMs, holdMs int) []byte {
	return []byte(fmt.Sprintf(`{"model":"gpt-4o-mini@chunks=%d,delay_ms=%d,hold_ms=%d","messages":[{"role":"user","content":"Say hi"}],"stream":true,"stream_options":{"include_usage":true}}`,
		chunks, delayMs, holdMs))
}

func bigBody(n int64) []byte {
	return []byte(fmt.Sprintf(`{"model":"gpt-4o-mini@bytes=%d","messages":[{"role":"user","content":"Say hi"}]}`, n))
}

// settle lets connections and timers from the previous run drain so runs do not bleed into each other.
func settle() { time.Sleep(300 * time.Millisecond) }

// ---- non-streaming fixed rate ----

type rateRun struct {
	target   string
	rate     float64
	rep      int
	res      loadgen.OpenLoopResult
	lat      loadgen.Summary
	cpu      time.Duration // proxy CPU during the measured window
	cpuPerOK time.Duration
}

func runRate(t *target, rate float64, dur, timeout time.Duration, rep int) rateRun {
	do := t.do(t.newReq(smallBody))
	cfg := loadgen.OpenLoopConfig{Rate: rate, Duration: dur, MaxInFlight: 5000, Timeout: timeout}
	// Warm-up: connections opened, JIT (peer) and caches warm; not measured.
	warm := cfg
	warm.Duration = min(dur/8, time.Second)
	loadgen.OpenLoop(context.Background(), warm, do)
	var c0 time.Duration
	if t.proc != nil {
		c0 = t.proc.cpu()
	}
	res := loadgen.OpenLoop(context.Background(), cfg, do)
	r := rateRun{target: t.name, rate: rate, rep: rep, res: res, lat: res.Latency.Summarize()}
	if t.proc != nil {
		r.cpu = t.proc.cpu() - c0
		if res.OK > 0 {
			r.cpuPerOK = r.cpu / time.Duration(res.OK)
		}
	}
	settle()
	return r
}

// ---- saturation ----

type satStep struct {
	rate     float64
	errRate  float64
	achieved float64
	p99      time.Duration
}

type satResult struct {
	target string
	best   float64 // highest rate with < 1% errors
	steps  []satStep
}

// saturate doubles the offered rate from start until a step has ≥1% errors (a request slower than 1 s counts
// as an error), then bisects between the last good and the first bad rate, at most maxSteps steps in all.
func saturate(t *target, start float64, stepDur time.Duration, maxRate float64, maxSteps int) satResult {
	do := t.do(t.newReq(smallBody))
	out := satResult{target: t.name}
	step := func(rate float64) bool {
		res := loadgen.OpenLoop(context.Background(), loadgen.OpenLoopConfig{Rate: rate, Duration: stepDur, MaxInFlight: 5000, Timeout: time.Second}, do)
		s := satStep{rate: rate, errRate: res.ErrorRate(), p99: res.Latency.Quantile(0.99)}
		if res.Elapsed > 0 {
			s.achieved = float64(res.OK) / res.Elapsed.Seconds()
		}
		out.steps = append(out.steps, s)
		time.Sleep(700 * time.Millisecond)
		return s.errRate < 0.01
	}
	good, bad := 0.0, 0.0
	for r := start; r <= maxRate && len(out.steps) < maxSteps; r *= 2 {
		if step(r) {
			good = r
			continue
		}
		bad = r
		break
	}
	if bad == 0 {
		out.best = good
		return out
	}
	for len(out.steps) < maxSteps {
		mid := (good + bad) / 2
		if good == 0 {
			mid = bad / 2
		}
		if step(mid) {
			good = mid
		} else {
			bad = mid
		}
	}
	out.best = good
	return out
}

// ---- streaming ----

type streamRun struct {
	target string
	rep    int
	res    loadgen.StreamResult
	ttfb   loadgen.Summary
	chunk  loadgen.Summary
}

func runStreams(t *target, streams, chunks, delayMs int, rep int) streamRun {
	res := loadgen.RunStreams(context.Background(), t.client, loadgen.StreamConfig{
		Streams: streams, Ramp: time.Second, Timeout: 60 * time.Second, Chunks: chunks,
	}, t.newReq(streamBody(chunks, delayMs, 0)))
	settle()
	return streamRun{target: t.name, rep: rep, res: res, ttfb: res.TTFB.Summarize(), chunk: res.ChunkDelay.Summarize()}
}

// ---- memory ----

type openStreamsResult struct {
	target   string
	asked    int
	leftOpen int64 // upstream streams still open at the mock 5 s after the clients left
	opened   int64
	before   int64 // RSS just before opening
	during   int64 // RSS with all streams open
	perOpen  int64
	duration time.Duration
}

func runOpenStreams(t *target, mock *mockupstream.Server, n int, ramp, openWait time.Duration) openStreamsResult {
	out := openStreamsResult{target: t.name, asked: n}
	runtimeGCPause()
	out.before = t.proc.mem().RSS
	start := time.Now()
	// The mock ends each stream by itself shortly after the measurement, in case a proxy does not pass the
	// client's disconnect upstream.
	opened, release := loadgen.HoldStreams(context.Background(), t.client, n, ramp, ramp+openWait,
		t.newReq(streamBody(2, 0, int((ramp+openWait+10*time.Second)/time.Millisecond))))
	out.opened = opened
	time.Sleep(time.Second) // let the proxy's allocations for the streams settle
	out.during = t.proc.mem().RSS
	out.duration = time.Since(start)
	if opened > 0 {
		out.perOpen = (out.during - out.before) / opened
	}
	release()
	// Wait (bounded) for the mock to see every upstream stream end, so the next scenario starts clean.
	deadline := time.Now().Add(5 * time.Second)
	for mock.OpenStreams() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	out.leftOpen = mock.OpenStreams()
	t.client.CloseIdleConnections()
	settle()
	return out
}

type bigResult struct {
	target   string
	size     int64
	got      int64
	before   int64
	peak     int64
	err      error
	duration time.Duration
}

func runBig(t *target, size int64, timeout time.Duration) bigResult {
	out := bigResult{target: t.name, size: size}
	if t.proc != nil {
		out.before = t.proc.mem().RSS
	}
	var peak atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if t.proc != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk := time.NewTicker(10 * time.Millisecond)
			defer tk.Stop()
			for {
				if m := t.proc.mem().RSS; m > peak.Load() {
					peak.Store(m)
				}
				select {
				case <-stop:
					return
				case <-tk.C:
				}
			}
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	req, _ := t.newReq(bigBody(size))(ctx)
	resp, err := t.client.Do(req)
	if err == nil {
		out.got, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
	}
	out.duration = time.Since(start)
	out.err = err
	close(stop)
	wg.Wait()
	out.peak = peak.Load()
	settle()
	return out
}

// ---- ledger (spendops only) ----

type ledgerResult struct {
	unavailable string // why the ledger could not be measured (admin API missing or refusing)
	// queryable delay: response end to event visible through the admin API
	delay     loadgen.Summary
	sampled   int
	found     int
	missing   int
	reqErrors int64
	// ingestion burst
	burstN       int
	burstOK      int64
	burstElapsed time.Duration // first send to last response
	ingestDone   time.Duration // first send to every sampled event queryable
	sampleFound  int
	sampleSize   int
	eventsPerSec float64
	reqPerSec    float64
	err          string
}

// statusError is a non-200 answer from the admin API.
type statusError int

func (e statusError) Error() string { return fmt.Sprintf("admin API answered HTTP %d", int(e)) }

// eventVisible asks the admin API whether the event for requestID is stored.
func eventVisible(ctx context.Context, t *target, c *http.Client, requestID string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.base+"/api/v1/events?request_id="+requestID, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+t.adminToken)
	resp, err := c.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return false, statusError(resp.StatusCode)
	}
	var v struct {
		Events []json.RawMessage `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return false, err
	}
	return len(v.Events) > 0, nil
}

// probeEvents checks that the admin events API answers before the ledger scenario relies on it, so a missing
// API is reported in one line instead of thousands of polls that time out.
func probeEvents(t *target) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := eventVisible(ctx, t, t.client, "bench-probe-no-such-request")
	if err != nil {
		return fmt.Errorf("GET /api/v1/events?request_id=...: %w", err)
	}
	return nil
}

// waitVisible polls every 10 ms until the event is visible or maxWait passes; it returns when it was first seen.
func waitVisible(t *target, c *http.Client, id string, maxWait time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(maxWait)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		ok, err := eventVisible(ctx, t, c, id)
		cancel()
		if ok {
			return time.Now(), true
		}
		var se statusError
		if errors.As(err, &se) && se < 500 {
			return time.Time{}, false // the API refuses; polling on will not change that
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Time{}, false
}

func runLedger(t *target, rate float64, dur time.Duration, burstN, workers int) ledgerResult {
	var out ledgerResult
	admin := newClient()
	newReq := t.newReq(smallBody)
	// 1. Queryable delay at a moderate open-loop rate: every request's event is polled for.
	hist := loadgen.NewHistogram()
	var mu sync.Mutex
	var pollers sync.WaitGroup
	var firstErr string
	res := loadgen.OpenLoop(context.Background(), loadgen.OpenLoopConfig{Rate: rate, Duration: dur, MaxInFlight: 2000, Timeout: 2 * time.Second},
		func(ctx context.Context) error {
			req, err := newReq(ctx)
			if err != nil {
				return err
			}
			resp, err := t.client.Do(req)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			end := time.Now()
			if err != nil || resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d: %v", resp.StatusCode, err)
			}
			id := resp.Header.Get("X-Aso-Request-Id")
			mu.Lock()
			out.sampled++
			if id == "" && firstErr == "" {
				firstErr = "response without X-ASO-Request-Id"
			}
			mu.Unlock()
			if id == "" {
				return nil
			}
			pollers.Add(1)
			go func() {
				defer pollers.Done()
				at, ok := waitVisible(t, admin, id, 10*time.Second)
				mu.Lock()
				defer mu.Unlock()
				if !ok {
					out.missing++
					return
				}
				out.found++
				hist.Record(at.Sub(end))
			}()
			return nil
		})
	pollers.Wait()
	out.reqErrors = res.Errors
	out.delay = hist.Summarize()
	out.err = firstErr
	settle()

	// 2. Ingestion: a closed-loop burst as fast as the proxy serves, then the time until a sample of the events
	// (spread over the burst, plus the last ones to finish) are all queryable.
	out.burstN = burstN
	ids := make([]string, burstN)
	var next atomic.Int64
	var okN atomic.Int64
	var endMu sync.Mutex
	var lastIDs []string
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= burstN {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				req, _ := newReq(ctx)
				resp, err := t.client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						okN.Add(1)
						ids[i] = resp.Header.Get("X-Aso-Request-Id")
						endMu.Lock()
						lastIDs = append(lastIDs, ids[i])
						if len(lastIDs) > 4*workers {
							lastIDs = lastIDs[len(lastIDs)-2*workers:]
						}
						endMu.Unlock()
					}
				}
				cancel()
			}
		}()
	}
	wg.Wait()
	out.burstElapsed = time.Since(start)
	out.burstOK = okN.Load()
	sample := map[string]bool{}
	for i := 0; i < burstN; i += max(burstN/100, 1) {
		if ids[i] != "" {
			sample[ids[i]] = true
		}
	}
	for _, id := range lastIDs {
		if id != "" {
			sample[id] = true
		}
	}
	keys := make([]string, 0, len(sample))
	for id := range sample {
		keys = append(keys, id)
	}
	sort.Strings(keys)
	out.sampleSize = len(keys)
	var latest time.Time
	var found atomic.Int64
	var lmu sync.Mutex
	var pw sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, id := range keys {
		pw.Add(1)
		sem <- struct{}{}
		go func(id string) {
			defer pw.Done()
			defer func() { <-sem }()
			at, ok := waitVisible(t, admin, id, 30*time.Second)
			if !ok {
				return
			}
			found.Add(1)
			lmu.Lock()
			if at.After(latest) {
				latest = at
			}
			lmu.Unlock()
		}(id)
	}
	pw.Wait()
	out.sampleFound = int(found.Load())
	if out.burstElapsed > 0 {
		out.reqPerSec = float64(out.burstOK) / out.burstElapsed.Seconds()
	}
	if out.sampleFound == out.sampleSize && out.sampleSize > 0 {
		// The sampled events were seen at or before `latest`, but polling 16 at a time may see some late; the
		// figure is therefore a lower bound on the ingestion rate.
		out.ingestDone = latest.Sub(start)
		out.eventsPerSec = float64(out.burstOK) / out.ingestDone.Seconds()
	}
	settle()
	return out
}
