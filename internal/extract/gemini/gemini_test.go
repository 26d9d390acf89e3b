package gemini

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/spendops/spendops/internal/extract/extracttest"
	"github.com/spendops/spendops/internal/usage"
)

type fixture struct {
	file        string
	method      string
	path        string
	query       string
	contentType string
}

const (
	flash    = "/v1beta/models/gemini-2.5-flash"
	ctJSON   = "application/json; charset=UTF-8"
	ctStream = "text/event-stream"
)

var fixtures = []fixture{
	{"generate_plain.json", "POST", "/v1beta/models/gemini-2.0-flash:generateContent", "", ctJSON},
	{"generate_thoughts.json", "POST", "/v1beta/models/gemini-2.5-pro:generateContent", "", ctJSON},
	{"generate_cached.json", "POST", flash + ":generateContent", "", ctJSON},
	{"generate_tooluse.json", "POST", "/v1beta/models/gemini-3-pro-preview:generateContent", "", ctJSON},
	{"generate_multimodal.json", "POST", "/v1beta/models/gemini-2.5-flash-image:generateContent", "", ctJSON},
	{"generate_audio_out.json", "POST", "/v1beta/models/gemini-2.5-flash-preview-tts:generateContent", "", ctJSON},
	{"generate_grounding.json", "POST", flash + ":generateContent", "", ctJSON},
	{"tuned_generate.json", "POST", "/v1beta/tunedModels/sentiment-classifier-x7k2m9:generateContent", "", ctJSON},
	{"error_429.json", "POST", flash + ":generateContent", "", ctJSON},
	{"embed.json", "POST", "/v1beta/models/gemini-embedding-001:embedContent", "", ctJSON},
	{"batch_embed.json", "POST", "/v1beta/models/gemini-embedding-001:batchEmbedContents", "", ctJSON},
	{"count_tokens.json", "POST", flash + ":countTokens", "", ctJSON},
	{"models_list.json", "GET", "/v1beta/models", "pageSize=50", ctJSON},
	{"cached_content_create.json", "POST", "/v1beta/cachedContents", "", ctJSON},
	{"stream.sse", "POST", flash + ":streamGenerateContent", "alt=sse", ctStream},
	{"stream_array.json", "POST", flash + ":streamGenerateContent", "", ctJSON},
	{"stream_array_cut.json", "POST", flash + ":streamGenerateContent", "", ctJSON},
	{"stream_grounding.sse", "POST", "/v1beta/models/gemini-3-flash-preview:streamGenerateContent", "alt=sse", ctStream},
}

func (f fixture) request() usage.Request {
	return usage.Request{
		Provider: "google", Dialect: "gemini", Method: f.method, Path: f.path, RawQuery: f.query,
		Stream: strings.Contains(f.path, ":stream"), StatusCode: 200, ContentType: f.contentType,
	}
}

// run feeds body to a fresh extractor in the given chunks.
func run(req usage.Request, chunks ...[]byte) usage.Report {
	return extracttest.Run(New, req, chunks...)
}

func byName(t *testing.T, name string) fixture {
	t.Helper()
	for _, f := range fixtures {
		if f.file == name {
			return f
		}
	}
	t.Fatalf("no fixture %s", name)
	return fixture{}
}

func TestGolden(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.file, func(t *testing.T) {
			got := extracttest.Canon(t, run(f.request(), extracttest.ReadTestdata(t, f.file)))
			extracttest.Golden(t, f.file, []byte(got))
		})
	}
}

