package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spendops/spendops/bench/report"
)

const (
	goalCPURatio      = 1.3
	goalAddedP99      = time.Millisecond
	goalPeerFactor    = 5.0
	goalChunkP99      = time.Millisecond
	goalBytesPerOpen  = 64 << 10
	goalFlatGrowth    = 16 << 20
	goalEventsPerSec  = 20000.0
	goalQueryableP99  = time.Second
	saturationErrRate = 0.01
)

// figures holds per-target medians the tables and goals share, keyed by figure name.
type figures map[string]map[string]float64

func (f figures) set(target, key string, v float64) {
	if f[target] == nil {
		f[target] = map[string]float64{}
	}
	f[target][key] = v
}

func (f figures) get(target, key string) (float64, bool) {
	v, ok := f[target][key]
	return v, ok
}

func med(xs []float64) float64 { return report.SpreadOf(xs).Median }

func dur(v float64) string { return report.Dur(time.Duration(v)) }

// ratioCells formats v's ratio to the bare proxy's and to the peer's value of the same figure.
func ratioCells(f figures, target, key string, v float64) (string, string) {
	vsBare, vsPeer := "—", "—"
	if target != "bare" {
		if b, ok := f.get("bare", key); ok {
			vsBare = report.Ratio(v, b)
		}
	}
	if target != "peer" {
		if b, ok := f.get("peer", key); ok {
			vsPeer = report.Ratio(v, b)
		}
	}
	return vsBare, vsPeer
}

