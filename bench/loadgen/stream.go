package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spendops/spendops/bench/mockupstream"
)

// NewRequest builds one request for a target; the load generator calls it once per request.
type NewRequest func(ctx context.Context) (*http.Request, error)

// StreamConfig describes a run of concurrent SSE streams.
type StreamConfig struct {
	Streams int           // concurrent streams
	Ramp    time.Duration // stream j is started at j*Ramp/Streams, so connection setup is not one SYN burst
	Timeout time.Duration // per stream, from its intended start
	Chunks  int           // content chunks each stream should deliver
}

// StreamResult is what a streaming run measured.
type StreamResult struct {
	// TTFB is from a stream's intended start to its first SSE data line.
	TTFB *Histogram
	// ChunkDelay is, for each stamped chunk, its arrival time at the client minus the time the mock sent it.
	ChunkDelay *Histogram
	Streams    int64
	Completed  int64 // status 200 and [DONE] seen
	Failed     int64
	Chunks     int64 // stamped content chunks received
	Expected   int64 // Streams * Chunks
	Usage      int64 // streams whose final usage chunk (choices:[] with usage) arrived
	FirstError string
}

// RunStreams opens cfg.Streams streams and reads each to the end, timing every chunk.
func RunStreams(ctx context.Context, client *http.Client, cfg StreamConfig, newReq NewRequest) StreamResult {
	res := StreamResult{TTFB: NewHistogram(), ChunkDelay: NewHistogram(), Streams: int64(cfg.Streams),
		Expected: int64(cfg.Streams) * int64(cfg.Chunks)}
	var completed, failed, chunks, usage atomic.Int64
	var wg sync.WaitGroup
	var errOnce sync.Once
	start := time.Now()
	for j := 0; j < cfg.Streams; j++ {
		intended := start.Add(time.Duration(int64(cfg.Ramp) * int64(j) / int64(max(cfg.Streams, 1))))
		if d := time.Until(intended); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		wg.Add(1)
		go func(intended time.Time) {
			defer wg.Done()
			sctx, cancel := context.WithDeadline(ctx, intended.Add(cfg.Timeout))
			defer cancel()
			n, sawUsage, err := readStream(sctx, client, newReq, intended, res.TTFB, res.ChunkDelay)
			chunks.Add(n)
			if sawUsage {
				usage.Add(1)
			}
			if err != nil {
				failed.Add(1)
				errOnce.Do(func() { res.FirstError = err.Error() })
				return
			}
			completed.Add(1)
		}(intended)
	}
	wg.Wait()
	res.Completed, res.Failed, res.Chunks, res.Usage = completed.Load(), failed.Load(), chunks.Load(), usage.Load()
	return res
}

var errNoDone = errors.New("stream ended without [DONE]")

func readStream(ctx context.Context, client *http.Client, newReq NewRequest, intended time.Time, ttfb, delay *Histogram) (int64, bool, error) {
	req, err := newReq(ctx)
	if err != nil {
		return 0, false, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return 0, false, errors.New("status " + resp.Status)
	}
	br := bufio.NewReaderSize(resp.Body, 4096)
	var n int64
	first, sawUsage := true, false
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 && bytes.HasPrefix(line, []byte("data:")) {
			now := time.Now()
			if first {
				ttfb.Record(now.Sub(intended))
				first = false
			}
			if ns, ok := mockupstream.ParseStamp(line); ok {
				delay.Record(time.Duration(now.UnixNano() - ns))
				n++
			} else if bytes.Contains(line, []byte(`"choices":[]`)) && bytes.Contains(line, []byte(`"usage"`)) {
				sawUsage = true
			} else if bytes.HasPrefix(bytes.TrimSpace(line[5:]), []byte("[DONE]")) {
				_, _ = io.Copy(io.Discard, br)
				return n, sawUsage, nil
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = errNoDone
			}
			return n, sawUsage, err
		}
	}
}

// HoldStreams opens n streams that the mock keeps open (use the hold_ms option) and returns once each has
// delivered its first stamped chunk or failed, or openTimeout has passed. The streams stay open until release is called;
// release waits for them to close.
func HoldStreams(ctx context.Context, client *http.Client, n int, ramp, openTimeout time.Duration, newReq NewRequest) (opened int64, release func()) {
	hctx, cancel := context.WithCancel(ctx)
	var ready sync.WaitGroup
	var done sync.WaitGroup
	var ok atomic.Int64
	start := time.Now()
	for j := 0; j < n && hctx.Err() == nil; j++ {
		if d := time.Until(start.Add(time.Duration(int64(ramp) * int64(j) / int64(max(n, 1))))); d > 0 {
			time.Sleep(d)
		}
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			signalled := false
			signal := func() {
				if !signalled {
					signalled = true
					ready.Done()
				}
			}
			defer signal()
			req, err := newReq(hctx)
			if err != nil {
				return
			}
			resp, err := client.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return
			}
			br := bufio.NewReaderSize(resp.Body, 1024)
			for {
				line, err := br.ReadSlice('\n')
				if _, isChunk := mockupstream.ParseStamp(line); isChunk && !signalled {
					ok.Add(1)
					signal()
				}
				if err != nil && err != bufio.ErrBufferFull {
					return
				}
			}
		}()
	}
	all := make(chan struct{})
	go func() { ready.Wait(); close(all) }()
	select {
	case <-all:
	case <-time.After(openTimeout):
	}
	return ok.Load(), func() { cancel(); done.Wait() }
}
