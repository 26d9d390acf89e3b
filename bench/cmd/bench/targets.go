package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spendops/spendops/bench/loadgen"
	"github.com/spendops/spendops/bench/procstat"
)

// target is one system under test. Every target is reached over loopback HTTP/1.1 and forwards to the same mock.
type target struct {
	name        string
	base        string // http://127.0.0.1:PORT
	path        string // chat completions path on this target
	hdr         http.Header
	proc        *proc // nil for direct (no proxy process)
	unavailable string
	detail      string
	client      *http.Client
	adminToken  string // spendops only
}

func (t *target) ok() bool { return t.unavailable == "" }

// newReq returns a request builder for the given JSON body.
func (t *target) newReq(body []byte) loadgen.NewRequest {
	url := t.base + t.path
	return func(ctx context.Context) (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		r.Header = t.hdr.Clone()
		r.ContentLength = int64(len(body))
		return r, nil
	}
}

// do sends one request and reads the body to the end; non-200 is an error.
func (t *target) do(newReq loadgen.NewRequest) func(ctx context.Context) error {
	return func(ctx context.Context) error {
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
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
}

func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        30000,
		MaxIdleConnsPerHost: 30000,
		IdleConnTimeout:     60 * time.Second,
		// The peer compresses when asked; asking nobody keeps every target on the same bytes.
		DisableCompression: true,
	}}
}

// proc is a proxy process started by the bench, pinned to the proxy core when the machine allows it.
type proc struct {
	cmd  *exec.Cmd
	pid  int
	log  string
	done chan struct{}
	err  error
}