// The numbers behind the goldens, asserted independently.
func TestNormalisation(t *testing.T) {
	tests := []struct {
		file  string
		found bool
		tok   usage.Tokens
		web   int64
		tier  string
		class string
	}{
		{"generate_plain.json", true, usage.Tokens{Prompt: 8, Completion: 17, Total: 25}, 0, "", usage.EndpointGenerate},
		// Peer bug: thoughtsTokenCount is billed output beside candidates.
		{"generate_thoughts.json", true, usage.Tokens{Prompt: 21, Completion: 1514, Total: 1535, Reasoning: 1204}, 0, "standard", usage.EndpointGenerate},
		// promptTokenCount includes the cached 3512: not added again.
		{"generate_cached.json", true, usage.Tokens{Prompt: 3520, Completion: 44, Total: 3564, CacheRead: 3512, Reasoning: 42}, 0, "standard", usage.EndpointGenerate},
		// Tool-use prompt tokens sit outside promptTokenCount: 294+605 in, 230+158 out = 1287.
		{"generate_tooluse.json", true, usage.Tokens{Prompt: 899, Completion: 388, Total: 1287, Reasoning: 158}, 0, "", usage.EndpointGenerate},
		{"generate_multimodal.json", true, usage.Tokens{Prompt: 2108, Completion: 1297, Total: 3405, PromptAudio: 800, PromptImage: 1296, CompletionImage: 1290}, 0, "", usage.EndpointGenerate},
		{"generate_audio_out.json", true, usage.Tokens{Prompt: 9, Completion: 160, Total: 169, CompletionAudio: 160}, 0, "", usage.EndpointGenerate},
		{"generate_grounding.json", true, usage.Tokens{Prompt: 76, Completion: 55, Total: 131, Reasoning: 40}, 2, "", usage.EndpointGenerate},
		{"tuned_generate.json", true, usage.Tokens{Prompt: 31, Completion: 2, Total: 33}, 0, "", usage.EndpointGenerate},
		{"error_429.json", false, usage.Tokens{}, 0, "", usage.EndpointGenerate},
		{"embed.json", false, usage.Tokens{}, 0, "", usage.EndpointEmbedContent},
		{"batch_embed.json", false, usage.Tokens{}, 0, "", usage.EndpointEmbedContent},
		{"count_tokens.json", false, usage.Tokens{}, 0, "", usage.EndpointCountTokens},
		{"models_list.json", false, usage.Tokens{}, 0, "", usage.EndpointModels},
		{"cached_content_create.json", false, usage.Tokens{}, 0, "", usage.EndpointOther},
		// Cumulative snapshots: the last one, never the sum.
		{"stream.sse", true, usage.Tokens{Prompt: 21, Completion: 1079, Total: 1100, Reasoning: 429}, 0, "", usage.EndpointGenerate},
		{"stream_array.json", true, usage.Tokens{Prompt: 21, Completion: 1079, Total: 1100, Reasoning: 429}, 0, "", usage.EndpointGenerate},
		// Cut inside the last element's usageMetadata: the previous snapshot.
		{"stream_array_cut.json", true, usage.Tokens{Prompt: 21, Completion: 1054, Total: 1075, Reasoning: 429}, 0, "", usage.EndpointGenerate},
		// Grounding repeated on two chunks counts its queries once; the
		// final chunk has usage and no text, and still counts.
		{"stream_grounding.sse", true, usage.Tokens{Prompt: 100, Completion: 42, Total: 142, Reasoning: 31}, 2, "standard", usage.EndpointGenerate},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := run(byName(t, tt.file).request(), extracttest.ReadTestdata(t, tt.file))
			if r.Found != tt.found || r.Tokens != tt.tok || r.WebSearchRequests != tt.web || r.ServiceTier != tt.tier || r.EndpointClass != tt.class {
				t.Errorf("got found=%v %+v web=%d tier=%q class=%q\nwant found=%v %+v web=%d tier=%q class=%q",
					r.Found, r.Tokens, r.WebSearchRequests, r.ServiceTier, r.EndpointClass, tt.found, tt.tok, tt.web, tt.tier, tt.class)
			}
		})
	}
}

func TestReportDetails(t *testing.T) {
	r := run(byName(t, "generate_cached.json").request(), extracttest.ReadTestdata(t, "generate_cached.json"))
	if r.ResponseModel != "gemini-2.5-flash" || r.GenerationID != "mAitaLmkHPPlz7IPvtfUqQ4" {
		t.Errorf("model/id: %q %q", r.ResponseModel, r.GenerationID)
	}
	if !json.Valid(r.Raw) || !bytes.Contains(r.Raw, []byte(`"cacheTokensDetails"`)) {
		t.Errorf("raw usageMetadata not kept as received: %s", r.Raw)
	}
	s := run(byName(t, "stream.sse").request(), extracttest.ReadTestdata(t, "stream.sse"))
	a := run(byName(t, "stream_array.json").request(), extracttest.ReadTestdata(t, "stream_array.json"))
	if s.Tokens != a.Tokens || s.OutputChars != a.OutputChars || s.GenerationID != a.GenerationID {
		t.Errorf("SSE and JSON-array streams of the same chunks differ:\n%+v\n%+v", s, a)
	}
	if want := int64(len("The answer is that the sky scatters blue light more than red (Rayleigh scattering).")); s.OutputChars != want {
		t.Errorf("stream chars = %d, want %d", s.OutputChars, want)
	}
	if !bytes.Contains(s.Raw, []byte(`"candidatesTokenCount":650`)) {
		t.Errorf("raw should be the last usageMetadata: %s", s.Raw)
	}
	tool := run(byName(t, "generate_tooluse.json").request(), extracttest.ReadTestdata(t, "generate_tooluse.json"))
	if want := int64(len(`{"name":"get_weather","args":{"city":"Paris","unit":"celsius"}}`)); tool.OutputChars != want {
		t.Errorf("function call chars = %d, want %d", tool.OutputChars, want)
	}
	c := run(byName(t, "count_tokens.json").request(), extracttest.ReadTestdata(t, "count_tokens.json"))
	if !c.NotBilled || !bytes.Contains(c.Raw, []byte(`"totalTokens": 31`)) {
		t.Errorf("countTokens: notBilled=%v raw=%s", c.NotBilled, c.Raw)
	}
	cc := run(byName(t, "cached_content_create.json").request(), extracttest.ReadTestdata(t, "cached_content_create.json"))
	if cc.NotBilled || cc.Found || !bytes.Contains(cc.Raw, []byte(`44108`)) {
		t.Errorf("cachedContents create: %+v", cc)
	}
}

