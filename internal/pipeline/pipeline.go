// Package pipeline carries usage and denial events from request goroutines
// to the ledger without ever blocking a request: a bounded in-memory queue,
// an on-disk spool for overflow and store outages, and one batch writer that
// prices events and commits them in groups.
//
// # What is lost when the process is killed (kill -9)
//
// Only records held in memory: those in the queues (at most QueueSize
// usage events plus QueueSize denials) and the writer's current batch not
// yet committed (at most BatchSize of each). Records in the spool survive,
// because each spool append is a write(2) before it returns; they are
// replayed by the next start with the same spool directory, and replay is
// idempotent because the store skips request ids it already has. After a
// power loss or kernel crash, additionally lost can be the overflow records
// appended in the last SpoolSync interval (writer spills are fsynced before
// they count as done) and the store's own last commits (SQLite WAL with
// synchronous=NORMAL). Close drains queue and spool into the store; when
// its context ends first, what remains is fsynced to the spool, not lost.
package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spendops/spendops/internal/usage"
)

// Store is where batches go: the SQLite ledger today, PostgreSQL or a NATS
// JetStream publisher later. Each call must be atomic (all of the batch or
// none) and idempotent on request_id, because the pipeline delivers at
// least once: a batch that failed or was spooled may be written again.
// An error means "try again later": the batch is spooled and retried until
// it succeeds, so a Store must not reject records permanently (the
// pipeline itself guarantees a non-empty request_id). Calls come from one
// goroutine at a time.
type Store interface {
	InsertEvents(ctx context.Context, events []usage.Event) error
	InsertDenials(ctx context.Context, denials []usage.Denial) error
}

// Config configures a [Pipeline].
type Config struct {
	// Store receives the batches. Required.
	Store Store
	// Pricer, if set, fills each event's costs in the writer goroutine
	// before it is stored. Events spooled by request goroutines are priced
	// when replayed.
	Pricer usage.Pricer
	// Logger receives store outages, spool errors and drops. Required.
	Logger *slog.Logger
	// SpoolDir holds the spool's segment files (e.g. <data-dir>/spool).
	// Required. It must not be shared by two running pipelines.
	SpoolDir string
	// QueueSize is the capacity of each in-memory queue (usage, denials).
	// Default 10000. Each slot holds one event (about 1 KB).
	QueueSize int
	// BatchSize is the most records per store commit. Default 500.
	BatchSize int
	// FlushInterval is the longest a record waits for its batch to fill
	// before the batch is committed anyway. Default 50 ms.
	FlushInterval time.Duration
	// StoreTimeout bounds one store call; a call that times out counts as
	// a failure and its batch goes to the spool. Default 10 s.
	StoreTimeout time.Duration
	// RetryMin and RetryMax bound the exponential backoff between store
	// attempts while the store fails. Defaults 100 ms and 5 s.
	RetryMin, RetryMax time.Duration
	// SpoolSegmentBytes is the size at which a spool segment is sealed and
	// a new one started. Default 16 MiB.
	SpoolSegmentBytes int64
	// SpoolSync is how often records spooled by request goroutines (queue
	// full) are fsynced. Default 1 s; negative fsyncs every such append
	// (slower under overflow, nothing lost on power loss).
	SpoolSync time.Duration
}

func (c Config) withDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.QueueSize == 0 {
		c.QueueSize = 10000
	}
	if c.BatchSize == 0 {
		c.BatchSize = 500
	}
	def(&c.FlushInterval, 50*time.Millisecond)
	def(&c.StoreTimeout, 10*time.Second)
	def(&c.RetryMin, 100*time.Millisecond)
	def(&c.RetryMax, 5*time.Second)
	def(&c.SpoolSync, time.Second)
	if c.SpoolSegmentBytes == 0 {
		c.SpoolSegmentBytes = 16 << 20
	}
	return c
}