func startProc(dir, logPath string, env []string, pin string, argv ...string) (*proc, error) {
	if pin != "" {
		argv = append([]string{"taskset", "-c", pin}, argv...)
	}
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = lf, lf
	// Own process group, so a Ctrl-C on the bench does not reach the proxies before the bench stops them.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	p := &proc{cmd: cmd, pid: cmd.Process.Pid, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// stop asks the process to exit and kills it if it has not within 5 s.
func (p *proc) stop() {
	if p == nil || !p.alive() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	s := strings.TrimSpace(string(b))
	if len(s) > 400 {
		s = "..." + s[len(s)-400:]
	}
	return strings.ReplaceAll(s, "\n", " / ")
}

func (p *proc) mem() procstat.Memory {
	m, _ := procstat.Mem(p.pid)
	return m
}

func (p *proc) cpu() time.Duration {
	c, _ := procstat.CPU(p.pid)
	return c
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls url until it answers with any HTTP status (or wantOK: 200), the process dies, or timeout.
func waitReady(p *proc, url string, wantOK bool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	c := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		if p != nil && !p.alive() {
			return fmt.Errorf("process exited: %v: %s", p.err, p.tail())
		}
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if !wantOK || resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if p != nil {
		return fmt.Errorf("not ready after %s: %s", timeout, p.tail())
	}
	return fmt.Errorf("not ready after %s", timeout)
}

type env struct {
	root     string // repository root
	tmp      string
	mockURL  string // http://127.0.0.1:PORT
	proxyPin string // "1", or "" when not pinning
	quick    bool
}

func directTarget(e *env) *target {
	return &target{name: "direct", base: e.mockURL, path: "/v1/chat/completions",
		hdr:    http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer sk-bench"}},
		detail: "client to mock, no proxy", client: newClient()}
}

func bareTarget(e *env) *target {
	t := &target{name: "bare", path: "/v1/chat/completions",
		hdr:    http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer sk-bench"}},
		detail: "net/http/httputil.ReverseProxy, no logic (bench/bareproxy)", client: newClient()}
	exe, err := os.Executable()
	if err != nil {
		t.unavailable = err.Error()
		return t
	}
	port, err := freePort()
	if err != nil {
		t.unavailable = err.Error()
		return t
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p, err := startProc(e.root, filepath.Join(e.tmp, "bare.log"), nil, e.proxyPin, exe, "bareproxy", "-addr", addr, "-upstream", e.mockURL)
	if err != nil {
		t.unavailable = err.Error()
		return t
	}
	t.proc, t.base = p, "http://"+addr
	if err := waitReady(p, t.base+"/healthz", false, 10*time.Second); err != nil {
		t.unavailable = err.Error()
	}
	return t
}

func spendopsTarget(e *env) *target {
	t := &target{name: "spendops", path: "/v1/openai/v1/chat/completions", client: newClient()}
	bin := filepath.Join(e.root, "bin", "spendops")
	build := exec.Command("go", "build", "-o", bin, "./cmd/spendops")
	build.Dir = e.root
	if out, err := build.CombinedOutput(); err != nil {
		t.unavailable = "go build ./cmd/spendops failed: " + firstLine(string(out))
		return t
	}
	data := filepath.Join(e.tmp, "spendops-data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.unavailable = err.Error()
		return t
	}
	var out, errb bytes.Buffer
	kc := exec.Command(bin, "keys", "create", "--name", "bench", "--json", "--data-dir", data)
	kc.Stdout, kc.Stderr = &out, &errb
	if err := kc.Run(); err != nil {
		t.unavailable = fmt.Sprintf("`spendops keys create --json` failed (%v): %s", err, firstLine(errb.String()+out.String()))
		return t
	}
	var key struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal(out.Bytes(), &key); err != nil || key.Key == "" {
		t.unavailable = "`spendops keys create --json` printed no \"key\": " + firstLine(out.String())
		return t
	}
	port, err := freePort()
	if err != nil {
		t.unavailable = err.Error()
		return t
	}
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	t.adminToken = hex.EncodeToString(tok)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p, err := startProc(e.root, filepath.Join(e.tmp, "spendops.log"), []string{"SPENDOPS_ADMIN_TOKEN=" + t.adminToken}, e.proxyPin,
		bin, "serve", "--addr", addr, "--data-dir", data, "--upstream", "openai="+e.mockURL)
	if err != nil {
		t.unavailable = err.Error()
		return t
	}
	t.proc, t.base = p, "http://"+addr
	t.hdr = http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer sk-bench"}, "X-Aso-Api-Key": {key.Key}}
	t.detail = "bin/spendops serve (built from this tree), SQLite data dir in a temp dir"
	if v, err := exec.Command(bin, "version").Output(); err == nil {
		t.detail = strings.TrimSpace(string(v)) + "; " + t.detail
	}
	if err := waitReady(p, t.base+"/healthz", true, 30*time.Second); err != nil {
		t.unavailable = "serve: " + err.Error()
	}
	return t
}

// peerVersion is the pinned Portkey gateway version (bench/.peer/package.json and its lockfile).
const peerVersion = "1.15.2"

func peerTarget(e *env) *target {
	t := &target{name: "peer", path: "/v1/chat/completions", client: newClient(),
		hdr: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer sk-bench"},
			"X-Portkey-Provider": {"openai"}, "X-Portkey-Custom-Host": {e.mockURL + "/v1"}}}
	node, err := exec.LookPath("node")
	if err != nil {
		t.unavailable = "node not installed"
		return t
	}
	dir := filepath.Join(e.root, "bench", ".peer")
	entry := filepath.Join(dir, "node_modules", "@portkey-ai", "gateway", "build", "start-server.js")
	if _, err := os.Stat(entry); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		c := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		c.Dir = dir
		if out, err := c.CombinedOutput(); err != nil {
			t.unavailable = "npm ci in bench/.peer failed: " + firstLine(string(out))
			return t
		}
	}
	nv, _ := exec.Command(node, "--version").Output()
	t.detail = fmt.Sprintf("Portkey AI gateway %s (npm @portkey-ai/gateway, lockfile in bench/.peer), node %s, provider openai with x-portkey-custom-host", peerVersion, strings.TrimSpace(string(nv)))
	port, err := freePort()
	if err != nil {
		t.unavailable = err.Error()
		return t
	}
	p, err := startProc(dir, filepath.Join(e.tmp, "peer.log"), []string{"NODE_ENV=production"}, e.proxyPin,
		node, entry, fmt.Sprintf("--port=%d", port), "--headless")
	if err != nil {
		t.unavailable = err.Error()
		return t
	}
	t.proc, t.base = p, fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitReady(p, t.base+"/", false, 30*time.Second); err != nil {
		t.unavailable = "start: " + err.Error()
	}
	return t
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// smoke checks that a target really proxies: a JSON completion with usage and a stream whose stamped chunks
// and usage chunk all arrive. A target that fails is reported unavailable rather than measured wrong.
func smoke(t *target) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, _ := t.newReq(smallBody)(ctx)
	resp, err := t.client.Do(req)
	if err != nil {
		return fmt.Errorf("smoke: %w", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`"total_tokens"`)) {
		return fmt.Errorf("smoke: non-streaming answered %d: %s", resp.StatusCode, firstLine(string(b)))
	}
	res := loadgen.RunStreams(ctx, t.client, loadgen.StreamConfig{Streams: 2, Timeout: 10 * time.Second, Chunks: 5},
		t.newReq(streamBody(5, 1, 0)))
	if res.Completed != 2 || res.Chunks != 10 {
		return fmt.Errorf("smoke: stream delivered %d/%d chunks, %d/2 streams complete", res.Chunks, res.Expected, res.Completed)
	}
	if res.Usage != 2 {
		return errors.New("smoke: stream lost the final usage chunk")
	}
	return nil
}