func TestEndpoints(t *testing.T) {
	tests := []struct {
		method, path string
		class        string
		notBilled    bool
	}{
		{"POST", flash + ":generateContent", usage.EndpointGenerate, false},
		{"POST", "/v1/models/gemini-2.0-flash:streamGenerateContent", usage.EndpointGenerate, false},
		{"POST", "/v1beta/tunedModels/my-model-1:generateContent", usage.EndpointGenerate, false},
		{"POST", flash + ":countTokens", usage.EndpointCountTokens, true},
		{"POST", "/v1beta/models/text-embedding-004:embedContent", usage.EndpointEmbedContent, false},
		{"POST", "/v1beta/models/text-embedding-004:batchEmbedContents", usage.EndpointEmbedContent, false},
		{"POST", flash + ":batchGenerateContent", usage.EndpointBatch, true},
		{"GET", "/v1beta/batches/abc123", usage.EndpointBatch, true},
		{"GET", "/v1beta/models", usage.EndpointModels, true},
		{"GET", flash, usage.EndpointModels, true},
		{"GET", "/v1beta/tunedModels", usage.EndpointModels, true},
		{"GET", "/v1beta/cachedContents", usage.EndpointOther, true},
		{"POST", "/v1beta/cachedContents", usage.EndpointOther, false},
		{"DELETE", "/v1beta/cachedContents/abc", usage.EndpointOther, true},
		{"GET", "/v1beta/files", usage.EndpointOther, true},
		{"POST", "/v1beta/openai/chat/completions", usage.EndpointOther, false},
		{"POST", "/v1beta/models/imagen-4.0-generate-001:predict", usage.EndpointOther, false},
		{"POST", "/v1beta/models/Gemini-2.5-Flash:generateContent", usage.EndpointOther, false},
	}
	for _, tt := range tests {
		r := run(usage.Request{Method: tt.method, Path: tt.path}, []byte(`{"usageMetadata":{"promptTokenCount":5}}`))
		if r.EndpointClass != tt.class || r.NotBilled != tt.notBilled {
			t.Errorf("%s %s: class=%q notBilled=%v, want %q %v", tt.method, tt.path, r.EndpointClass, r.NotBilled, tt.class, tt.notBilled)
		}
		wantFound := tt.class == usage.EndpointGenerate || tt.class == usage.EndpointEmbedContent
		if r.Found != wantFound {
			t.Errorf("%s %s: Found=%v, want %v", tt.method, tt.path, r.Found, wantFound)
		}
	}
}

