package policy

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"github.com/spendops/spendops/internal/keys"
)

func TestMatchModel(t *testing.T) {
	tests := []struct {
		patterns []string
		prov     string
		model    string
		want     bool
	}{
		{[]string{"openai:gpt-4*"}, "openai", "gpt-4.1", true},
		{[]string{"openai:gpt-4*"}, "openai", "gpt-40", true}, // prefix means prefix
		{[]string{"openai:gpt-4*"}, "openai", "gpt-4", true},
		{[]string{"openai:gpt-4*"}, "openai", "gpt-5", false},
		{[]string{"openai:gpt-4*"}, "openai", "gpt-", false},
		{[]string{"openai:gpt-4*"}, "azure", "gpt-4.1", false},
		{[]string{"openai:gpt-4.1"}, "openai", "gpt-4.1", true},
		{[]string{"openai:gpt-4.1"}, "openai", "gpt-4.1-mini", false},
		{[]string{"openai:gpt-4.1"}, "openai", "GPT-4.1", true},
		{[]string{"openai:gpt-4.1"}, "openai", " gpt-4.1\n", true},
		{[]string{"openai:GPT-4*"}, "openai", "gpt-4o", true},
		{[]string{"*"}, "mistral", "anything", true},
		{[]string{"openai:*"}, "openai", "o3", true},
		{[]string{"openai:*"}, "anthropic", "claude", false},
		{[]string{"anthropic:claude-sonnet-4*"}, "anthropic", "claude-sonnet-4-5-20250929", true},
		{[]string{"anthropic:claude-sonnet-4*"}, "anthropic", "claude-opus-4-1", false},
		{[]string{"google-ai-studio:gemini-2.5*"}, "google", "gemini-2.5-pro", true},
		{[]string{"google:gemini-2.5*"}, "google-ai-studio", "gemini-2.5-pro", true},
		{[]string{"openrouter:openai/gpt-4o*"}, "openrouter", "openai/gpt-4o:online", true},
		{[]string{"openai:gpt-4.1", "anthropic:claude*"}, "anthropic", "claude-3", true},
		{[]string{"malformed"}, "openai", "gpt-4.1", false},
		{nil, "openai", "gpt-5", true},
	}
	for _, tt := range tests {
		if got := MatchModel(tt.patterns, tt.prov, tt.model); got != tt.want {
			t.Errorf("MatchModel(%q, %q, %q) = %v, want %v", tt.patterns, tt.prov, tt.model, got, tt.want)
		}
	}
}

func TestProviderAllowed(t *testing.T) {
	tests := []struct {
		list []string
		prov string
		want bool
	}{
		{nil, "openai", true},
		{[]string{"*"}, "zai", true},
		{[]string{"openai", "anthropic"}, "anthropic", true},
		{[]string{"openai", "anthropic"}, "google", false},
		{[]string{"google"}, "google-ai-studio", true},
		{[]string{"google-ai-studio"}, "google", true},
		{[]string{"OpenAI"}, "openai", true},
	}
	for _, tt := range tests {
		if got := ProviderAllowed(tt.list, tt.prov); got != tt.want {
			t.Errorf("ProviderAllowed(%q, %q) = %v, want %v", tt.list, tt.prov, got, tt.want)
		}
	}
}

