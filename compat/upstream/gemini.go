package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// geminiHeaders sets the response headers generativelanguage.googleapis.com
// sends (Google Front End).
func geminiHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Vary", "Origin, X-Origin, Referer")
	h.Set("Server", "scaffolding on HTTPServer2")
	h.Set("X-XSS-Protection", "0")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Server-Timing", "gfet4t7; dur=534")
	h.Set("Alt-Svc", `h3=":443"; ma=2592000,h3-29=":443"; ma=2592000`)
}

// geminiUsage derives usageMetadata from the seed. promptTokenCount includes
// cached content; thoughts are reported beside candidates and billed as
// output.
func geminiUsage(sd string, tools bool) (prompt, cached, candidates, thoughts int64) {
	h := hash32(sd)
	prompt = int64(7 + h%30)
	if tools {
		prompt += 41
	}
	if h&1 == 1 {
		cached = 2048
		prompt += cached
	}
	candidates = int64(len(replyWords) + 1)
	thoughts = int64((h>>3)&1) * 96
	return
}

func usageMetadata(prompt, cached, candidates, thoughts int64) map[string]any {
	u := map[string]any{
		"promptTokenCount":     prompt,
		"candidatesTokenCount": candidates,
		"totalTokenCount":      prompt + candidates + thoughts,
		"promptTokensDetails":  []any{map[string]any{"modality": "TEXT", "tokenCount": prompt}},
	}
	if cached > 0 {
		u["cachedContentTokenCount"] = cached
		u["cacheTokensDetails"] = []any{map[string]any{"modality": "TEXT", "tokenCount": cached}}
	}
	if thoughts > 0 {
		u["thoughtsTokenCount"] = thoughts
	}
	return u
}

func (s *server) gemini(w http.ResponseWriter, r *http.Request) {
	model, method, ok := strings.Cut(r.PathValue("call"), ":")
	if !ok {
		http.NotFound(w, r)
		return
	}
	sd := seed(r)
	geminiHeaders(w)
	e := entry{Provider: "google"}
	if strings.Contains(sd, "error429") {
		writeJSON(w, r, http.StatusTooManyRequests, map[string]any{"error": map[string]any{
			"code":    429,
			"message": "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
			"status":  "RESOURCE_EXHAUSTED",
			"details": []any{
				map[string]any{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []any{map[string]any{
					"quotaMetric":     "generativelanguage.googleapis.com/generate_content_free_tier_requests",
					"quotaId":         "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
					"quotaDimensions": map[string]string{"location": "global", "model": model},
					"quotaValue":      "10",
				}}},
				map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "42s"},
			},
		}})
		e.Status = http.StatusTooManyRequests
		s.record(r, e)
		return
	}
	switch method {
	case "generateContent", "streamGenerateContent":
		s.geminiGenerate(w, r, e, model, method == "streamGenerateContent")
	case "embedContent", "batchEmbedContents":
		s.geminiEmbed(w, r, e, method == "batchEmbedContents")
	default:
		writeJSON(w, r, http.StatusNotFound, map[string]any{"error": map[string]any{
			"code": 404, "message": "Method not found.", "status": "NOT_FOUND"}})
	}
}

