package policy

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"github.com/spendops/spendops/internal/provider"
)

const msgUncheckable = "Request cannot be checked against the model policy: "

// maxModelField caps a multipart or form "model" value.
const maxModelField = 1024

var (
	errDupModel       = errors.New(`more than one "model" field`)
	errModelNotString = errors.New(`"model" is not a string`)
	errBadJSON        = errors.New("invalid JSON body")
)

func uncheckable(status int, why string) *Denial {
	return &Denial{Type: DenialModel, Message: msgUncheckable + why, Status: status}
}

// found collects the model names of one request.
type found struct {
	url   []string // from the URL path (Gemini-native)
	body  string   // the body's top-level "model"
	query string   // the query's "model"
	all   []string // every name that must be allowed
}

func (f *found) primary() string {
	switch {
	case len(f.url) > 0:
		return f.url[0]
	case f.body != "":
		return f.body
	}
	return f.query
}

// ModelFromRequest returns every model name the request names: in the URL
// (Gemini-native paths), the query's "model", and the body's top-level
// "model", "models" (OpenRouter fallbacks), "fallbacks" and batch
// "requests" entries. Each must be allowed for the request to pass. The
// error is a *Denial explaining why the request cannot be checked.
func ModelFromRequest(in Input) ([]string, error) {
	f, d := requestModels(in, provider.Canonical(in.Provider), true)
	if d != nil {
		return f.all, d
	}
	return f.all, nil
}

// requestModels extracts model names. When strict (the key's model list
// restricts this provider) it stops at the first reason the request cannot
// be checked; otherwise it returns what it could find for recording.
func requestModels(in Input, prov string, strict bool) (found, *Denial) {
	var f found
	dialect := in.Dialect
	if dialect == "" {
		dialect = builtinDialects[prov]
	}
	if dialect == "" {
		dialect = provider.DialectOpenAI
	}
	gemini := dialect == provider.DialectGemini
	if gemini {
		ms, err := geminiURLModels(in.Path)
		if err != nil && strict {
			return f, uncheckable(http.StatusBadRequest, "malformed request path")
		}
		f.url = ms
		f.all = append(f.all, ms...)
	}
	if in.RawQuery != "" {
		q, err := formModel(in.RawQuery)
		if err != nil && strict {
			return f, uncheckable(http.StatusBadRequest, "query string: "+err.Error())
		}
		f.query = q
		if q != "" {
			f.all = append(f.all, q)
		}
	}
	if strict && dialect == provider.DialectOpenAI && isFileBatch(in.Method, in.Path) {
		return f, &Denial{Type: DenialModel, Message: msgUncheckable + "batch jobs read their models from an uploaded file", Status: http.StatusForbidden}
	}
	if len(in.Body) == 0 && !in.BodyTruncated {
		return f, nil
	}
	if in.BodyTruncated && strict {
		return f, uncheckable(http.StatusRequestEntityTooLarge, "body too large to inspect")
	}
	if !strict && len(in.Header.Values("Content-Encoding")) > 0 {
		// Decompressing costs memory and time; only a restrictive list
		// needs it. The model then goes unreported (rare: few clients
		// compress requests).
		return f, nil
	}
	body, d := decodeBody(in)
	if d != nil {
		return f, d
	}
	cts := in.Header.Values("Content-Type")
	if len(cts) > 1 && strict {
		return f, uncheckable(http.StatusBadRequest, "more than one Content-Type header")
	}
	var mediaType string
	var params map[string]string
	if len(cts) > 0 {
		mediaType, params, _ = mime.ParseMediaType(cts[0])
	}
	var bodyModels []string
	var err error
	switch {
	case mediaType == "multipart/form-data":
		f.body, err = multipartModel(body, params["boundary"])
		if f.body != "" {
			bodyModels = []string{f.body}
		}
	default:
		text, isObj, terr := jsonObjectText(body)
		switch {
		case terr != nil:
			err = terr
		case isObj:
			f.body, bodyModels, err = scanJSONBody(text)
		case mediaType == "application/x-www-form-urlencoded":
			f.body, err = formModel(string(body))
			if f.body != "" {
				bodyModels = []string{f.body}
			}
		}
	}
	if err != nil && strict {
		return f, uncheckable(http.StatusBadRequest, err.Error())
	}
	if gemini {
		for i, m := range bodyModels {
			bodyModels[i] = stripModelsPrefix(m)
		}
		f.body = stripModelsPrefix(f.body)
	}
	f.all = append(f.all, bodyModels...)
	return f, nil
}

// builtinDialects maps built-in provider names to their dialects, for
// callers that leave Input.Dialect empty.
var builtinDialects = func() map[string]provider.Dialect {
	m := map[string]provider.Dialect{}
	for _, d := range provider.Builtins() {
		m[d.Name] = d.Dialect
	}
	return m
}()