func build(rep *report.Report, p plan, reps int, live []*target, idle map[string]int64, opens []openStreamsResult,
	bigs []bigResult, runs []rateRun, sats []satResult, sruns []streamRun, led *ledgerResult) {
	f := figures{}
	noise := report.Table{Title: "Noise (repeated runs)", Note: fmt.Sprintf("Median (min – max, n) over the repetitions; targets interleaved in a rotating order in each repetition. Non-streaming key rate %.0f req/s repeated %d times.", p.keyRate, reps),
		Header: []string{"figure", "target", "median (min – max, n)"}}

	// Non-streaming fixed rates.
	for _, rate := range p.rates {
		tbl := report.Table{
			Title: fmt.Sprintf("Non-streaming, %.0f req/s open loop", rate),
			Note: "Latency from each request's intended send time (queueing included). Added = target minus direct in the same repetition. " +
				"CPU = proxy process user+sys time (/proc/PID/stat) over the run divided by successful requests. Medians over repetitions.",
			Header: []string{"target", "ok / sent", "errors", "p50", "p99", "p99.9", "added p50", "added p99", "added p99.9", "added p99 vs bare", "added p99 vs peer", "CPU / req", "CPU vs bare", "CPU vs peer"},
		}
		direct := map[int]rateRun{}
		for _, r := range runs {
			if r.target == "direct" && r.rate == rate {
				direct[r.rep] = r
			}
		}
		for _, t := range live {
			var p50, p99, p999, a50, a99, a999, cpu []float64
			var ok, sent, errs int64
			firstErr := ""
			for _, r := range runs {
				if r.target != t.name || r.rate != rate {
					continue
				}
				ok += r.res.OK
				sent += r.res.Scheduled
				errs += r.res.Errors
				if firstErr == "" {
					firstErr = r.res.FirstError
				}
				p50 = append(p50, float64(r.lat.P50))
				p99 = append(p99, float64(r.lat.P99))
				p999 = append(p999, float64(r.lat.P999))
				if d, found := direct[r.rep]; found && t.name != "direct" {
					a50 = append(a50, float64(r.lat.P50-d.lat.P50))
					a99 = append(a99, float64(r.lat.P99-d.lat.P99))
					a999 = append(a999, float64(r.lat.P999-d.lat.P999))
				}
				if t.proc != nil && r.cpuPerOK > 0 {
					cpu = append(cpu, float64(r.cpuPerOK))
				}
			}
			if sent == 0 {
				continue
			}
			key := fmt.Sprintf("@%.0f", rate)
			f.set(t.name, "errrate"+key, float64(errs)/float64(sent))
			errCell := fmt.Sprintf("%.2f%%", 100*float64(errs)/float64(sent))
			if firstErr != "" {
				errCell += " (first: " + firstLine(firstErr) + ")"
			}
			row := []string{t.name, fmt.Sprintf("%d / %d", ok, sent), errCell,
				dur(med(p50)), dur(med(p99)), dur(med(p999))}
			if len(a99) > 0 {
				f.set(t.name, "added50"+key, med(a50))
				f.set(t.name, "added99"+key, med(a99))
				f.set(t.name, "added99max"+key, report.SpreadOf(a99).Max)
				f.set(t.name, "added999"+key, med(a999))
			}
			if len(cpu) > 0 {
				f.set(t.name, "cpu"+key, med(cpu))
			}
			if rate == p.keyRate {
				noise.Rows = append(noise.Rows, []string{fmt.Sprintf("p99 @ %.0f req/s", rate), t.name, report.SpreadOf(p99).Format(report.DurF)})
				if len(a99) > 0 {
					noise.Rows = append(noise.Rows, []string{fmt.Sprintf("added p99 @ %.0f req/s", rate), t.name, report.SpreadOf(a99).Format(report.DurF)})
				}
				if len(cpu) > 0 {
					noise.Rows = append(noise.Rows, []string{fmt.Sprintf("CPU / req @ %.0f req/s", rate), t.name, report.SpreadOf(cpu).Format(report.DurF)})
				}
			}
			tbl.Rows = append(tbl.Rows, row)
		}
		// Ratios need every target's figures, so they are filled in a second pass.
		for i, row := range tbl.Rows {
			name := row[0]
			key := fmt.Sprintf("@%.0f", rate)
			cells := []string{"—", "—", "—", "—", "—", "—", "—", "—"}
			if v, ok := f.get(name, "added50"+key); ok {
				cells[0] = dur(v)
				cells[1] = dur(f[name]["added99"+key])
				cells[2] = dur(f[name]["added999"+key])
				cells[3], cells[4] = ratioCells(f, name, "added99"+key, f[name]["added99"+key])
			}
			if v, ok := f.get(name, "cpu"+key); ok {
				cells[5] = dur(v)
				cells[6], cells[7] = ratioCells(f, name, "cpu"+key, v)
			}
			tbl.Rows[i] = append(row, cells...)
		}
		rep.Tables = append(rep.Tables, tbl)
	}

	// Saturation.
	st := report.Table{Title: "Saturation",
		Note: fmt.Sprintf("Highest open-loop rate with under 1%% errors (a request slower than 1 s counts as an error): the rate doubles from %.0f req/s until a %s step fails, then two bisection steps. "+
			"direct is the ceiling of the load generator and mock on their core; a proxy cannot be measured above it.", p.satStart, p.satStep),
		Header: []string{"target", "highest rate < 1% errors", "vs bare", "vs peer", "steps (offered: errors, achieved/s, p99)"}}
	for _, s := range sats {
		f.set(s.target, "sat", s.best)
	}
	for _, s := range sats {
		var steps []string
		for _, x := range s.steps {
			steps = append(steps, fmt.Sprintf("%.0f: %.1f%%, %.0f/s, %s", x.rate, 100*x.errRate, x.achieved, dur(float64(x.p99))))
		}
		b, pr := ratioCells(f, s.target, "sat", s.best)
		best := fmt.Sprintf("%.0f req/s", s.best)
		if s.best == 0 {
			best = fmt.Sprintf("below %.0f req/s", p.satStart/4)
		}
		st.Rows = append(st.Rows, []string{s.target, best, b, pr, strings.Join(steps, "; ")})
	}
	rep.Tables = append(rep.Tables, st)

	// Streaming.
	stt := report.Table{Title: fmt.Sprintf("Streaming: %d concurrent streams x %d chunks, %d ms apart", p.streams, p.chunks, p.chunkDelayMs),
		Note:   "TTFB from the stream's intended start (starts spread over 1 s) to its first SSE data line. Chunk delay = arrival at the client minus the send time the mock stamped into the chunk. Added = minus direct in the same repetition.",
		Header: []string{"target", "streams complete", "chunks delivered", "usage chunks", "TTFB p50", "TTFB p99", "added TTFB p50", "added TTFB p99", "chunk p50", "chunk p99", "added chunk p50", "added chunk p99", "added chunk p99 vs bare", "vs peer"}}
	dstream := map[int]streamRun{}
	for _, r := range sruns {
		if r.target == "direct" {
			dstream[r.rep] = r
		}
	}
	type srow struct {
		name  string
		cells []string
	}
	var srows []srow
	for _, t := range live {
		var complete, streams, chunks, expected, usage int64
		firstErr := ""
		var t50, t99, c50, c99, at50, at99, ac50, ac99 []float64
		for _, r := range sruns {
			if r.target != t.name {
				continue
			}
			complete += r.res.Completed
			streams += r.res.Streams
			chunks += r.res.Chunks
			expected += r.res.Expected
			usage += r.res.Usage
			if firstErr == "" {
				firstErr = r.res.FirstError
			}
			t50 = append(t50, float64(r.ttfb.P50))
			t99 = append(t99, float64(r.ttfb.P99))
			c50 = append(c50, float64(r.chunk.P50))
			c99 = append(c99, float64(r.chunk.P99))
			if d, ok := dstream[r.rep]; ok && t.name != "direct" {
				at50 = append(at50, float64(r.ttfb.P50-d.ttfb.P50))
				at99 = append(at99, float64(r.ttfb.P99-d.ttfb.P99))
				ac50 = append(ac50, float64(r.chunk.P50-d.chunk.P50))
				ac99 = append(ac99, float64(r.chunk.P99-d.chunk.P99))
			}
		}
		if streams == 0 {
			continue
		}
		f.set(t.name, "stream_all", boolf(chunks == expected && complete == streams && usage == streams))
		f.set(t.name, "stream_chunks", float64(chunks))
		f.set(t.name, "stream_expected", float64(expected))
		completeCell := fmt.Sprintf("%d / %d", complete, streams)
		if firstErr != "" {
			completeCell += " (first failure: " + firstLine(firstErr) + ")"
		}
		cells := []string{completeCell, fmt.Sprintf("%d / %d", chunks, expected), fmt.Sprintf("%d / %d", usage, streams),
			dur(med(t50)), dur(med(t99)), "—", "—", dur(med(c50)), dur(med(c99)), "—", "—"}
		if len(ac99) > 0 {
			f.set(t.name, "achunk99", med(ac99))
			f.set(t.name, "achunk99max", report.SpreadOf(ac99).Max)
			f.set(t.name, "attfb99", med(at99))
			cells[5], cells[6], cells[9], cells[10] = dur(med(at50)), dur(med(at99)), dur(med(ac50)), dur(med(ac99))
			if len(ac99) > 1 {
				noise.Rows = append(noise.Rows, []string{"streaming added chunk p99", t.name, report.SpreadOf(ac99).Format(report.DurF)})
			}
		}
		srows = append(srows, srow{t.name, cells})
	}
	for _, r := range srows {
		b, pr := "—", "—"
		if v, ok := f.get(r.name, "achunk99"); ok {
			b, pr = ratioCells(f, r.name, "achunk99", v)
		}
		stt.Rows = append(stt.Rows, append(append([]string{r.name}, r.cells...), b, pr))
	}
	rep.Tables = append(rep.Tables, stt)

	// Memory.
	mt := report.Table{Title: "Memory (proxy RSS)",
		Note: fmt.Sprintf("Idle = RSS 1 s after start. Open streams: %d streams held open by the mock after their first chunk; per stream = (RSS with streams open - RSS just before) / streams opened. "+
			"Large response: one non-streaming %s body; growth = peak RSS while passing it (sampled every 10 ms) - RSS before.", p.openStreams, report.Bytes(p.bigBytes)),
		Header: []string{"target", "idle RSS", "streams opened", "RSS with streams", "per open stream", "vs bare", "vs peer", "upstream streams left open 5 s after clients left", "large body received", "peak RSS growth", "growth vs bare", "time"}}
	for _, o := range opens {
		if o.opened > 0 {
			f.set(o.target, "perstream", float64(o.perOpen))
		}
	}
	for _, b := range bigs {
		if b.err == nil && b.before > 0 {
			f.set(b.target, "biggrowth", float64(max(b.peak-b.before, 0)))
		}
	}
	for _, t := range live {
		row := []string{t.name, "—", "—", "—", "—", "—", "—", "—", "—", "—", "—", "—"}
		if v, ok := idle[t.name]; ok {
			row[1] = report.Bytes(v)
		}
		for _, o := range opens {
			if o.target != t.name {
				continue
			}
			row[2] = fmt.Sprintf("%d / %d", o.opened, o.asked)
			row[3] = report.Bytes(o.during)
			if o.opened > 0 {
				row[4] = report.Bytes(o.perOpen)
				row[5], row[6] = ratioCells(f, t.name, "perstream", float64(o.perOpen))
			}
			row[7] = fmt.Sprint(o.leftOpen)
		}
		for _, b := range bigs {
			if b.target != t.name {
				continue
			}
			row[8] = fmt.Sprintf("%s / %s", report.Bytes(b.got), report.Bytes(b.size))
			if b.err != nil {
				row[8] += " (" + firstLine(b.err.Error()) + ")"
			}
			if v, ok := f.get(t.name, "biggrowth"); ok {
				row[9] = report.Bytes(int64(v))
				if bb, ok := f.get("bare", "biggrowth"); ok && t.name != "bare" {
					// A ratio to a growth within page-size noise of zero is meaningless.
					if bb < 1<<20 {
						row[10] = "bare ≈ 0"
					} else {
						row[10] = report.Ratio(v, bb)
					}
				}
			}
			row[11] = report.Dur(b.duration)
		}
		mt.Rows = append(mt.Rows, row)
	}
	rep.Tables = append(rep.Tables, mt)

	// Ledger.
	if led != nil && led.unavailable != "" {
		rep.Tables = append(rep.Tables, report.Table{Title: "Ledger (spendops)", Header: []string{"figure", "value"},
			Rows: [][]string{{"unavailable", led.unavailable}}})
	}
	if led != nil && led.unavailable == "" {
		lt := report.Table{Title: "Ledger (spendops)",
			Note: fmt.Sprintf("Queryable delay: %.0f req/s for %s; after each response ends, GET /api/v1/events?request_id=ID is polled every 10 ms. "+
				"Ingestion: %d requests closed-loop with 64 workers, then a sample of their events (every 1%% and the last to finish) polled until all are queryable; events/s = successful requests / time from the first send to the last sampled event visible. It cannot exceed the request rate the proxy served, so it is a lower bound.",
				p.ledgerRate, p.ledgerDur, p.burst),
			Header: []string{"figure", "value"}}
		lt.Rows = append(lt.Rows,
			[]string{"events found / responses", fmt.Sprintf("%d / %d (missing after 10 s: %d; request errors: %d)", led.found, led.sampled, led.missing, led.reqErrors)},
			[]string{"queryable delay p50 / p99 / max", fmt.Sprintf("%s / %s / %s", report.Dur(led.delay.P50), report.Dur(led.delay.P99), report.Dur(led.delay.Max))},
			[]string{"burst: ok / sent, request rate", fmt.Sprintf("%d / %d in %s = %.0f req/s", led.burstOK, led.burstN, report.Dur(led.burstElapsed), led.reqPerSec)},
			[]string{"burst: sampled events visible", fmt.Sprintf("%d / %d, all by %s after the first send", led.sampleFound, led.sampleSize, report.Dur(led.ingestDone))},
			[]string{"burst: last sampled event visible after the last response", report.Dur(led.ingestDone - led.burstElapsed)},
			[]string{"ingestion", fmt.Sprintf("%.0f events/s", led.eventsPerSec)},
		)
		if led.err != "" {
			lt.Rows = append(lt.Rows, []string{"problem", led.err})
		}
		rep.Tables = append(rep.Tables, lt)
	}
	if len(noise.Rows) > 0 {
		rep.Tables = append(rep.Tables, noise)
	}
	rep.Goals = goals(f, p, live, opens, bigs, led)
}

