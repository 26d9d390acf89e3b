package server

import (
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spendops/spendops/internal/config"
	"github.com/spendops/spendops/internal/store"
)

// 1,000 concurrent mixed requests give exactly 1,000 events, no duplicates,
// even with the store locked by another process for part of the run: the
// small queue overflows, events spill to disk, and all arrive once the
// store is back.
func TestThousandMixedRequestsWithStoreOutage(t *testing.T) {
	up := httptest.NewServer(mockProvider())
	defer up.Close()
	dir := t.TempDir()
	e := start(t, dir, up, func(c *config.Config) { c.Pipeline.QueueSize = 16; c.Pipeline.BatchSize = 8 })
	key := e.createKey(t, nil)

	// Another connection holds the write lock for 1.5 s of the run.
	locker, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	conn, err := locker.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	unlock := time.AfterFunc(1500*time.Millisecond, func() { _, _ = conn.ExecContext(t.Context(), "COMMIT") })
	defer unlock.Stop()

	bodies := []struct{ path, body string }{
		{"/v1/openai/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[]}`},
		{"/v1/openai/v1/chat/completions", `{"model":"gpt-4o-mini","stream":true}`},
		{"/v1/anthropic/v1/messages", `{"model":"claude-sonnet-4-20250514","max_tokens":5}`},
		{"/v1/openai/v1/chat/completions", `{"model":"rate-limited"}`},
		{"/v1/mistral/v1/chat/completions", `{"model":"some-unpriced-model"}`},
	}
	const n = 1000
	type sent struct{ id, kind string }
	ids := make(chan sent, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 100)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			b := bodies[i%len(bodies)]
			req, _ := http.NewRequest("POST", e.base+b.path, strings.NewReader(b.body))
			req.Header.Set("X-ASO-API-Key", key)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			ids <- sent{res.Header.Get("X-ASO-Request-Id"), fmt.Sprintf("%s %s -> %d", b.path, b.body, res.StatusCode)}
		}(i)
	}
	wg.Wait()
	close(ids)
	if spilled := metric(t, e.base, "spendops_pipeline_spilled_total"); spilled == 0 {
		t.Error("no event spilled to the spool although the store was locked and the queue is 16")
	}
	want := map[string]bool{}
	kinds := map[string]string{}
	for s := range ids {
		want[s.id] = true
		kinds[s.id] = s.kind
	}
	if len(want) != n {
		t.Fatalf("%d distinct request ids for %d requests", len(want), n)
	}
	db, err := sql.Open("sqlite", "file:"+dir+"/"+store.DBFile+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	var count, distinct int
	for {
		if err := db.QueryRow(`SELECT count(*), count(DISTINCT request_id) FROM usage_events`).Scan(&count, &distinct); err != nil {
			t.Fatal(err)
		}
		if count >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if count != n || distinct != n {
		for id := range want {
			var k int
			_ = db.QueryRow(`SELECT count(*) FROM usage_events WHERE request_id = ?`, id).Scan(&k)
			if k != 1 {
				t.Errorf("request %s (%s) has %d events", id, kinds[id], k)
			}
		}
		t.Fatalf("%d events (%d distinct) for %d requests; spilled %v, replayed %v, dropped %v", count, distinct, n,
			metric(t, e.base, "spendops_pipeline_spilled_total"), metric(t, e.base, "spendops_pipeline_replayed_total"),
			metric(t, e.base, "spendops_pipeline_dropped_total"))
	}
	rows, err := db.Query(`SELECT request_id FROM usage_events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		if !want[id] {
			t.Fatalf("event %s matches no request", id)
		}
	}
	if d := metric(t, e.base, "spendops_pipeline_dropped_total"); d != 0 {
		t.Fatalf("%v events dropped", d)
	}
}

// metric reads one counter (summed over labels) from /metrics.
func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(\{[^}]*\})? ([0-9.e+-]+)$`)
	var sum float64
	found := false
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		sum += v
		found = true
	}
	if !found {
		t.Fatalf("metric %s not exported:\n%s", name, fmt.Sprint(len(b)))
	}
	return sum
}