// isFileBatch reports whether a request creates an OpenAI-style batch job,
// whose requests (and models) live in a previously uploaded file: POST
// .../batches (OpenAI, Groq and other OpenAI-compatible hosts) or
// .../batch/jobs (Mistral).
func isFileBatch(method, p string) bool {
	if !strings.EqualFold(method, http.MethodPost) {
		return false
	}
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	p = strings.ToLower(strings.TrimRight(p, "/"))
	return strings.HasSuffix(p, "/batches") || strings.HasSuffix(p, "/batch/jobs")
}

// stripModelsPrefix turns Gemini's resource name "models/x" into "x"; tuned
// models keep their "tunedModels/" prefix, so patterns can tell them apart.
func stripModelsPrefix(m string) string {
	t := strings.TrimFunc(m, unicode.IsSpace)
	if len(t) > 7 && strings.EqualFold(t[:7], "models/") {
		return t[7:]
	}
	return m
}

// normModel is the form patterns are matched against: trimmed, lower-case.
func normModel(m string) string {
	return strings.ToLower(strings.TrimFunc(m, unicode.IsSpace))
}

// geminiURLModels reads model names from a Gemini-native path:
// .../models/{model}:{action} and .../tunedModels/{model}:{action} (the
// latter reported as "tunedModels/{model}"). The path is unescaped until it
// no longer changes, so %3A and double encodings cannot hide the colon;
// dot segments are resolved. A model segment without an action (model
// metadata) names no model to check.
func geminiURLModels(p string) ([]string, error) {
	for range 4 {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, err
		}
		if u == p {
			break
		}
		p = u
	}
	var segs []string
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, seg)
		}
	}
	var out []string
	for i := 0; i+1 < len(segs); i++ {
		tuned := strings.EqualFold(segs[i], "tunedModels")
		if !tuned && !strings.EqualFold(segs[i], "models") {
			continue
		}
		next := segs[i+1]
		first := strings.IndexByte(next, ':')
		if first < 0 {
			continue
		}
		// Google splits the custom verb at the last colon; a lenient parser
		// might split at the first. Check both readings.
		names := []string{next[:first]}
		if last := strings.LastIndexByte(next, ':'); last != first {
			names = append(names, next[:last])
		}
		for _, n := range names {
			if tuned {
				n = "tunedModels/" + n
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// formModel reads the "model" field of an application/x-www-form-urlencoded
// text (a body or a query string). Field names match case-insensitively;
// a repeated field is an error.
func formModel(s string) (string, error) {
	var model string
	seen := false
	for kv := range strings.SplitSeq(s, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if !strings.EqualFold(k, "model") {
			continue
		}
		if seen {
			return "", errDupModel
		}
		seen = true
		uv, err := url.QueryUnescape(v)
		if err != nil {
			return "", fmt.Errorf("malformed %q field", "model")
		}
		model = uv
	}
	return model, nil
}

// multipartModel reads the "model" field of a multipart/form-data body
// (audio transcription and translation, image edits). Other parts are
// skipped without being buffered.
func multipartModel(body []byte, boundary string) (string, error) {
	if boundary == "" {
		return "", errors.New("multipart body without boundary")
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	var model string
	seen := false
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			return model, nil
		}
		if err != nil {
			return "", errors.New("malformed multipart body")
		}
		if !strings.EqualFold(part.FormName(), "model") {
			continue
		}
		if seen {
			return "", errDupModel
		}
		seen = true
		switch strings.ToLower(part.Header.Get("Content-Transfer-Encoding")) {
		case "", "7bit", "8bit", "binary":
		default:
			return "", errors.New(`unsupported Content-Transfer-Encoding on the "model" field`)
		}
		v, err := io.ReadAll(io.LimitReader(part, maxModelField+1))
		if err != nil {
			return "", errors.New("malformed multipart body")
		}
		if len(v) > maxModelField {
			return "", errors.New(`"model" field too long`)
		}
		model = string(v)
	}
}

// decodeBody undoes the request's Content-Encoding (gzip, deflate, br,
// zstd, in the order they were applied), up to MaxDecodedBytes.
func decodeBody(in Input) ([]byte, *Denial) {
	vals := in.Header.Values("Content-Encoding")
	if len(vals) == 0 {
		return in.Body, nil
	}
	var encs []string
	for _, v := range vals {
		for e := range strings.SplitSeq(v, ",") {
			e = strings.ToLower(strings.TrimSpace(e))
			if e != "" && e != "identity" {
				encs = append(encs, e)
			}
		}
	}
	if len(encs) > 3 {
		return nil, uncheckable(http.StatusUnsupportedMediaType, "too many Content-Encoding layers")
	}
	limit := in.MaxDecodedBytes
	if limit <= 0 {
		limit = DefaultMaxDecodedBytes
	}
	b := in.Body
	for i := len(encs) - 1; i >= 0; i-- {
		var err error
		b, err = decodeOne(encs[i], b, limit)
		switch {
		case errors.Is(err, errUnsupportedEncoding):
			return nil, uncheckable(http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Encoding %q is not supported", encs[i]))
		case errors.Is(err, errTooLarge):
			return nil, uncheckable(http.StatusRequestEntityTooLarge, fmt.Sprintf("body decompresses to more than %d bytes", limit))
		case err != nil:
			return nil, uncheckable(http.StatusBadRequest, fmt.Sprintf("invalid %s data", encs[i]))
		}
	}
	return b, nil
}

var (
	errUnsupportedEncoding = errors.New("unsupported content encoding")
	errTooLarge            = errors.New("decoded body too large")
)

func decodeOne(enc string, b []byte, limit int64) ([]byte, error) {
	var r io.Reader
	switch enc {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		r = zr
	case "deflate":
		// RFC 9110 says zlib; some clients send raw deflate.
		if zr, err := zlib.NewReader(bytes.NewReader(b)); err == nil {
			r = zr
		} else {
			r = flate.NewReader(bytes.NewReader(b))
		}
	case "br":
		r = brotli.NewReader(bytes.NewReader(b))
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(b), zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxMemory(uint64(limit)))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	default:
		return nil, errUnsupportedEncoding
	}
	out, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
			return nil, errTooLarge
		}
		return nil, err
	}
	if int64(len(out)) > limit {
		return nil, errTooLarge
	}
	return out, nil
}

