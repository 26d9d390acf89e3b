// Command brokenproxy sits between the SDKs and SpendOps and breaks one thing
// on purpose, so that compat/breakage.sh can show which breakages the
// compatibility suite catches. Each -mode imitates a bug SpendOps could have:
//
//	none              forward unchanged (the suite must still pass)
//	drop-dims         drop the X-ASO-Dims request header (attribution lost)
//	flip-byte         change one byte of one streamed response chunk
//	drop-request-id   drop the X-ASO-Request-Id response header
//	leak-usage        ask upstream for include_usage on OpenAI-style streams that did
//	                  not (the injected usage chunk then reaches the client)
//	buffer            deliver each response only once it is complete (no streaming)
//	skew-usage        add 1 to prompt_tokens in the events the admin API returns
//	drop-events       the admin API returns no events (usage lost)
//	rewrite-errors    replace a provider's 429 body with a generic one
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

var modes = map[string]bool{
	"none": true, "drop-dims": true, "flip-byte": true, "drop-request-id": true, "leak-usage": true,
	"buffer": true, "skew-usage": true, "drop-events": true, "rewrite-errors": true,
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	addrFile := flag.String("addr-file", "", "write the bound host:port here once listening")
	target := flag.String("target", "", "SpendOps base URL, e.g. http://127.0.0.1:8080")
	mode := flag.String("mode", "none", "what to break (see the package doc)")
	flag.Parse()
	if !modes[*mode] {
		slog.Error("unknown mode", "mode", *mode)
		os.Exit(2)
	}
	u, err := url.Parse(*target)
	if err != nil || u.Host == "" {
		slog.Error("bad -target", "target", *target)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		slog.Error("listen", "err", err)
		os.Exit(1)
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()), 0o644); err != nil {
			slog.Error("addr file", "err", err)
			os.Exit(1)
		}
	}
	slog.Info("broken proxy", "mode", *mode, "addr", ln.Addr().String(), "target", u.String())
	srv := &http.Server{Handler: handler(u, *mode), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil {
		slog.Error("serve", "err", err)
		os.Exit(1)
	}
}

func handler(target *url.URL, mode string) http.Handler {
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = target.Host
			bufferBody(pr.Out)
			if mode == "drop-dims" {
				pr.Out.Header.Del("X-ASO-Dims")
			}
			if mode == "leak-usage" {
				leakUsage(pr.Out)
			}
		},
		FlushInterval: -1,
		ModifyResponse: func(resp *http.Response) error {
			isEvents := strings.HasPrefix(resp.Request.URL.Path, "/api/v1/events")
			switch {
			case mode == "drop-request-id":
				resp.Header.Del("X-ASO-Request-Id")
			case mode == "flip-byte" && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream"):
				resp.Body = &flipReader{r: resp.Body}
			case mode == "buffer":
				return replaceBody(resp, func(b []byte) []byte { return b })
			case mode == "skew-usage" && isEvents:
				return replaceBody(resp, func(b []byte) []byte { return editEvents(b, true) })
			case mode == "drop-events" && isEvents:
				return replaceBody(resp, func(b []byte) []byte { return editEvents(b, false) })
			case mode == "rewrite-errors" && resp.StatusCode == http.StatusTooManyRequests:
				resp.Header.Del("Content-Encoding")
				return replaceBody(resp, func([]byte) []byte { return []byte(`{"error":"rate limited"}`) })
			}
			return nil
		},
	}
	return rp
}

// bufferBody reads the request body before forwarding it. Streamed through,
// an HTTP/1 request body races with the response: once the handler starts
// writing, the server consumes and closes the unread body under the
// transport's writer, which then drops the upstream connection mid-response
// (seen with httpx clients as "incomplete chunked read").
func bufferBody(r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	body, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	r.Header.Del("Transfer-Encoding")
	r.TransferEncoding = nil
}

// leakUsage adds stream_options.include_usage to a streaming JSON request
// that lacks stream_options, as if SpendOps forgot that it injected it.
func leakUsage(r *http.Request) {
	if r.Body == nil || !strings.Contains(r.URL.Path, "/chat/completions") {
		return
	}
	body, _ := io.ReadAll(r.Body)
	var m map[string]any
	if json.Unmarshal(body, &m) == nil && m["stream"] == true && m["stream_options"] == nil {
		m["stream_options"] = map[string]any{"include_usage": true}
		if b, err := json.Marshal(m); err == nil {
			body = b
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
}

// replaceBody reads the whole body (which is what makes "buffer" buffer) and
// swaps in edit's result.
func replaceBody(resp *http.Response, edit func([]byte) []byte) error {
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return err
	}
	b = edit(b)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
	return nil
}

func editEvents(b []byte, skew bool) []byte {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return b
	}
	evs, _ := m["events"].([]any)
	if !skew {
		m["events"] = []any{}
	}
	for _, e := range evs {
		if ev, ok := e.(map[string]any); ok && skew {
			if n, ok := ev["prompt_tokens"].(float64); ok {
				ev["prompt_tokens"] = n + 1
			}
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return b
	}
	return out
}

// flipReader changes the first " from" of a stream into " frOm": one byte
// of one streamed chunk, in text every scripted stream contains.
type flipReader struct {
	r    io.ReadCloser
	done bool
}

func (f *flipReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if !f.done {
		if i := bytes.Index(p[:n], []byte(" from")); i >= 0 {
			p[i+3] = 'O'
			f.done = true
		}
	}
	return n, err
}

func (f *flipReader) Close() error { return f.r.Close() }
