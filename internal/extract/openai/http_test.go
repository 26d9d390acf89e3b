package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/spendops/spendops/internal/extract/extracttest"
)

// A real loopback round trip, as the proxy will do it: the upstream flushes
// the recorded stream in small writes, the response body is copied to the
// client through the stripper while a tee feeds the extractor.
func TestLoopbackStream(t *testing.T) {
	req, body := fixtureByName(t, "openai_chat_stream_usage.sse")
	upstream := extracttest.Upstream{ContentType: "text/event-stream", Chunks: extracttest.FixedChunks(body, 37),
		Check: func(in []byte) error {
			if !ClientAskedUsage(in) {
				return errors.New("include_usage missing")
			}
			return nil
		}}

	clientBody := []byte(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	sent, injected, err := InjectIncludeUsage(clientBody)
	if err != nil || !injected {
		t.Fatalf("inject: %v %v", injected, err)
	}
	resp := upstream.Post(t, "/v1/chat/completions", sent)
	defer resp.Body.Close()
	req.ContentType = resp.Header.Get("Content-Type")
	ex := New(req)
	var client bytes.Buffer
	strip := NewUsageChunkStripper(&client)
	if _, err := io.Copy(strip, io.TeeReader(resp.Body, ex)); err != nil {
		t.Fatal(err)
	}
	if err := strip.Close(); err != nil {
		t.Fatal(err)
	}
	r := ex.Report()
	if !r.Found || r.Tokens.Total != 29 {
		t.Fatalf("report %+v", r)
	}
	if strings.Contains(client.String(), `"usage":{`) || !strings.HasSuffix(client.String(), "data: [DONE]\n\n") {
		t.Fatalf("client stream:\n%s", client.String())
	}
	// The client sees every content chunk, byte-exact.
	if want := strings.Replace(string(body), usageEvent(t, body), "", 1); client.String() != want {
		t.Fatal("client stream is not the upstream stream minus the usage chunk")
	}
}

func usageEvent(t *testing.T, body []byte) string {
	for _, ev := range strings.SplitAfter(string(body), "\n\n") {
		var c struct {
			Choices []json.RawMessage `json:"choices"`
			Usage   json.RawMessage   `json:"usage"`
		}
		if json.Unmarshal([]byte(strings.TrimPrefix(strings.TrimSpace(ev), "data: ")), &c) == nil && c.Choices != nil && len(c.Choices) == 0 && len(c.Usage) > 4 {
			return ev
		}
	}
	t.Fatal("no usage event")
	return ""
}

func FuzzSqueezer(f *testing.F) {
	f.Add([]byte(`{"a":[1,2,{"b":"c"}],"content":"x\"y\u00e9","n":-1.5e3,"t":true}`), uint8(3))
	f.Add([]byte(`[[1],[2,3],"s",null]`), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, max uint8) {
		if !json.Valid(in) {
			return
		}
		sq := newSqueezer(1<<20, int(max%16), func(string) {})
		for i := 0; i < len(in); i += 3 {
			sq.Write(in[i:min(i+3, len(in))])
		}
		if !json.Valid(sq.out) {
			t.Fatalf("squeezed %q into invalid %q", in, sq.out)
		}
	})
}