// Validate reports a missing dependency or an impossible setting. Zero
// numeric fields mean their defaults.
func (c Config) Validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("pipeline: Store is required"))
	}
	if c.Logger == nil {
		errs = append(errs, errors.New("pipeline: Logger is required"))
	}
	if c.SpoolDir == "" {
		errs = append(errs, errors.New("pipeline: SpoolDir is required"))
	}
	if c.QueueSize < 0 || c.BatchSize < 0 || c.SpoolSegmentBytes < 0 {
		errs = append(errs, errors.New("pipeline: QueueSize, BatchSize and SpoolSegmentBytes must not be negative"))
	}
	if c.FlushInterval < 0 || c.StoreTimeout < 0 || c.RetryMin < 0 || c.RetryMax < 0 {
		errs = append(errs, errors.New("pipeline: durations must not be negative (except SpoolSync)"))
	}
	if c.RetryMax != 0 && c.RetryMin > c.RetryMax {
		errs = append(errs, errors.New("pipeline: RetryMin exceeds RetryMax"))
	}
	return errors.Join(errs...)
}

type queued[T any] struct {
	v  T
	at time.Time
}

// Pipeline implements [usage.Sink]. Create it with [New]; stop it with
// [Pipeline.Close].
type Pipeline struct {
	cfg      Config
	log      *slog.Logger
	usageCh  chan queued[usage.Event]
	denialCh chan queued[usage.Denial]
	spool    *spool
	m        *metrics

	// mu orders Close against producers: once closed is set under the
	// write lock, no producer is between its check and its channel send,
	// so the writer can drain the channels completely.
	mu     sync.RWMutex
	closed bool

	ctx    context.Context // parent of store calls; cancelled when Close's ctx ends
	cancel context.CancelFunc
	stop   chan struct{}
	kill   chan struct{}
	// wake tells the writer that a request goroutine spilled records: the
	// writer may be idle in select with replay off (the spool was empty
	// when it looked), and nothing else would make it look again.
	wake      chan struct{}
	done      chan struct{}
	syncStop  chan struct{}
	syncDone  chan struct{}
	closeOnce sync.Once
	drainCtx  context.Context
	closeErr  error

	spoolFailing atomic.Bool
	storeDown    atomic.Bool

	// Writer goroutine state.
	evs        []queued[usage.Event]
	dens       []queued[usage.Denial]
	flushTimer *time.Timer
	timerArmed bool
	degraded   bool
	backoff    time.Duration
	retryAt    time.Time
	rd         *segmentReader
	rb         *replayBatch
}

// New opens the spool (taking over segments left by an earlier run, which
// are replayed first) and starts the writer.
func New(cfg Config) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	sp, err := openSpool(cfg.SpoolDir, cfg.SpoolSegmentBytes, cfg.SpoolSync < 0)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pipeline{
		cfg:        cfg,
		log:        cfg.Logger.With("component", "pipeline"),
		usageCh:    make(chan queued[usage.Event], cfg.QueueSize),
		wake:       make(chan struct{}, 1),
		denialCh:   make(chan queued[usage.Denial], cfg.QueueSize),
		spool:      sp,
		ctx:        ctx,
		cancel:     cancel,
		stop:       make(chan struct{}),
		kill:       make(chan struct{}),
		done:       make(chan struct{}),
		syncStop:   make(chan struct{}),
		syncDone:   make(chan struct{}),
		flushTimer: time.NewTimer(time.Hour),
	}
	p.flushTimer.Stop()
	p.m = newMetrics(p)
	if n := sp.events.Load(); n > 0 {
		p.log.Info("replaying spooled records from an earlier run", "records", n, "bytes", sp.bytes.Load(), "dir", cfg.SpoolDir)
	}
	go p.run()
	go p.syncLoop()
	return p, nil
}

var _ usage.Sink = (*Pipeline)(nil)

// Usage queues an event. It never blocks on storage: when the queue is
// full, or after Close, the event is appended to the spool instead. The
// caller must not modify e's Dims or RawUsage afterwards.
func (p *Pipeline) Usage(e usage.Event) {
	if e.RequestID == "" {
		e.RequestID = p.missingID("usage")
	}
	enqueue(p, p.usageCh, e, func(at int64) ([]byte, error) { return encodeEvent(nil, e, false, at) })
}

// Denial queues a denial, like [Pipeline.Usage].
func (p *Pipeline) Denial(d usage.Denial) {
	if d.RequestID == "" {
		d.RequestID = p.missingID("denial")
	}
	enqueue(p, p.denialCh, d, func(at int64) ([]byte, error) { return encodeDenial(nil, d, at) })
}