// Compression helpers.
func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zl(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func rawDeflate(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func br(b []byte) []byte {
	var buf bytes.Buffer
	w := brotli.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zst(b []byte) []byte {
	enc, _ := zstd.NewWriter(nil)
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

func utf16le(s string, bom bool) []byte {
	var out []byte
	if bom {
		out = append(out, 0xFF, 0xFE)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		out = binary.LittleEndian.AppendUint16(out, u)
	}
	return out
}

func utf16be(s string, bom bool) []byte {
	var out []byte
	if bom {
		out = append(out, 0xFE, 0xFF)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		out = binary.BigEndian.AppendUint16(out, u)
	}
	return out
}

func utf32le(s string) []byte {
	var out []byte
	for _, r := range s {
		out = binary.LittleEndian.AppendUint32(out, uint32(r))
	}
	return out
}

type part struct{ name, value, filename, cte string }

func multipartBody(parts ...part) ([]byte, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := `form-data; name="` + p.name + `"`
		if p.filename != "" {
			cd += `; filename="` + p.filename + `"`
		}
		h.Set("Content-Disposition", cd)
		if p.cte != "" {
			h.Set("Content-Transfer-Encoding", p.cte)
		}
		pw, _ := w.CreatePart(h)
		pw.Write([]byte(p.value))
	}
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// TestModelPolicy covers the model allow-list and each way around it.
func TestModelPolicy(t *testing.T) {
	pol := keys.Policy{Models: []string{
		"openai:gpt-4.1-mini", "openai:whisper-1", "anthropic:claude-sonnet-4*",
		"google:gemini-2.5-flash*", "openrouter:openai/gpt-4.1-mini",
	}}
	json := "application/json"
	allowed := []byte(`{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"hi"}]}`)
	blocked := []byte(`{"model":"gpt-5","messages":[{"role":"user","content":"hi"}]}`)
	audio := strings.Repeat("\x00\x01RIFF", 1000)
	mpAllowed, mpCT := multipartBody(part{name: "file", value: audio, filename: "a.wav"}, part{name: "model", value: "whisper-1"})
	mpBlocked, mpCT2 := multipartBody(part{name: "file", value: audio, filename: "a.wav"}, part{name: "model", value: "gpt-4o-transcribe"})
	mpCase, mpCT3 := multipartBody(part{name: "Model", value: "gpt-4o-transcribe"})
	mpDup, mpCT4 := multipartBody(part{name: "model", value: "whisper-1"}, part{name: "model", value: "gpt-4o-transcribe"})
	mpB64, mpCT5 := multipartBody(part{name: "model", value: "d2hpc3Blci0x", cte: "base64"})
	mpNoModel, mpCT6 := multipartBody(part{name: "file", value: audio, filename: "a.wav"})
	bomb := gz(make([]byte, 4096))

	type tc struct {
		name      string
		prov      string
		method    string
		path      string
		query     string
		h         http.Header
		body      []byte
		trunc     bool
		maxDec    int64
		status    int    // 0: allowed
		msg       string // checked when set
		wantModel string
	}
	uncheck := msgUncheckable
	tests := []tc{
		{name: "allowed", body: allowed, h: hdr("Content-Type", json), wantModel: "gpt-4.1-mini"},
		{name: "blocked", body: blocked, h: hdr("Content-Type", json), status: 403, msg: MsgModelNotAllowed, wantModel: "gpt-5"},
		{name: "no body (GET /v1/models)", method: "GET", path: "/v1/models"},
		{name: "no model field", body: []byte(`{"input":"x"}`), h: hdr("Content-Type", json)},
		{name: "null model is absent", body: []byte(`{"model":null}`)},
		{name: "case and space in value", body: []byte(`{"model":"  GPT-4.1-Mini "}`), wantModel: "  GPT-4.1-Mini "},
		{name: "text/plain carrying JSON", body: blocked, h: hdr("Content-Type", "text/plain"), status: 403},
		{name: "no Content-Type", body: blocked, status: 403},
		{name: "octet-stream carrying JSON", body: blocked, h: hdr("Content-Type", "application/octet-stream"), status: 403},
		{name: "leading whitespace", body: append([]byte("\r\n\t "), blocked...), status: 403},
		{name: "UTF-8 BOM", body: append([]byte("\xEF\xBB\xBF"), blocked...), status: 403},
		{name: "UTF-16LE no BOM", body: utf16le(string(blocked), false), status: 403},
		{name: "UTF-16LE BOM", body: utf16le(string(blocked), true), status: 403},
		{name: "UTF-16BE BOM", body: utf16be(string(blocked), true), status: 403},
		{name: "UTF-16BE allowed", body: utf16be(string(allowed), false), wantModel: "gpt-4.1-mini"},
		{name: "UTF-32LE", body: utf32le(string(blocked)), status: 403},
		{name: "gzip blocked", body: gz(blocked), h: hdr("Content-Encoding", "gzip"), status: 403},
		{name: "gzip allowed", body: gz(allowed), h: hdr("Content-Encoding", "gzip"), wantModel: "gpt-4.1-mini"},
		{name: "x-gzip", body: gz(blocked), h: hdr("Content-Encoding", "x-gzip"), status: 403},
		{name: "deflate zlib", body: zl(blocked), h: hdr("Content-Encoding", "deflate"), status: 403},
		{name: "deflate raw", body: rawDeflate(blocked), h: hdr("Content-Encoding", "deflate"), status: 403},
		{name: "br", body: br(blocked), h: hdr("Content-Encoding", "br"), status: 403},
		{name: "br allowed", body: br(allowed), h: hdr("Content-Encoding", "br")},
		{name: "zstd", body: zst(blocked), h: hdr("Content-Encoding", "zstd"), status: 403},
		{name: "zstd allowed", body: zst(allowed), h: hdr("Content-Encoding", "ZSTD")},
		{name: "gzip then br", body: br(gz(blocked)), h: hdr("Content-Encoding", "gzip, br"), status: 403},
		{name: "two header lines", body: br(gz(allowed)), h: hdr("Content-Encoding", "gzip", "Content-Encoding", "br")},
		{name: "unknown encoding", body: blocked, h: hdr("Content-Encoding", "compress"), status: 415, msg: uncheck + `Content-Encoding "compress" is not supported`},
		{name: "corrupt gzip", body: []byte("not gzip"), h: hdr("Content-Encoding", "gzip"), status: 400, msg: uncheck + "invalid gzip data"},
		{name: "decompression cap", body: bomb, h: hdr("Content-Encoding", "gzip"), maxDec: 1024, status: 413, msg: uncheck + "body decompresses to more than 1024 bytes"},
		{name: "duplicate model", body: []byte(`{"model":"gpt-4.1-mini","model":"gpt-5"}`), status: 400, msg: uncheck + `more than one "model" field`},
		{name: "duplicate allowed twice", body: []byte(`{"model":"gpt-4.1-mini","model":"gpt-4.1-mini"}`), status: 400},
		{name: "duplicate by case", body: []byte(`{"model":"gpt-4.1-mini","Model":"gpt-5"}`), status: 400},
		{name: "upper-case key", body: []byte(`{"MODEL":"gpt-5"}`), status: 403},
		{name: "kelvin-free fold", body: []byte(`{"mOdEl":"gpt-5"}`), status: 403},
		{name: "unicode escape key", body: []byte(`{"\u006dodel":"gpt-5"}`), status: 403},
		{name: "escaped duplicate", body: []byte(`{"\u006dodel":"gpt-4.1-mini","model":"gpt-5"}`), status: 400},
		{name: "spaced key is another key", body: []byte(`{" model":"gpt-5","model":"gpt-4.1-mini"}`)},
		{name: "fullwidth key is another key", body: []byte(`{"ｍodel":"gpt-5"}`)},
		{name: "escaped value", body: []byte(`{"model":"gpt-\u0035"}`), status: 403},
		{name: "number model", body: []byte(`{"model":5}`), status: 400, msg: uncheck + `"model" is not a string`},
		{name: "array model", body: []byte(`{"model":["gpt-5"]}`), status: 400},
		{name: "NaN elsewhere", body: []byte(`{"model":"gpt-4.1-mini","temperature":NaN}`), status: 400, msg: uncheck + "invalid JSON body"},
		{name: "truncated JSON", body: []byte(`{"model":"gpt-4.1-mini","messages":[`), status: 400},
		{name: "trailing garbage", body: []byte(`{"model":"gpt-4.1-mini"}{"model":"gpt-5"}`), status: 400},
		{name: "invalid UTF-8 in string", body: []byte("{\"model\":\"gpt-4.1-mini\",\"x\":\"\xff\"}"), status: 400},
		{name: "body truncated by proxy", body: allowed, trunc: true, status: 413, msg: uncheck + "body too large to inspect"},
		{name: "nested model ignored", body: []byte(`{"model":"gpt-4.1-mini","metadata":{"model":"gpt-5"}}`)},
		{name: "models list", prov: "openrouter", body: []byte(`{"model":"openai/gpt-4.1-mini","models":["openai/gpt-4.1-mini","anthropic/claude-opus-4"]}`), status: 403},
		{name: "models list allowed", prov: "openrouter", body: []byte(`{"models":["openai/gpt-4.1-mini"]}`)},
		{name: "models list non-string", prov: "openrouter", body: []byte(`{"models":[1]}`), status: 400},
		{name: "models not a list", prov: "openrouter", body: []byte(`{"models":"openai/gpt-5"}`), status: 400, msg: uncheck + `"model" is not a string`},
		{name: "models null", prov: "openrouter", body: []byte(`{"models":null,"model":"openai/gpt-4.1-mini"}`)},
		{name: "fallbacks not a list", prov: "openrouter", body: []byte(`{"fallbacks":{"model":"x"}}`), status: 400},
		{name: "fallbacks objects", prov: "openrouter", body: []byte(`{"model":"openai/gpt-4.1-mini","fallbacks":[{"model":"openai/gpt-5"}]}`), status: 403},
		{name: "anthropic allowed", prov: "anthropic", body: []byte(`{"model":"claude-sonnet-4-5","max_tokens":10}`)},
		{name: "anthropic batch", prov: "anthropic", path: "/v1/messages/batches",
			body: []byte(`{"requests":[{"custom_id":"a","params":{"model":"claude-sonnet-4-5"}},{"custom_id":"b","params":{"model":"claude-opus-4-1"}}]}`), status: 403},
		{name: "anthropic batch allowed", prov: "anthropic", path: "/v1/messages/batches",
			body: []byte(`{"requests":[{"custom_id":"a","params":{"model":"claude-sonnet-4-5"}}]}`)},
		{name: "realtime client secret", path: "/v1/realtime/client_secrets", body: []byte(`{"session":{"type":"realtime","model":"gpt-realtime"}}`), status: 403},
		{name: "eval run", path: "/v1/evals/e1/runs", body: []byte(`{"data_source":{"type":"completions","model":"gpt-5"}}`), status: 403},
		{name: "eval run allowed", path: "/v1/evals/e1/runs", body: []byte(`{"data_source":{"type":"completions","model":"gpt-4.1-mini"}}`)},
		{name: "openai file batch", path: "/v1/batches", body: []byte(`{"input_file_id":"file-1","endpoint":"/v1/chat/completions","completion_window":"24h"}`),
			status: 403, msg: uncheck + "batch jobs read their models from an uploaded file"},
		{name: "groq file batch trailing slash", prov: "groq", path: "/openai/v1/batches/", body: []byte(`{}`), status: 403, msg: uncheck + "batch jobs read their models from an uploaded file"},
		{name: "mistral batch", prov: "mistral", path: "/v1/batch/jobs", body: []byte(`{"model":"x"}`), status: 403, msg: uncheck + "batch jobs read their models from an uploaded file"},
		{name: "batch listing passes", method: "GET", path: "/v1/batches"},
		{name: "batch cancel passes", path: "/v1/batches/b1/cancel"},
		{name: "multipart allowed", body: mpAllowed, h: hdr("Content-Type", mpCT), wantModel: "whisper-1"},
		{name: "multipart blocked", body: mpBlocked, h: hdr("Content-Type", mpCT2), status: 403},
		{name: "multipart field case", body: mpCase, h: hdr("Content-Type", mpCT3), status: 403},
		{name: "multipart duplicate", body: mpDup, h: hdr("Content-Type", mpCT4), status: 400, msg: uncheck + `more than one "model" field`},
		{name: "multipart base64 field", body: mpB64, h: hdr("Content-Type", mpCT5), status: 400},
		{name: "multipart without model", body: mpNoModel, h: hdr("Content-Type", mpCT6)},
		{name: "multipart malformed", body: []byte("garbage"), h: hdr("Content-Type", mpCT), status: 400, msg: uncheck + "malformed multipart body"},
		{name: "multipart no boundary", body: mpAllowed, h: hdr("Content-Type", "multipart/form-data"), status: 400},
		{name: "multipart gzip", body: gz(mpBlocked), h: hdr("Content-Type", mpCT2, "Content-Encoding", "gzip"), status: 403},
		{name: "two Content-Types", body: mpAllowed, h: hdr("Content-Type", mpCT, "Content-Type", json), status: 400},
		{name: "form body", body: []byte("model=gpt-5&x=1"), h: hdr("Content-Type", "application/x-www-form-urlencoded"), status: 403},
		{name: "form body escaped", body: []byte("mod%65l=gpt%2D5"), h: hdr("Content-Type", "application/x-www-form-urlencoded"), status: 403},
		{name: "query model", method: "GET", path: "/v1/realtime", query: "model=gpt-5", status: 403},
		{name: "query model allowed", method: "GET", path: "/v1/realtime", query: "model=gpt-4.1-mini"},
		{name: "query duplicate", method: "GET", path: "/v1/realtime", query: "model=gpt-4.1-mini&Model=gpt-5", status: 400},
		{name: "query and body", query: "model=gpt-5", body: allowed, status: 403},
		{name: "binary body passes", body: []byte("\x89PNG\r\n\x1a\n\x00\x00"), h: hdr("Content-Type", "image/png")},

		// Gemini-native paths.
		{name: "gemini allowed", prov: "google", path: "/v1beta/models/gemini-2.5-flash:generateContent", body: []byte(`{"contents":[]}`), wantModel: "gemini-2.5-flash"},
		{name: "gemini blocked", prov: "google", path: "/v1beta/models/gemini-2.5-pro:generateContent", body: []byte(`{"contents":[]}`), status: 403, wantModel: "gemini-2.5-pro"},
		{name: "gemini v1", prov: "google", path: "/v1/models/gemini-2.5-pro:streamGenerateContent", query: "alt=sse", status: 403},
		{name: "gemini alias", prov: "google-ai-studio", path: "/v1beta/models/gemini-2.5-pro:generateContent", status: 403},
		{name: "gemini escaped colon", prov: "google", path: "/v1beta/models/gemini-2.5-pro%3AgenerateContent", status: 403},
		{name: "gemini double escaped", prov: "google", path: "/v1beta/models/gemini-2.5-pro%253AgenerateContent", status: 403},
		{name: "gemini escaped letters", prov: "google", path: "/v1beta/%6Dodels/gemini-2.5-pro:generateContent", status: 403},
		{name: "gemini dot segments", prov: "google", path: "/v1beta/models/x/../../models/gemini-2.5-pro:generateContent", status: 403},
		{name: "gemini double slash", prov: "google", path: "/v1beta//models//gemini-2.5-pro:generateContent", status: 403},
		{name: "gemini tuned model", prov: "google", path: "/v1beta/tunedModels/gemini-2.5-flash-x:generateContent", status: 403, wantModel: "tunedModels/gemini-2.5-flash-x"},
		{name: "gemini two colons", prov: "google", path: "/v1beta/models/gemini-2.5-flash:x:generateContent"},
		{name: "gemini vertex style", prov: "google", path: "/v1/projects/p/locations/l/publishers/google/models/gemini-2.5-pro:generateContent", status: 403},
		{name: "gemini list", prov: "google", method: "GET", path: "/v1beta/models"},
		{name: "gemini metadata", prov: "google", method: "GET", path: "/v1beta/models/gemini-2.5-pro"},
		{name: "gemini bad escape", prov: "google", path: "/v1beta/models/gemini%zz:generateContent", status: 400, msg: uncheck + "malformed request path"},
		{name: "gemini URL and body both checked", prov: "google", path: "/v1beta/models/gemini-2.5-flash:generateContent", body: []byte(`{"model":"models/gemini-2.5-pro"}`), status: 403},
		{name: "gemini openai-compat models/ prefix", prov: "google", path: "/v1beta/openai/chat/completions", body: []byte(`{"model":"models/gemini-2.5-flash"}`), wantModel: "gemini-2.5-flash"},
		{name: "gemini batch embed nested", prov: "google", path: "/v1beta/models/gemini-2.5-flash-emb:batchEmbedContents",
			body: []byte(`{"requests":[{"model":"models/text-embedding-004","content":{}}]}`), status: 403},
		{name: "openai path is not gemini", prov: "openai", method: "GET", path: "/v1/models/gpt-5:x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Provider: tt.prov, Method: tt.method, Path: tt.path, RawQuery: tt.query, Header: tt.h,
				Body: tt.body, BodyTruncated: tt.trunc, MaxDecodedBytes: tt.maxDec}
			if in.Provider == "" {
				in.Provider = "openai"
			}
			if in.Method == "" {
				in.Method = "POST"
			}
			if in.Path == "" {
				in.Path = "/v1/chat/completions"
			}
			if in.Header == nil {
				in.Header = http.Header{}
			}
			dec := Evaluate(pol, in)
			if tt.status == 0 {
				if dec.Denial != nil {
					t.Fatalf("denied: %+v", dec.Denial)
				}
			} else {
				if dec.Denial == nil {
					t.Fatalf("allowed (model %q), want %d", dec.Model, tt.status)
				}
				if dec.Denial.Status != tt.status || dec.Denial.Type != "model_blocked" {
					t.Fatalf("denial %+v, want %d model_blocked", dec.Denial, tt.status)
				}
				if tt.msg != "" && dec.Denial.Message != tt.msg {
					t.Fatalf("message\n got %q\nwant %q", dec.Denial.Message, tt.msg)
				}
				if tt.msg == "" && tt.status == 403 && dec.Denial.Message != MsgModelNotAllowed {
					t.Fatalf("403 message %q", dec.Denial.Message)
				}
			}
			if tt.wantModel != "" && dec.Model != tt.wantModel {
				t.Fatalf("Model = %q, want %q", dec.Model, tt.wantModel)
			}
		})
	}
}

// TestUnrestrictedSkipsInspection: a key whose list admits every model of
// the provider never fails on bodies it cannot read.
func TestUnrestrictedSkipsInspection(t *testing.T) {
	for _, models := range [][]string{nil, {"*"}, {"openai:*", "anthropic:claude*"}} {
		pol := keys.Policy{Models: models}
		in := Input{Provider: "openai", Method: "POST", Path: "/v1/chat/completions",
			Header: hdr("Content-Encoding", "compress"), Body: []byte(`{"model":"gpt-5","model":"x"}`), BodyTruncated: true}
		if d := Evaluate(pol, in).Denial; d != nil {
			t.Errorf("models %q: denied %+v", models, d)
		}
	}
	// The model is still reported for the usage event.
	dec := Evaluate(keys.Policy{}, Input{Provider: "openai", Header: hdr("Content-Type", "text/plain"), Body: []byte(` {"model":"gpt-5"}`)})
	if dec.Model != "gpt-5" {
		t.Errorf("Model = %q", dec.Model)
	}
	// Compressed bodies are not decompressed for unrestricted keys.
	dec = Evaluate(keys.Policy{}, Input{Provider: "openai", Header: hdr("Content-Encoding", "gzip"), Body: gz([]byte(`{"model":"gpt-5"}`))})
	if dec.Model != "" || dec.Denial != nil {
		t.Errorf("decision %+v", dec)
	}
}

func TestModelFromRequest(t *testing.T) {
	ms, err := ModelFromRequest(Input{Provider: "google", Path: "/v1beta/models/gemini-2.5-flash:batchEmbedContents", RawQuery: "key=SECRET",
		Header: http.Header{}, Body: []byte(`{"requests":[{"model":"models/text-embedding-004"},{"model":"models/text-embedding-005"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"gemini-2.5-flash", "text-embedding-004", "text-embedding-005"}
	if !slices.Equal(ms, want) {
		t.Fatalf("got %q, want %q", ms, want)
	}
	_, err = ModelFromRequest(Input{Provider: "openai", Header: http.Header{}, Body: []byte(`{"model":1}`)})
	if d, ok := err.(*Denial); !ok || d.Status != 400 {
		t.Fatalf("err = %v", err)
	}
}

func TestEvaluateOrder(t *testing.T) {
	pol := keys.Policy{Providers: []string{"openai"}, Models: []string{"openai:gpt-4.1"}, Dims: keys.DimsPolicy{Required: true}}
	base := func() Input {
		return Input{Provider: "openai", Method: "POST", Path: "/v1/chat/completions",
			Header: hdr(DimsHeader, "team=search"), Body: []byte(`{"model":"gpt-4.1"}`)}
	}
	t.Run("allowed", func(t *testing.T) {
		dec := Evaluate(pol, base())
		if dec.Denial != nil || dec.Dims["team"] != "search" || dec.Model != "gpt-4.1" {
			t.Fatalf("%+v", dec)
		}
	})
	t.Run("provider first, dims kept", func(t *testing.T) {
		in := base()
		in.Provider = "anthropic"
		in.Body = []byte(`{"model":"claude"}`)
		dec := Evaluate(pol, in)
		if dec.Denial == nil || dec.Denial.Type != "provider_blocked" || dec.Denial.Status != 403 || dec.Denial.Message != MsgProviderNotAllowed {
			t.Fatalf("%+v", dec.Denial)
		}
		if dec.Dims["team"] != "search" {
			t.Fatalf("dims not kept: %v", dec.Dims)
		}
	})
	t.Run("provider before bad dims", func(t *testing.T) {
		in := base()
		in.Provider = "anthropic"
		in.Header = http.Header{}
		if d := Evaluate(pol, in).Denial; d == nil || d.Type != "provider_blocked" {
			t.Fatalf("%+v", d)
		}
	})
	t.Run("dims before model", func(t *testing.T) {
		in := base()
		in.Header = http.Header{}
		in.Body = []byte(`{"model":"gpt-5"}`)
		d := Evaluate(pol, in).Denial
		if d == nil || d.Type != "dimension_validation" || d.Status != 400 || d.Message != MsgDimsRequired {
			t.Fatalf("%+v", d)
		}
	})
	t.Run("model last, dims kept", func(t *testing.T) {
		in := base()
		in.Body = []byte(`{"model":"gpt-5"}`)
		dec := Evaluate(pol, in)
		if dec.Denial == nil || dec.Denial.Type != "model_blocked" || dec.Denial.Status != 403 {
			t.Fatalf("%+v", dec.Denial)
		}
		if dec.Dims["team"] != "search" || dec.Model != "gpt-5" {
			t.Fatalf("%+v", dec)
		}
	})
	t.Run("zero policy allows all", func(t *testing.T) {
		in := base()
		in.Provider = "zai"
		in.Header = http.Header{}
		if d := Evaluate(keys.Policy{}, in).Denial; d != nil {
			t.Fatalf("%+v", d)
		}
	})
}

func TestCustomDialect(t *testing.T) {
	pol := keys.Policy{Models: []string{"vertex:gemini-2.5-flash*"}}
	in := Input{Provider: "vertex", Dialect: "gemini", Method: "POST",
		Path: "/v1/projects/p/locations/us/publishers/google/models/gemini-2.5-pro:generateContent", Header: http.Header{}}
	if d := Evaluate(pol, in).Denial; d == nil || d.Status != 403 {
		t.Fatalf("gemini-dialect custom provider: %+v", d)
	}
	in.Path = "/v1/projects/p/locations/us/publishers/google/models/gemini-2.5-flash:generateContent"
	if d := Evaluate(pol, in).Denial; d != nil {
		t.Fatalf("allowed model denied: %+v", d)
	}
	// Without the dialect, an unknown provider is openai-compatible: the
	// URL is not read, and POST .../batches is refused.
	in.Dialect = ""
	in.Path = "/v1/models/gemini-2.5-pro:generateContent"
	if d := Evaluate(pol, in).Denial; d != nil {
		t.Fatalf("openai-compatible custom provider: %+v", d)
	}
	in.Path = "/v1/batches"
	if d := Evaluate(pol, in).Denial; d == nil || d.Status != 403 {
		t.Fatalf("file batch: %+v", d)
	}
}