func TestModelFromPath(t *testing.T) {
	tests := []struct {
		path, model, action string
		ok                  bool
	}{
		{"/v1beta/models/gemini-2.5-flash:streamGenerateContent", "gemini-2.5-flash", "streamGenerateContent", true},
		{"/v1/models/gemini-2.0-flash-001:generateContent", "gemini-2.0-flash-001", "generateContent", true},
		{"/v1alpha/models/gemini-2.5-flash-preview-05-20:countTokens", "gemini-2.5-flash-preview-05-20", "countTokens", true},
		{"/v1beta/models/gemini-embedding-001:batchEmbedContents", "gemini-embedding-001", "batchEmbedContents", true},
		{"/v1beta/tunedModels/sentiment-x7k2m9:generateContent", "tunedModels/sentiment-x7k2m9", "generateContent", true},
		{"/v1beta/models/learnlm_2.0:generateContent", "learnlm_2.0", "generateContent", true},
		{"/v1beta/models/gemini-2.5-flash", "", "", false},
		{"/v1beta/models/gemini-2.5-flash:", "", "", false},
		{"/v1beta/models/:generateContent", "", "", false},
		{"/v1beta/models/gemini%2D2.5:generateContent", "", "", false},
		{"/v1beta/models/gemini%2F..%2F:generateContent", "", "", false},
		{"/v1beta/models/../models/x:generateContent", "", "", false},
		{"/v1beta/models/a..b:generateContent", "", "", false},
		{"/v1beta/models/x/y:generateContent", "", "", false},
		{"/v1beta/models/x:generateContent:foo", "", "", false},
		{"/v1beta/models/x:generate-content", "", "", false},
		{"/v1beta/models/x:GenerateContent", "", "", false},
		{"/v1beta/models/Gemini:generateContent", "", "", false},
		{"/v1beta/models/-x:generateContent", "", "", false},
		{"/v1beta/models/x y:generateContent", "", "", false},
		{"/v1beta/models/x:generateContent?alt=sse", "", "", false},
		{"/v1beta/models/x:generateContent/", "", "", false},
		{"/v2/models/x:generateContent", "", "", false},
		{"v1beta/models/x:generateContent", "", "", false},
		{"//v1beta/models/x:generateContent", "", "", false},
		{"/v1beta/publishers/google/models/x:generateContent", "", "", false},
		{"/v1/projects/p/locations/us/publishers/google/models/x:generateContent", "", "", false},
		{"/v1beta/cachedContents/x:generateContent", "", "", false},
		{"/v1beta/models/" + strings.Repeat("a", 129) + ":generateContent", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		m, a, ok := ModelFromPath(tt.path)
		if m != tt.model || a != tt.action || ok != tt.ok {
			t.Errorf("ModelFromPath(%q) = %q, %q, %v; want %q, %q, %v", tt.path, m, a, ok, tt.model, tt.action, tt.ok)
		}
	}
}

// Every fixture, split at every byte boundary and in random chunks, gives
// the same Report as in one piece.
func TestChunkingInvariance(t *testing.T) {
	for _, f := range fixtures {
		body := extracttest.ReadTestdata(t, f.file)
		report := func(chunks ...[]byte) string { return extracttest.Canon(t, run(f.request(), chunks...)) }
		want := report(body)
		extracttest.EverySplit(t, f.file, body, 1, want, report)
		extracttest.FeedChunked(t, f.file, body, 20, want, report)
	}
}

// Without a Content-Type the first byte decides.
func TestSniff(t *testing.T) {
	for _, name := range []string{"stream.sse", "stream_array.json", "generate_cached.json"} {
		f := byName(t, name)
		with := run(f.request(), extracttest.ReadTestdata(t, name))
		req := f.request()
		req.ContentType = ""
		without := run(req, []byte("\n"), extracttest.ReadTestdata(t, name))
		if !reflect.DeepEqual(with, without) {
			t.Errorf("%s: sniffed report differs", name)
		}
	}
}

// An oversize member (a huge inline image) is skipped without hiding the
// usageMetadata that follows it, and without being held in memory.
func TestOversizeMember(t *testing.T) {
	big := strings.Repeat("A", maxMember+10)
	body := `[{"candidates":[{"content":{"parts":[{"text":"small"}]}}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":1}},` +
		`{"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"` + big + `"}},{"text":"lost"}]}}],` +
		`"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":1290,"candidatesTokensDetails":[{"modality":"IMAGE","tokenCount":1290}]},"modelVersion":"gemini-3-pro-image-preview"}]`
	r := run(usage.Request{Method: "POST", Path: flash + ":streamGenerateContent", ContentType: ctJSON}, []byte(body))
	if !r.Found || r.Tokens.Prompt != 10 || r.Tokens.CompletionImage != 1290 || r.ResponseModel != "gemini-3-pro-image-preview" {
		t.Errorf("usage after an oversize member: %+v", r)
	}
	if r.OutputChars != 5 {
		t.Errorf("chars = %d: the oversize candidates member is skipped whole", r.OutputChars)
	}
}

func TestCounter(t *testing.T) {
	req := byName(t, "stream.sse").request()
	req.Counter = extracttest.WordCounter{}
	r := run(req, extracttest.ReadTestdata(t, "stream.sse"))
	if want := int64(len(strings.Fields("The answer is that the sky scatters blue light more than red (Rayleigh scattering)."))); r.OutputTokensEstimate != want {
		t.Errorf("estimate = %d, want %d", r.OutputTokensEstimate, want)
	}
}

func BenchmarkStreamArray(b *testing.B) {
	body := extracttest.ReadTestdata(b, "stream_array.json")
	req := usage.Request{Method: "POST", Path: flash + ":streamGenerateContent", ContentType: ctJSON}
	extracttest.Bench(b, New, req, body)
}

func BenchmarkStreamSSE(b *testing.B) {
	body := extracttest.ReadTestdata(b, "stream.sse")
	req := usage.Request{Method: "POST", Path: flash + ":streamGenerateContent", ContentType: ctStream}
	extracttest.Bench(b, New, req, body)
}