// enqueue puts v on its queue, or spills it (encoded at the enqueue time)
// when the queue is full or the pipeline closed.
func enqueue[T any](p *Pipeline, ch chan queued[T], v T, encode func(at int64) ([]byte, error)) {
	now := time.Now()
	p.mu.RLock()
	if !p.closed {
		select {
		case ch <- queued[T]{v, now}:
			p.mu.RUnlock()
			return
		default:
		}
	}
	reason := spillQueueFull
	if p.closed {
		reason = spillClosed
	}
	p.mu.RUnlock()
	buf, err := encode(now.UnixNano())
	p.spill(buf, 1, err, false, reason)
}

// missingID names a record that arrived without a request id (a bug in
// the caller). The store would reject it, and a rejected batch would be
// retried forever; dropping it would lose spend. So it is kept under a
// generated id, unique and stable across spool and replay, and logged.
func (p *Pipeline) missingID(kind string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	id := "missing-" + hex.EncodeToString(b[:])
	p.log.Warn("record without request_id; stored under a generated id", "kind", kind, "request_id", id)
	return id
}

// spill appends encoded records to the spool. It is the last line of
// defence: when it fails the records are lost, loudly.
func (p *Pipeline) spill(lines []byte, n int64, encErr error, sync bool, reason string) {
	err := encErr
	if err == nil {
		err = p.spool.append(lines, n, sync)
	}
	if err != nil {
		p.spoolFailing.Store(true)
		p.m.dropped.WithLabelValues(dropDisk).Add(float64(n))
		p.log.Error("USAGE RECORDS LOST: cannot write the spool", "records", n, "reason", reason, "dir", p.cfg.SpoolDir, "err", err)
		return
	}
	p.spoolFailing.Store(false)
	p.m.spilled.WithLabelValues(reason).Add(float64(n))
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Collectors returns the pipeline's Prometheus metrics, for registering:
// queue depth and capacity, batch size, commit latency, enqueue-to-commit
// latency, spool bytes and records, records written, spilled, replayed and
// dropped (expected 0), store errors and store state.
func (p *Pipeline) Collectors() []prometheus.Collector { return p.m.all }

// Ready reports whether the pipeline can keep every record: it fails after
// Close and while the spool disk fails (records are then being dropped). A
// store outage alone keeps it ready, since records wait safely in the
// spool; see [Pipeline.StoreDegraded].
func (p *Pipeline) Ready() error {
	p.mu.RLock()
	closed := p.closed
	p.mu.RUnlock()
	if closed {
		return errors.New("pipeline closed")
	}
	if p.spoolFailing.Load() {
		return errors.New("pipeline spool cannot be written: usage records are being dropped")
	}
	return nil
}

// StoreDegraded reports whether the last store write failed (records are
// going to the spool until a retry succeeds).
func (p *Pipeline) StoreDegraded() bool { return p.storeDown.Load() }

// Close stops accepting records into the queue (later ones go to the
// spool), then drains the queue and the spool into the store. It returns
// when everything is stored, or when ctx ends: then the records not yet
// stored are left, fsynced, in the spool for the next start, and Close
// returns an error saying how many. Close is for SIGTERM; calling it more
// than once returns the first result.
func (p *Pipeline) Close(ctx context.Context) error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		p.drainCtx = ctx
		stopCancel := context.AfterFunc(ctx, p.cancel)
		close(p.stop)
		<-p.done
		stopCancel()
		close(p.syncStop)
		<-p.syncDone
		err := p.spool.close()
		p.cancel()
		if n := p.spool.events.Load(); n > 0 {
			cause := ctx.Err()
			if cause == nil {
				cause = errors.New("store unavailable")
			}
			p.closeErr = fmt.Errorf("pipeline: %d records left in spool %s for the next start: %w", n, p.cfg.SpoolDir, cause)
		} else if err != nil {
			p.closeErr = fmt.Errorf("pipeline: %w", err)
		}
	})
	return p.closeErr
}