// jsonObjectText finds out whether a body is a JSON object the way Python's
// json.loads(bytes) would (most providers' front ends): a UTF-8 BOM is
// skipped, UTF-16 and UTF-32 (with or without BOM) are transcoded to UTF-8.
// It returns the UTF-8 text and whether it starts, after JSON whitespace,
// with '{'. Content-Type is not consulted: a JSON object under another
// media type is still read as JSON.
func jsonObjectText(b []byte) ([]byte, bool, error) {
	enc := detectEncoding(b)
	switch enc {
	case "utf-8":
		s := scanner{b: b}
		return b, s.peek() == '{', nil
	case "utf-8-sig":
		b = b[3:]
		s := scanner{b: b}
		return b, s.peek() == '{', nil
	}
	// UTF-16/32: look at the first non-space character before transcoding.
	units, err := codeUnits(b, enc, 64)
	if err != nil {
		return nil, false, nil //nolint:nilerr // not JSON text: no model
	}
	isObj := false
	for i, u := range units {
		if i == 0 && u == 0xFEFF || u == ' ' || u == '\t' || u == '\n' || u == '\r' {
			continue
		}
		isObj = u == '{'
		break
	}
	if !isObj {
		return nil, false, nil
	}
	all, err := codeUnits(b, enc, -1)
	if err != nil {
		return nil, false, errBadJSON
	}
	var text []byte
	if strings.HasPrefix(enc, "utf-16") {
		u16 := make([]uint16, len(all))
		for i, u := range all {
			u16[i] = uint16(u)
		}
		for _, r := range utf16.Decode(u16) {
			text = utf8.AppendRune(text, r)
		}
	} else {
		for _, u := range all {
			if u > unicode.MaxRune || u >= 0xD800 && u <= 0xDFFF {
				return nil, false, errBadJSON
			}
			text = utf8.AppendRune(text, rune(u))
		}
	}
	if text[0] == 0xEF { // a BOM survives transcoding as U+FEFF
		text = bytes.TrimPrefix(text, []byte("\uFEFF"))
	}
	return text, true, nil
}

// detectEncoding follows the JSON encoding detection of RFC 4627 section 3
// as Python's json module applies it (BOMs first, then the position of
// zero bytes in the first four).
func detectEncoding(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0, 0, 0xFE, 0xFF}):
		return "utf-32-be"
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE, 0, 0}):
		return "utf-32-le"
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return "utf-16-be"
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return "utf-16-le"
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return "utf-8-sig"
	}
	switch {
	case len(b) >= 4 && b[0] == 0:
		if b[1] != 0 {
			return "utf-16-be"
		}
		return "utf-32-be"
	case len(b) >= 4 && b[1] == 0:
		if b[2] != 0 || b[3] != 0 {
			return "utf-16-le"
		}
		return "utf-32-le"
	case len(b) == 2 && b[0] == 0:
		return "utf-16-be"
	case len(b) == 2 && b[1] == 0:
		return "utf-16-le"
	}
	return "utf-8"
}

