package proxy

import (
	"bytes"
	"io"
	"net/http"
	"sort"
	"testing"
	"time"
)

// BenchmarkAddedLatency measures, in one run, the latency of the same small
// chat request sent direct to a loopback upstream and through the proxy,
// interleaved so machine noise hits both alike. It reports p50 and p99 of
// each and the added latency (proxy minus direct) at both percentiles.
func BenchmarkAddedLatency(b *testing.B) {
	resp := []byte(`{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}`)
	h := newHarness(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(resp)
	}), func(c *Config) { c.AccessLog = false; c.Sink = nil })
	body := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}`)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	do := func(url string, proxied bool) time.Duration {
		req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer sk-test")
		if proxied {
			req.Header.Set("X-ASO-API-Key", h.key)
		}
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return time.Since(start)
	}
	direct, proxied := make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)
	for i := 0; i < 50; i++ { // warm both connection pools
		do(h.upstream.URL+"/v1/chat/completions", false)
		do(h.front.URL+"/v1/openai/v1/chat/completions", true)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		direct = append(direct, do(h.upstream.URL+"/v1/chat/completions", false))
		proxied = append(proxied, do(h.front.URL+"/v1/openai/v1/chat/completions", true))
	}
	b.StopTimer()
	pd50, pd99 := pct(direct, 50), pct(direct, 99)
	pp50, pp99 := pct(proxied, 50), pct(proxied, 99)
	b.ReportMetric(float64(pd50.Microseconds()), "direct-p50-µs")
	b.ReportMetric(float64(pd99.Microseconds()), "direct-p99-µs")
	b.ReportMetric(float64(pp50.Microseconds()), "proxy-p50-µs")
	b.ReportMetric(float64(pp99.Microseconds()), "proxy-p99-µs")
	b.ReportMetric(float64((pp50 - pd50).Microseconds()), "added-p50-µs")
	b.ReportMetric(float64((pp99 - pd99).Microseconds()), "added-p99-µs")
}

func pct(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)*p/100]
}