// abandon stops the writer where it is, without draining or fsyncing, as
// kill -9 would: the test seam for crash recovery.
func (p *Pipeline) abandon() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	close(p.kill)
	p.cancel()
	<-p.done
	close(p.syncStop)
	<-p.syncDone
	p.spool.abandon()
}

func (p *Pipeline) syncLoop() {
	defer close(p.syncDone)
	if p.cfg.SpoolSync < 0 {
		return
	}
	t := time.NewTicker(p.cfg.SpoolSync)
	defer t.Stop()
	for {
		select {
		case <-p.syncStop:
			return
		case <-t.C:
			if err := p.spool.syncNow(); err != nil {
				p.spoolFailing.Store(true)
				p.log.Error("spool fsync failed: spooled records may not survive a power loss", "err", err)
			}
		}
	}
}

// run is the writer goroutine. It alternates fairly between new records
// and spool replay (Go picks among ready select cases at random), replays
// only while the queues are under half full so a backlog on disk never
// starves live traffic into overflowing, and while the store fails sends
// whole batches to the spool and probes the store with backoff.
func (p *Pipeline) run() {
	defer close(p.done)
	ready := make(chan struct{})
	close(ready)
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	for {
		var replayC <-chan struct{}
		var retryC <-chan time.Time
		// While degraded, the probe runs on its backoff whatever the queue
		// level, so a busy queue cannot keep a recovered store unused.
		if p.spool.pending() && (p.degraded || p.queueLow()) {
			if d := time.Until(p.retryAt); !p.degraded || d <= 0 {
				replayC = ready
			} else {
				retry.Reset(d)
				retryC = retry.C
			}
		}
		select {
		case <-p.kill:
			return
		case <-p.stop:
			p.drain()
			return
		case q := <-p.usageCh:
			p.addEvent(q)
		case q := <-p.denialCh:
			p.addDenial(q)
		case <-p.flushTimer.C:
			p.timerArmed = false
			p.flush()
		case <-replayC:
			p.replayStep()
		case <-retryC:
			p.replayStep()
		case <-p.wake:
			// Spilled records: look at the spool again.
		}
	}
}

func (p *Pipeline) queueLow() bool {
	half := p.cfg.QueueSize / 2
	return len(p.usageCh) <= half && len(p.denialCh) <= half
}

func (p *Pipeline) addEvent(q queued[usage.Event]) {
	p.evs = append(p.evs, q)
	p.armTimer()
	if len(p.evs) >= p.cfg.BatchSize {
		p.flush()
	}
}

func (p *Pipeline) addDenial(q queued[usage.Denial]) {
	p.dens = append(p.dens, q)
	p.armTimer()
	if len(p.dens) >= p.cfg.BatchSize {
		p.flush()
	}
}

func (p *Pipeline) armTimer() {
	if !p.timerArmed {
		p.flushTimer.Reset(p.cfg.FlushInterval)
		p.timerArmed = true
	}
}

// drain runs on Close: empty the queues (producers now go to the spool, so
// they end), then replay the spool until it is empty or the deadline ends.
func (p *Pipeline) drain() {
	ctx := p.drainCtx
	for {
		select {
		case q := <-p.usageCh:
			p.addEvent(q)
			continue
		case q := <-p.denialCh:
			p.addDenial(q)
			continue
		default:
		}
		break
	}
	p.flush()
	for p.spool.pending() && ctx.Err() == nil {
		if d := time.Until(p.retryAt); p.degraded && d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			continue
		}
		if !p.replayStep() && !p.degraded {
			return // nothing readable left
		}
	}
}

// storeUsable: while degraded, live batches go straight to the spool; the
// store is probed by replaying the spool (oldest first) once the backoff
// has passed, or by a live batch when the spool is empty.
func (p *Pipeline) storeUsable() bool {
	return !p.degraded || (!time.Now().Before(p.retryAt) && !p.spool.pending())
}