// codeUnits splits b into UTF-16 or UTF-32 code units (at most max, or all
// when max < 0).
func codeUnits(b []byte, enc string, max int) ([]uint32, error) {
	size := 2
	if strings.HasPrefix(enc, "utf-32") {
		size = 4
	}
	if max < 0 && len(b)%size != 0 {
		return nil, errBadJSON
	}
	be := strings.HasSuffix(enc, "-be")
	n := len(b) / size
	if max >= 0 && n > max {
		n = max
	}
	out := make([]uint32, n)
	for i := range out {
		c := b[i*size : i*size+size]
		var u uint32
		for j := range size {
			if be {
				u = u<<8 | uint32(c[j])
			} else {
				u |= uint32(c[j]) << (8 * j)
			}
		}
		out[i] = u
	}
	return out, nil
}

// scanJSONBody reads the model names of a JSON object body: the top-level
// "model" (returned first), "models" (OpenRouter's fallback list),
// "fallbacks" (strings or objects with "model"), "requests" (batch entries
// with "model" or "params.model": Anthropic message batches, Gemini batch
// embeddings), "session.model" (OpenAI realtime sessions and client
// secrets) and "data_source.model" (OpenAI eval runs). Keys match case-insensitively after unescaping; a key
// seen twice is an error, as is a "model" that is neither string nor null.
func scanJSONBody(b []byte) (primary string, all []string, err error) {
	s := scanner{b: b}
	var seen [6]bool
	mark := func(i int) error {
		if seen[i] {
			return errDupModel
		}
		seen[i] = true
		return nil
	}
	err = s.object(func(raw []byte, esc bool) error {
		switch {
		case keyIs(raw, esc, "model"):
			if err := mark(0); err != nil {
				return err
			}
			m, ok, err := s.modelValue()
			if ok {
				primary = m
				all = append(all, m)
			}
			return err
		case keyIs(raw, esc, "models"):
			if err := mark(1); err != nil {
				return err
			}
			if done, err := s.nullOrNotArray(); done {
				return err
			}
			return s.array(func() error {
				m, ok, err := s.modelValue()
				if err == nil && !ok {
					err = errModelNotString
				}
				all = append(all, m)
				return err
			})
		case keyIs(raw, esc, "fallbacks"):
			if err := mark(2); err != nil {
				return err
			}
			if done, err := s.nullOrNotArray(); done {
				return err
			}
			return s.array(func() error {
				switch s.peek() {
				case '{':
					return s.nestedModels(&all, false)
				case '"':
					m, _, err := s.modelValue()
					all = append(all, m)
					return err
				}
				if err := s.skip(1); err != nil {
					return err
				}
				return errModelNotString
			})
		case keyIs(raw, esc, "requests"):
			if err := mark(3); err != nil {
				return err
			}
			if s.peek() != '[' {
				return s.skip(1)
			}
			return s.array(func() error {
				if s.peek() == '{' {
					return s.nestedModels(&all, true)
				}
				return s.skip(2)
			})
		case keyIs(raw, esc, "session"), keyIs(raw, esc, "data_source"):
			i := 4
			if keyIs(raw, esc, "data_source") {
				i = 5
			}
			if err := mark(i); err != nil {
				return err
			}
			if s.peek() == '{' {
				return s.nestedModels(&all, false)
			}
		}
		return s.skip(1)
	})
	if err == nil && !s.end() {
		err = errBadJSON
	}
	if errors.Is(err, errJSON) {
		err = errBadJSON
	}
	return primary, all, err
}

// nullOrNotArray consumes a value that is not an array: null is no model,
// anything else an error. done is false when an array is next.
func (s *scanner) nullOrNotArray() (done bool, err error) {
	switch s.peek() {
	case '[':
		return false, nil
	case 'n':
		return true, s.lit("null")
	}
	if err := s.skip(1); err != nil {
		return true, err
	}
	return true, errModelNotString
}

// modelValue reads a model value: a string (ok), null (not ok), anything
// else an error.
func (s *scanner) modelValue() (string, bool, error) {
	switch s.peek() {
	case '"':
		raw, esc, err := s.str()
		if err != nil {
			return "", false, err
		}
		return unquote(raw, esc), true, nil
	case 'n':
		return "", false, s.lit("null")
	}
	if err := s.skip(1); err != nil {
		return "", false, err
	}
	return "", false, errModelNotString
}

// nestedModels reads "model" (and, with params, "params.model") from an
// object inside a fallback or batch list.
func (s *scanner) nestedModels(all *[]string, params bool) error {
	seenModel, seenParams := false, false
	return s.object(func(raw []byte, esc bool) error {
		switch {
		case keyIs(raw, esc, "model"):
			if seenModel {
				return errDupModel
			}
			seenModel = true
			m, ok, err := s.modelValue()
			if ok {
				*all = append(*all, m)
			}
			return err
		case params && keyIs(raw, esc, "params"):
			if seenParams {
				return errDupModel
			}
			seenParams = true
			if s.peek() == '{' {
				return s.nestedModels(all, false)
			}
		}
		return s.skip(3)
	})
}
