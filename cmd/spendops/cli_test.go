package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spendops/spendops/internal/config"
	"github.com/spendops/spendops/internal/server"
)

// startServer runs a real server in-process on a free port with its data in
// dir; upstream is where openai points.
func startServer(t *testing.T, dir, upstream string) string {
	t.Helper()
	cfg := config.Default()
	cfg.Addr, cfg.DataDir, cfg.AdminToken = "127.0.0.1:0", dir, "test-admin-token-123"
	cfg.Upstreams = map[string]string{"openai": upstream}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := server.New(ctx, cfg, newLogger(cfg, io.Discard), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + addr.String()
}

func cli(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if err := run(t.Context(), args, &out, &errb); err != nil {
		t.Fatalf("spendops %s: %v (%s)", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// A key created by the CLI while the server runs works at once; after
// `keys revoke` it gets 403 "API key is inactive" within 1 second.
func TestCLIKeysWhileServing(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"list","data":[]}`)
	}))
	defer up.Close()
	dir := t.TempDir()
	base := startServer(t, dir, up.URL)

	var created struct{ ID, Key, Name, Tenant string }
	if err := json.Unmarshal([]byte(cli(t, "keys", "create", "--name", "ci", "--tenant", "acme", "--json", "--data-dir", dir)), &created); err != nil {
		t.Fatal(err)
	}
	if created.Name != "ci" || created.Tenant != "acme" || !strings.HasPrefix(created.Key, "aso_k_"+created.ID+".") {
		t.Fatalf("create --json = %+v", created)
	}
	get := func() (int, string) {
		req, _ := http.NewRequest("GET", base+"/v1/openai/v1/models", nil)
		req.Header.Set("X-ASO-API-Key", created.Key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res.StatusCode, string(b)
	}
	if code, body := get(); code != 200 {
		t.Fatalf("new key right after create: %d %s", code, body)
	}
	if list := cli(t, "keys", "list", "--data-dir", dir); !strings.Contains(list, created.ID) || strings.Contains(list, created.Key) {
		t.Fatalf("keys list:\n%s", list)
	}
	cli(t, "keys", "revoke", created.ID, "--data-dir", dir)
	revoked := time.Now()
	for {
		code, body := get()
		if code == 403 && strings.Contains(body, "API key is inactive") {
			break
		}
		if time.Since(revoked) > time.Second {
			t.Fatalf("still %d %s 1s after revoke", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Admin API sees the same keys.
	req, _ := http.NewRequest("GET", base+"/api/v1/keys", nil)
	req.Header.Set("Authorization", "Bearer test-admin-token-123")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), created.ID) || !strings.Contains(string(b), `"active":false`) {
		t.Fatalf("admin keys: %d %s", res.StatusCode, b)
	}
}

func TestCLIErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "missing command"},
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"keys", "create", "--data-dir", t.TempDir()}, "--name is required"},
		{[]string{"keys", "revoke", "NOPE", "--data-dir", t.TempDir()}, "key not found"},
		{[]string{"serve", "--addr", "nonsense"}, "addr"},
		{[]string{"serve", "--upstream", "nosuch=http://x"}, "unknown provider"},
		{[]string{"serve", "--upstream", "openai=ftp://x"}, "scheme"},
	}
	for _, tt := range tests {
		err := run(t.Context(), tt.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%q) = %v, want error containing %q", tt.args, err, tt.want)
		}
	}
	if out := cli(t, "version"); !strings.HasPrefix(out, "spendops ") {
		t.Errorf("version = %q", out)
	}
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/c.yaml"
	writeFile(t, file, "addr: 127.0.0.1:7001\nenv: file\nupstreams:\n  openai: http://file.example\n  groq: http://file.example/openai\n")
	t.Setenv("SPENDOPS_ENV", "fromenv")
	t.Setenv("SPENDOPS_UPSTREAM_GROQ", "http://env.example/openai")
	t.Setenv("SPENDOPS_ADDR", "127.0.0.1:7002")
	cfg, err := loadConfig(newFlagSet(), []string{"--config", file, "--addr", "127.0.0.1:7003"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:7003" || cfg.Env != "fromenv" || cfg.Upstreams["openai"] != "http://file.example" || cfg.Upstreams["groq"] != "http://env.example/openai" {
		t.Fatalf("precedence wrong: %+v", cfg)
	}
	writeFile(t, file, "proxy:\n  dial_timeout: banana\n")
	if _, err := loadConfig(newFlagSet(), []string{"--config", file}); err == nil || !strings.Contains(err.Error(), "banana") {
		t.Fatalf("bad duration: %v", err)
	}
	writeFile(t, file, "adress: x\n")
	if _, err := loadConfig(newFlagSet(), []string{"--config", file}); err == nil || !strings.Contains(err.Error(), "adress") {
		t.Fatalf("unknown field: %v", err)
	}
	writeFile(t, file, "providers:\n  - name: vllm\n    base_url: http://127.0.0.1:9/v1\n    dialect: martian\n")
	if _, err := loadConfig(newFlagSet(), []string{"--config", file}); err == nil || !strings.Contains(err.Error(), "providers[0].dialect") {
		t.Fatalf("bad dialect: %v", err)
	}
}
