package bareproxy

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/spendops/spendops/bench/mockupstream"
)

func TestForwardsJSONAndStreams(t *testing.T) {
	up := httptest.NewServer(mockupstream.New())
	defer up.Close()
	u, _ := url.Parse(up.URL)
	px := httptest.NewServer(New(u))
	defer px.Close()

	resp, err := http.Post(px.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"gpt-4o-mini"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"usage"`) {
		t.Fatalf("status %d body %s", resp.StatusCode, b)
	}

	resp, err = http.Post(px.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4o-mini@chunks=3","stream":true,"stream_options":{"include_usage":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	stamped := 0
	for sc.Scan() {
		if _, ok := mockupstream.ParseStamp(sc.Bytes()); ok {
			stamped++
		}
	}
	if stamped != 3 {
		t.Fatalf("stamped chunks through proxy = %d, want 3", stamped)
	}
}
