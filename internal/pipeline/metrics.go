package pipeline

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	batchSize     *prometheus.HistogramVec
	commitSeconds *prometheus.HistogramVec
	latency       *prometheus.HistogramVec
	written       *prometheus.CounterVec
	spilled       *prometheus.CounterVec
	replayed      *prometheus.CounterVec
	dropped       *prometheus.CounterVec
	storeErrors   prometheus.Counter
	degraded      prometheus.Gauge
	all           []prometheus.Collector
}

func newMetrics(p *Pipeline) *metrics {
	const ns, sub = "spendops", "pipeline"
	kind := []string{"kind"}
	m := &metrics{
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "batch_size",
			Help:    "Records per store commit attempt.",
			Buckets: []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000},
		}, kind),
		commitSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "batch_commit_seconds",
			Help:    "Duration of successful store commits.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, kind),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "event_latency_seconds",
			Help:    "Time from Usage/Denial to the committed store write (queryable), spool detours included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, kind),
		written: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "written_total",
			Help: "Records in committed store batches (replayed duplicates, skipped by the store, included).",
		}, kind),
		spilled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "spilled_total",
			Help: "Records written to the disk spool, by reason (queue_full, store_error, closed).",
		}, []string{"reason"}),
		replayed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "replayed_total",
			Help: "Spooled records committed to the store.",
		}, kind),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "dropped_total",
			Help: "Records lost: the spool disk failed or a spool line was unreadable. Expected 0.",
		}, []string{"reason"}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "store_errors_total",
			Help: "Failed store commits (the batch went to the spool).",
		}),
		degraded: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "store_degraded",
			Help: "1 while the store fails and records go to the spool.",
		}),
	}
	gauge := func(name, help string, labels prometheus.Labels, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help, ConstLabels: labels}, f)
	}
	m.all = []prometheus.Collector{
		m.batchSize, m.commitSeconds, m.latency, m.written, m.spilled, m.replayed, m.dropped, m.storeErrors, m.degraded,
		gauge("queue_depth", "Records in the in-memory queue.", prometheus.Labels{"kind": "usage"},
			func() float64 { return float64(len(p.usageCh)) }),
		gauge("queue_depth", "Records in the in-memory queue.", prometheus.Labels{"kind": "denial"},
			func() float64 { return float64(len(p.denialCh)) }),
		gauge("queue_capacity", "Capacity of each in-memory queue.", nil,
			func() float64 { return float64(p.cfg.QueueSize) }),
		gauge("spool_bytes", "Bytes in the disk spool.", nil, func() float64 { return float64(p.spool.bytes.Load()) }),
		gauge("spool_events", "Records in the disk spool awaiting replay.", nil,
			func() float64 { return float64(p.spool.events.Load()) }),
	}
	// Pre-create the series users alert on, so they read 0 rather than
	// being absent.
	for _, k := range []string{kindName(kindUsage), kindName(kindDenial)} {
		m.written.WithLabelValues(k)
	}
	for _, r := range []string{dropDisk, dropCorrupt} {
		m.dropped.WithLabelValues(r)
	}
	for _, r := range []string{spillQueueFull, spillStoreError, spillClosed} {
		m.spilled.WithLabelValues(r)
	}
	return m
}

func kindName(k string) string {
	if k == kindDenial {
		return "denial"
	}
	return "usage"
}

// Spill and drop reasons (metric labels).
const (
	spillQueueFull  = "queue_full"
	spillStoreError = "store_error"
	spillClosed     = "closed"
	dropDisk        = "disk_error"
	dropCorrupt     = "corrupt_spool_record"
)
