package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spendops/spendops/internal/store"
)

// buildBinary builds spendops once per test run.
var buildOnce struct {
	sync.Once
	path string
	err  error
}

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "spendops-bin")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "spendops")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type proc struct {
	cmd  *exec.Cmd
	base string
}

// serveProc starts `spendops serve` as a real process and waits for /readyz.
func serveProc(t *testing.T, dir, upstream string) *proc {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(binary(t), "serve", "--addr", addr, "--data-dir", dir, "--upstream", "openai="+upstream)
	cmd.Env = append(os.Environ(), "SPENDOPS_ADMIN_TOKEN=process-test-admin-token")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, base: "http://" + addr}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if res, err := http.Get(p.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("server not ready in 10s")
		}
	}
}

type completion struct {
	id string
	at time.Time
}

// load runs workers until stop closes and returns the responses that
// completed (status 200, body fully read).
func load(p *proc, key string, stop chan struct{}) []completion {
	var mu sync.Mutex
	var done []completion
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("POST", p.base+"/v1/openai/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","messages":[]}`))
				req.Header.Set("X-ASO-API-Key", key)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					continue
				}
				_, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if err == nil && res.StatusCode == 200 {
					mu.Lock()
					done = append(done, completion{res.Header.Get("X-ASO-Request-Id"), time.Now()})
					mu.Unlock()
				}
			}
		}()
	}
	<-stop
	wg.Wait()
	return done
}

func countEvents(t *testing.T, dir string, ids []completion) (found int) {
	t.Helper()
	db, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stmt, err := db.Prepare(`SELECT count(*) FROM usage_events WHERE request_id = ?`)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	for _, c := range ids {
		var n int
		if err := stmt.QueryRow(c.id).Scan(&n); err != nil && err != sql.ErrNoRows {
			t.Fatal(err)
		}
		found += n
	}
	return found
}

func okUpstream() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`)
	}))
}

func createKeyCLI(t *testing.T, dir string) string {
	t.Helper()
	var k struct{ Key string }
	if err := json.Unmarshal([]byte(cli(t, "keys", "create", "--name", "load", "--json", "--data-dir", dir)), &k); err != nil {
		t.Fatal(err)
	}
	return k.Key
}

// underLoad starts a server process on a new data dir and puts it under
// load for d; finish stops the load and returns the completed responses.
func underLoad(t *testing.T, d time.Duration) (dir string, p *proc, up *httptest.Server, finish func() []completion) {
	t.Helper()
	up = okUpstream()
	dir = t.TempDir()
	key := createKeyCLI(t, dir)
	p = serveProc(t, dir, up.URL)
	stop := make(chan struct{})
	var done []completion
	finished := make(chan struct{})
	go func() { done = load(p, key, stop); close(finished) }()
	time.Sleep(d)
	return dir, p, up, func() []completion {
		close(stop)
		<-finished
		return done
	}
}

// SIGTERM under load: the process exits 0 and every request that got a
// complete response has its event.
func TestProcessSIGTERMDrains(t *testing.T) {
	dir, p, up, finish := underLoad(t, time.Second)
	defer up.Close()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := p.cmd.Wait()
	done := finish()
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if found := countEvents(t, dir, done); found != len(done) {
		t.Fatalf("after SIGTERM: %d events for %d completed responses", found, len(done))
	}
	t.Logf("SIGTERM under load: %d completed responses, all with events", len(done))
}

// kill -9 under load, then restart: what is lost is bounded by what was
// in the group-commit window (queue + batch not yet committed, 50 ms by
// default) when the process died. The test measures it and fails if more
// events are lost than responses completed in the last second before the
// kill.
func TestProcessKill9LossBounded(t *testing.T) {
	dir, p, up, finish := underLoad(t, 1500*time.Millisecond)
	defer up.Close()
	killedAt := time.Now()
	_ = p.cmd.Process.Kill()
	_, _ = p.cmd.Process.Wait()
	done := finish()
	p2 := serveProc(t, dir, up.URL) // replays the spool, if any
	time.Sleep(300 * time.Millisecond)
	_ = p2.cmd.Process.Signal(syscall.SIGTERM)
	_ = p2.cmd.Wait()
	found := countEvents(t, dir, done)
	lost := len(done) - found
	lastSecond := 0
	for _, c := range done {
		if killedAt.Sub(c.at) < time.Second {
			lastSecond++
		}
	}
	t.Logf("kill -9 under load: %d responses completed, %d events found, %d lost (%.2f%%); %d responses completed in the last second",
		len(done), found, lost, 100*float64(lost)/float64(max(len(done), 1)), lastSecond)
	if lost > lastSecond {
		t.Fatalf("lost %d events, more than the %d responses of the last second before the kill", lost, lastSecond)
	}
	if len(done) < 50 {
		t.Fatalf("only %d responses under load", len(done))
	}

}