func reverse(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[len(xs)-1-i] = x
	}
	return out
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func goals(f figures, p plan, live []*target, opens []openStreamsResult, bigs []bigResult, led *ledgerResult) []report.Goal {
	have := map[string]bool{}
	for _, t := range live {
		have[t.name] = true
	}
	key := fmt.Sprintf("@%.0f", p.keyRate)
	const (
		gCPU    = "proxy CPU per non-streaming request"
		gP99    = "added p99, non-streaming"
		gPeer   = "added p99 vs the peer's"
		gChunk  = "streaming added per-chunk p99"
		gAll    = "every streamed chunk delivered"
		gOpen   = "memory per open stream"
		gFlat   = "flat memory on a large response"
		gIngest = "usage-event ingestion"
		gQuery  = "event queryable p99"
	)
	wantP99 := fmt.Sprintf("< %s at %.0f req/s", report.Dur(goalAddedP99), p.keyRate)
	wants := []struct{ name, want string }{
		{gCPU, fmt.Sprintf("≤ %.1fx the bare proxy's", goalCPURatio)},
		{gP99, wantP99},
		{gPeer, fmt.Sprintf("≥ %.0fx lower", goalPeerFactor)},
		{gChunk, "< " + report.Dur(goalChunkP99)},
		{gAll, "all chunks and usage chunks"},
		{gOpen, "< " + report.Bytes(goalBytesPerOpen)},
		{gFlat, fmt.Sprintf("peak RSS growth < %s on %s", report.Bytes(goalFlatGrowth), report.Bytes(p.bigBytes))},
		{gIngest, fmt.Sprintf("≥ %.0f events/s", goalEventsPerSec)},
		{gQuery, "< " + report.Dur(goalQueryableP99)},
	}
	if !have["spendops"] {
		var out []report.Goal
		for _, w := range wants {
			out = append(out, report.Unmeasured(w.name, w.want, "spendops unavailable"))
		}
		return out
	}
	var out []report.Goal
	// CPU: at the key rate if both spendops and bare served it with < 1% errors (requests that time out cost
	// CPU but are not counted, and clients that give up make proxies open new connections, so CPU per request
	// from an overloaded run says more about the machine than the proxy); else at the highest fixed rate where
	// both did.
	cpuRate := 0.0
	for _, r := range append([]float64{p.keyRate}, reverse(p.rates)...) {
		k := fmt.Sprintf("@%.0f", r)
		es, ok1 := f.get("spendops", "errrate"+k)
		eb, ok2 := f.get("bare", "errrate"+k)
		if ok1 && ok2 && es < 0.01 && eb < 0.01 {
			cpuRate = r
			break
		}
	}
	ck := fmt.Sprintf("@%.0f", cpuRate)
	c, okc := f.get("spendops", "cpu"+ck)
	b, okb := f.get("bare", "cpu"+ck)
	switch {
	case !have["bare"]:
		out = append(out, report.Unmeasured(gCPU, wants[0].want, "bare proxy not measured"))
	case cpuRate == 0 || !okc || !okb:
		out = append(out, report.Check(gCPU, wants[0].want, "no fixed rate at which spendops and bare both had < 1% errors", false))
	default:
		out = append(out, report.Check(gCPU, wants[0].want,
			fmt.Sprintf("%s vs %s = %s at %.0f req/s", dur(c), dur(b), report.Ratio(c, b), cpuRate), c <= goalCPURatio*b))
	}
	// Added p99: a noisy machine must not fake a PASS, so every repetition must meet the goal, not only the
	// median; the median is what is compared with the peer.
	a, okA := f.get("spendops", "added99"+key)
	amax, _ := f.get("spendops", "added99max"+key)
	er, _ := f.get("spendops", "errrate"+key)
	if okA {
		m := fmt.Sprintf("median %s, worst repetition %s", dur(a), dur(amax))
		if er >= 0.01 {
			m += fmt.Sprintf(", but %.1f%% errors", 100*er)
		}
		out = append(out, report.Check(gP99, wants[1].want, m, time.Duration(amax) < goalAddedP99 && er < 0.01))
	} else {
		out = append(out, report.Unmeasured(gP99, wants[1].want, "not measured"))
	}
	if pa, ok := f.get("peer", "added99"+key); ok && okA {
		var m string
		var pass bool
		switch {
		case a <= 0 && amax <= 0:
			m = fmt.Sprintf("spendops %s (within noise of direct), peer %s", dur(a), dur(pa))
			pass = pa > 0
		default:
			// With a median at or below zero (noise), compare against the worst repetition instead.
			s := a
			if s <= 0 {
				s = amax
			}
			m = fmt.Sprintf("peer %s / spendops %s = %s", dur(pa), dur(s), report.Ratio(pa, s))
			pass = pa >= goalPeerFactor*s
		}
		out = append(out, report.Check(gPeer, wants[2].want, m, pass))
	} else {
		out = append(out, report.Unmeasured(gPeer, wants[2].want, "peer not measured"))
	}
	// Streaming.
	if c, ok := f.get("spendops", "achunk99"); ok {
		cmax, _ := f.get("spendops", "achunk99max")
		out = append(out, report.Check(gChunk, wants[3].want, fmt.Sprintf("median %s, worst repetition %s", dur(c), dur(cmax)), time.Duration(cmax) < goalChunkP99))
	} else {
		out = append(out, report.Unmeasured(gChunk, wants[3].want, "not measured"))
	}
	if all, ok := f.get("spendops", "stream_all"); ok {
		out = append(out, report.Check(gAll, wants[4].want, fmt.Sprintf("%.0f / %.0f chunks", f["spendops"]["stream_chunks"], f["spendops"]["stream_expected"]), all == 1))
	} else {
		out = append(out, report.Unmeasured(gAll, wants[4].want, "not measured"))
	}
	// Memory.
	out = append(out, report.Unmeasured(gOpen, wants[5].want, "not measured"))
	for _, o := range opens {
		if o.target == "spendops" && o.opened > 0 {
			out[len(out)-1] = report.Check(gOpen, wants[5].want, fmt.Sprintf("%s (%d / %d streams open)", report.Bytes(o.perOpen), o.opened, o.asked),
				o.perOpen < goalBytesPerOpen && o.opened == int64(o.asked))
		}
	}
	out = append(out, report.Unmeasured(gFlat, wants[6].want, "not measured"))
	for _, b := range bigs {
		if b.target == "spendops" {
			if b.err != nil {
				out[len(out)-1] = report.Check(gFlat, wants[6].want, "request failed: "+firstLine(b.err.Error()), false)
			} else {
				g := b.peak - b.before
				out[len(out)-1] = report.Check(gFlat, wants[6].want, fmt.Sprintf("%s growth, %s received", report.Bytes(g), report.Bytes(b.got)), g < goalFlatGrowth && b.got >= b.size)
			}
		}
	}
	// Ledger.
	if led == nil || led.unavailable != "" {
		why := "not measured"
		if led != nil {
			why = "events API unavailable: " + led.unavailable
		}
		out = append(out, report.Unmeasured(gIngest, wants[7].want, why), report.Unmeasured(gQuery, wants[8].want, why))
		return out
	}
	if led.eventsPerSec > 0 {
		m := fmt.Sprintf("%.0f events/s (proxy served %.0f req/s; lower bound)", led.eventsPerSec, led.reqPerSec)
		out = append(out, report.Check(gIngest, wants[7].want, m, led.eventsPerSec >= goalEventsPerSec))
	} else {
		out = append(out, report.Check(gIngest, wants[7].want, fmt.Sprintf("sampled events visible: %d / %d", led.sampleFound, led.sampleSize), false))
	}
	m := fmt.Sprintf("%s (%d / %d events found)", report.Dur(led.delay.P99), led.found, led.sampled)
	out = append(out, report.Check(gQuery, wants[8].want, m, led.found > 0 && led.missing == 0 && led.delay.P99 < goalQueryableP99))
	return out
}