func (s *server) geminiGenerate(w http.ResponseWriter, r *http.Request, e entry, model string, stream bool) {
	var req struct {
		Tools []struct {
			FunctionDeclarations []struct {
				Name string `json:"name"`
			} `json:"functionDeclarations"`
		} `json:"tools"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	sd := seed(r)
	tool := ""
	for _, t := range req.Tools {
		if len(t.FunctionDeclarations) > 0 {
			tool = t.FunctionDeclarations[0].Name
			break
		}
	}
	prompt, cached, cand, thoughts := geminiUsage(sd, tool != "")
	exp := expect{PromptTokens: prompt, CompletionTokens: cand + thoughts, TotalTokens: prompt + cand + thoughts, CacheReadTokens: cached, ReasoningTokens: thoughts}
	e.Stream, e.Status, e.Expect, e.UsageReported = stream, http.StatusOK, &exp, true
	responseID := alnumID(sd, "gresp", 23)
	chunk := func(parts []any, finish bool, usage map[string]any) map[string]any {
		c := map[string]any{"content": map[string]any{"parts": parts, "role": "model"}, "index": 0}
		if finish {
			c["finishReason"] = "STOP"
		}
		return map[string]any{"candidates": []any{c}, "usageMetadata": usage, "modelVersion": model, "responseId": responseID}
	}
	fcall := map[string]any{"functionCall": map[string]any{"name": tool, "args": map[string]any{"city": "Paris"}}}
	if !stream {
		parts := []any{map[string]any{"text": replyText()}}
		if tool != "" {
			parts = []any{fcall}
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		e.Gzipped = writeJSON(w, r, http.StatusOK, chunk(parts, true, usageMetadata(prompt, cached, cand, thoughts)))
		s.record(r, e)
		return
	}
	// Each streamed chunk carries a cumulative usage snapshot; the first
	// knows only the prompt, the last has the totals.
	var chunks []map[string]any
	if tool != "" {
		chunks = append(chunks, chunk([]any{fcall}, true, usageMetadata(prompt, cached, cand, thoughts)))
	} else {
		for i, word := range replyWords {
			last := i == len(replyWords)-1
			var u map[string]any
			switch {
			case i == 0:
				u = map[string]any{"promptTokenCount": prompt, "totalTokenCount": prompt + thoughts,
					"promptTokensDetails": []any{map[string]any{"modality": "TEXT", "tokenCount": prompt}}}
				if thoughts > 0 {
					u["thoughtsTokenCount"] = thoughts
				}
			case last:
				u = usageMetadata(prompt, cached, cand, thoughts)
			default:
				u = usageMetadata(prompt, cached, int64(i+1), thoughts)
			}
			chunks = append(chunks, chunk([]any{map[string]any{"text": word}}, last, u))
		}
	}
	if r.URL.Query().Get("alt") == "sse" {
		w.Header().Set("Content-Disposition", "attachment")
		sw := s.startStream(w, "text/event-stream")
		for _, c := range chunks {
			// The Gemini API separates SSE events with CRLF pairs.
			sw.write("data: " + mustJSON(c) + "\r\n\r\n")
		}
	} else {
		// Without alt=sse the stream is one JSON array, sent element by element.
		sw := s.startStream(w, "application/json; charset=UTF-8")
		for i, c := range chunks {
			b, _ := json.MarshalIndent(c, "", "  ")
			prefix := "["
			if i > 0 {
				prefix = ",\r\n"
			}
			sw.write(prefix + string(b))
		}
		sw.write("]")
	}
	s.record(r, e)
}

func (s *server) geminiEmbed(w http.ResponseWriter, r *http.Request, e entry, batch bool) {
	var req struct {
		Content struct {
			Parts []struct {
				Text string `json:"text"`
			} `json:"parts"`
		} `json:"content"`
		Requests []json.RawMessage `json:"requests"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	sd := seed(r)
	vec := func(i int) map[string]any {
		v := make([]float64, 8)
		for j := range v {
			v[j] = float64(int32(hash32(fmt.Sprint(sd, i, j))%2001)-1000) / 1000
		}
		return map[string]any{"values": v}
	}
	// The Gemini API reports no usage for embeddings; the event must say so.
	e.Status = http.StatusOK
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	if batch {
		embs := make([]any, len(req.Requests))
		for i := range embs {
			embs[i] = vec(i)
		}
		e.Gzipped = writeJSON(w, r, http.StatusOK, map[string]any{"embeddings": embs})
	} else {
		e.Gzipped = writeJSON(w, r, http.StatusOK, map[string]any{"embedding": vec(0)})
	}
	s.record(r, e)
}
