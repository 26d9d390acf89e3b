package proxy

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the proxy's Prometheus metrics.
type Metrics struct {
	requests       *prometheus.CounterVec
	upstreamLat    *prometheus.HistogramVec
	overhead       prometheus.Histogram
	inflight       prometheus.Gauge
	inflightStream prometheus.Gauge
	bytes          *prometheus.CounterVec
	reqBytes       prometheus.Counter // bytes{direction="request"}, resolved once
	respBytes      prometheus.Counter // bytes{direction="response"}
	denials        *prometheus.CounterVec
}

// NewMetrics registers the proxy metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spendops_requests_total", Help: "Proxied or rejected requests by provider and HTTP status returned to the client.",
		}, []string{"provider", "status"}),
		upstreamLat: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "spendops_upstream_latency_seconds", Help: "Time from sending the request upstream to receiving response headers.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"provider"}),
		overhead: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "spendops_proxy_overhead_seconds", Help: "Time the proxy itself adds before and after the upstream call (excludes upstream time and body transfer).",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .1},
		}),
		inflight:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "spendops_inflight_requests", Help: "Requests being proxied now."}),
		inflightStream: prometheus.NewGauge(prometheus.GaugeOpts{Name: "spendops_inflight_streams", Help: "Streaming responses being relayed now."}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spendops_bytes_total", Help: "Body bytes relayed, by direction (request = to upstream, response = to client).",
		}, []string{"direction"}),
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spendops_denials_total", Help: "Rejected requests by denial type.",
		}, []string{"type"}),
	}
	m.reqBytes, m.respBytes = m.bytes.WithLabelValues("request"), m.bytes.WithLabelValues("response")
	reg.MustRegister(m.requests, m.upstreamLat, m.overhead, m.inflight, m.inflightStream, m.bytes, m.denials)
	return m
}

func (m *Metrics) request(provider string, status int) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(provider, strconv.Itoa(status)).Inc()
}