func (p *Pipeline) flush() {
	if p.timerArmed {
		p.flushTimer.Stop()
		p.timerArmed = false
	}
	if len(p.evs) > 0 {
		batch := make([]usage.Event, len(p.evs))
		for i := range p.evs {
			batch[i] = p.evs[i].v
			p.price(&batch[i])
		}
		if !p.storeUsable() || p.writeEvents(batch) != nil {
			var buf []byte
			var err error
			for i := range batch {
				if buf, err = encodeEvent(buf, batch[i], true, p.evs[i].at.UnixNano()); err != nil {
					break
				}
			}
			p.spill(buf, int64(len(batch)), err, true, spillStoreError)
		} else {
			p.observe(kindUsage, p.evs)
		}
		clear(p.evs)
		p.evs = p.evs[:0]
	}
	if len(p.dens) > 0 {
		batch := make([]usage.Denial, len(p.dens))
		for i := range p.dens {
			batch[i] = p.dens[i].v
		}
		if !p.storeUsable() || p.writeDenials(batch) != nil {
			var buf []byte
			var err error
			for i := range batch {
				if buf, err = encodeDenial(buf, batch[i], p.dens[i].at.UnixNano()); err != nil {
					break
				}
			}
			p.spill(buf, int64(len(batch)), err, true, spillStoreError)
		} else {
			p.observeDenials(p.dens)
		}
		clear(p.dens)
		p.dens = p.dens[:0]
	}
}

func (p *Pipeline) observe(kind string, qs []queued[usage.Event]) {
	h := p.m.latency.WithLabelValues(kindName(kind))
	now := time.Now()
	for _, q := range qs {
		h.Observe(now.Sub(q.at).Seconds())
	}
}

func (p *Pipeline) observeDenials(qs []queued[usage.Denial]) {
	h := p.m.latency.WithLabelValues(kindName(kindDenial))
	now := time.Now()
	for _, q := range qs {
		h.Observe(now.Sub(q.at).Seconds())
	}
}

// price runs the Pricer; a panicking Pricer must not stop the writer, so
// the event is then stored as unpriced (cost unknown, never $0).
func (p *Pipeline) price(e *usage.Event) {
	if p.cfg.Pricer == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			p.log.Error("pricer panicked; event stored unpriced", "request_id", e.RequestID, "model", e.Model, "panic", r)
			e.CalculatedCost, e.TotalCost, e.CostSource, e.PricingMatched = nil, nil, usage.CostNone, false
			if e.ProviderCost != nil {
				e.TotalCost, e.CostSource = e.ProviderCost, usage.CostProvider
			}
		}
	}()
	p.cfg.Pricer.Price(e)
}

func (p *Pipeline) writeEvents(batch []usage.Event) error {
	return p.write(kindUsage, len(batch), func(ctx context.Context) error { return p.cfg.Store.InsertEvents(ctx, batch) })
}

func (p *Pipeline) writeDenials(batch []usage.Denial) error {
	return p.write(kindDenial, len(batch), func(ctx context.Context) error { return p.cfg.Store.InsertDenials(ctx, batch) })
}

func (p *Pipeline) write(kind string, n int, fn func(context.Context) error) error {
	if n == 0 {
		return nil
	}
	k := kindName(kind)
	p.m.batchSize.WithLabelValues(k).Observe(float64(n))
	ctx, cancel := context.WithTimeout(p.ctx, p.cfg.StoreTimeout)
	start := time.Now()
	err := fn(ctx)
	cancel()
	if err != nil {
		p.m.storeErrors.Inc()
		p.backoff = min(max(p.backoff*2, p.cfg.RetryMin), p.cfg.RetryMax)
		p.retryAt = time.Now().Add(p.backoff)
		if !p.degraded {
			p.log.Error("store write failed; records go to the spool until it recovers", "kind", k, "records", n, "err", err)
		} else {
			p.log.Warn("store still failing", "kind", k, "records", n, "retry_in", p.backoff, "err", err)
		}
		p.setDegraded(true)
		return err
	}
	p.m.commitSeconds.WithLabelValues(k).Observe(time.Since(start).Seconds())
	p.m.written.WithLabelValues(k).Add(float64(n))
	if p.degraded {
		p.log.Info("store recovered; replaying the spool", "spooled_records", p.spool.events.Load())
	}
	p.setDegraded(false)
	p.backoff = 0
	return nil
}

func (p *Pipeline) setDegraded(v bool) {
	p.degraded = v
	p.storeDown.Store(v)
	if v {
		p.m.degraded.Set(1)
	} else {
		p.m.degraded.Set(0)
	}
}

// replayBatch is up to BatchSize records read from a segment and not yet
// committed; it is kept across failed attempts so a retry writes the same
// records without reading further.
type replayBatch struct {
	events  []usage.Event
	evAt    []int64
	denials []usage.Denial
	denAt   []int64
}

// replayStep commits one batch of the oldest spool segment and deletes the
// segment after its last batch. It reports whether it made progress.
func (p *Pipeline) replayStep() bool {
	if p.rb == nil {
		if p.rd == nil {
			seg, ok := p.spool.oldest()
			if !ok {
				return false
			}
			rd, err := p.spool.openSegment(seg)
			if err != nil {
				p.quarantine(seg, err)
				return true
			}
			p.rd = rd
		}
		p.rb = p.readBatch()
		if len(p.rb.events) == 0 && len(p.rb.denials) == 0 {
			p.rb = nil
			if p.rd.eof {
				p.finishSegment()
				return true
			}
			return false
		}
	}
	rb := p.rb
	if err := p.writeEvents(rb.events); err != nil {
		return false
	}
	p.m.replayed.WithLabelValues(kindName(kindUsage)).Add(float64(len(rb.events)))
	p.observeAt(kindUsage, rb.evAt)
	rb.events, rb.evAt = nil, nil
	if err := p.writeDenials(rb.denials); err != nil {
		return false
	}
	p.m.replayed.WithLabelValues(kindName(kindDenial)).Add(float64(len(rb.denials)))
	p.observeAt(kindDenial, rb.denAt)
	p.rb = nil
	if p.rd.eof {
		p.finishSegment()
	}
	return true
}

func (p *Pipeline) observeAt(kind string, ats []int64) {
	h := p.m.latency.WithLabelValues(kindName(kind))
	now := time.Now().UnixNano()
	for _, at := range ats {
		if at > 0 {
			h.Observe(float64(now-at) / 1e9)
		}
	}
}

func (p *Pipeline) readBatch() *replayBatch {
	rb := &replayBatch{}
	seg := p.rd.seg
	bad := func(line int64, err error) {
		p.m.dropped.WithLabelValues(dropCorrupt).Inc()
		p.log.Error("USAGE RECORD LOST: unreadable spool line skipped", "segment", segName(seg.seq), "line", line, "err", err)
	}
	// Only records spooled before pricing (queue full) are priced here:
	// re-pricing the others could change costs already decided, with no
	// trace in the cost history.
	var unpriced []int
	for n := 0; n < p.cfg.BatchSize; n++ {
		rec, ok := p.rd.next(bad)
		if !ok {
			break
		}
		switch rec.Kind {
		case kindUsage:
			if !rec.Priced {
				unpriced = append(unpriced, len(rb.events))
			}
			rb.events = append(rb.events, *rec.Event)
			rb.evAt = append(rb.evAt, rec.At)
		case kindDenial:
			rb.denials = append(rb.denials, *rec.Denial)
			rb.denAt = append(rb.denAt, rec.At)
		}
	}
	for _, i := range unpriced {
		p.price(&rb.events[i])
	}
	return rb
}

func (p *Pipeline) finishSegment() {
	seg := p.rd.seg
	p.rd.close()
	p.rd = nil
	if err := p.spool.remove(seg); err != nil {
		p.log.Error("cannot delete replayed spool segment; it will be replayed again (harmless)", "segment", segName(seg.seq), "err", err)
	}
}

// quarantine sets aside a segment that cannot be opened, so replay moves
// on instead of failing on it forever; its records count as dropped.
func (p *Pipeline) quarantine(seg segment, err error) {
	if errors.Is(err, fs.ErrNotExist) {
		_ = p.spool.remove(seg)
		return
	}
	p.m.dropped.WithLabelValues(dropDisk).Add(float64(seg.recs))
	p.log.Error("USAGE RECORDS LOST: spool segment unreadable, renamed to .bad", "segment", segName(seg.seq), "records", seg.recs, "err", err)
	name := filepath.Join(p.cfg.SpoolDir, segName(seg.seq))
	_ = os.Rename(name, name+".bad")
	_ = p.spool.remove(seg)
}
