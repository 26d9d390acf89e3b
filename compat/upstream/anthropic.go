package main

import (
	"fmt"
	"net/http"
	"strings"
)

// anthropicModels maps aliases to the dated model the API reports.
var anthropicModels = map[string]string{
	"claude-sonnet-4-5": "claude-sonnet-4-5-20250929",
	"claude-haiku-4-5":  "claude-haiku-4-5-20251001",
	"claude-sonnet-4-0": "claude-sonnet-4-20250514",
}

// anthropicHeaders sets the response headers api.anthropic.com sends.
func anthropicHeaders(w http.ResponseWriter, sd string) {
	h := w.Header()
	h.Set("request-id", "req_011C"+alnumID(sd, "areq", 20))
	h.Set("anthropic-organization-id", hexID(sd, "org", 8)+"-"+hexID(sd, "org2", 4)+"-4"+hexID(sd, "org3", 3)+"-8"+hexID(sd, "org4", 3)+"-"+hexID(sd, "org5", 12))
	for _, kind := range []string{"input-tokens", "output-tokens", "requests", "tokens"} {
		h.Set("anthropic-ratelimit-"+kind+"-limit", "400000")
		h.Set("anthropic-ratelimit-"+kind+"-remaining", "399000")
		h.Set("anthropic-ratelimit-"+kind+"-reset", "2026-11-27T12:00:00Z")
	}
	h.Set("via", "1.1 google")
	h.Set("cf-cache-status", "DYNAMIC")
	h.Set("x-robots-tag", "none")
	h.Set("server", "cloudflare")
	h.Set("cf-ray", hexID(sd, "aray", 16)+"-CDG")
}

// anthropicUsage derives usage from the seed. Anthropic's input_tokens
// excludes cache reads and writes, which are reported beside it.
func anthropicUsage(sd string, tools bool) (map[string]any, expect) {
	h := hash32(sd)
	input := int64(8 + h%30)
	if tools {
		input += 380 // tool definitions and the tool-use system prompt
	}
	cacheRead := int64(h&1) * 2048
	cacheWrite := int64((h>>1)&1) * 1956
	output := int64(len(replyWords)+2) + int64((h>>8)%4)
	u := map[string]any{
		"input_tokens":                input,
		"cache_creation_input_tokens": cacheWrite,
		"cache_read_input_tokens":     cacheRead,
		"cache_creation":              map[string]int64{"ephemeral_5m_input_tokens": cacheWrite, "ephemeral_1h_input_tokens": 0},
		"output_tokens":               output,
		"service_tier":                "standard",
	}
	prompt := input + cacheRead + cacheWrite
	return u, expect{PromptTokens: prompt, CompletionTokens: output, TotalTokens: prompt + output, CacheReadTokens: cacheRead, CacheWriteTokens: cacheWrite}
}

func (s *server) anthropicMessages(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model  string `json:"model"`
		Stream bool   `json:"stream"`
		Tools  []struct {
			Name string `json:"name"`
		} `json:"tools"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	sd := seed(r)
	e := entry{Provider: "anthropic", Stream: req.Stream}
	anthropicHeaders(w, sd)
	if strings.Contains(sd, "error429") {
		w.Header().Set("retry-after", "17")
		w.Header().Set("x-should-retry", "true")
		w.Header().Set("anthropic-ratelimit-input-tokens-remaining", "0")
		writeJSON(w, r, http.StatusTooManyRequests, map[string]any{
			"type": "error",
			"error": map[string]any{"type": "rate_limit_error",
				"message": "This request would exceed the rate limit for your organization (compat) of 30,000 input tokens per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase."},
			"request_id": w.Header().Get("request-id"),
		})
		e.Status = http.StatusTooManyRequests
		s.record(r, e)
		return
	}
	tool := ""
	if len(req.Tools) > 0 {
		tool = req.Tools[0].Name
	}
	usage, exp := anthropicUsage(sd, tool != "")
	model := req.Model
	if m, ok := anthropicModels[model]; ok {
		model = m
	}
	id := "msg_01" + alnumID(sd, "msg", 22)
	toolID := "toolu_01" + alnumID(sd, "toolu", 22)
	stop := "end_turn"
	content := []any{map[string]any{"type": "text", "text": replyText()}}
	if tool != "" {
		stop = "tool_use"
		content = append(content, map[string]any{"type": "tool_use", "id": toolID, "name": tool, "input": map[string]any{"city": "Paris"}})
	}
	e.Status = http.StatusOK
	e.Expect, e.UsageReported = &exp, true
	if !req.Stream {
		e.Gzipped = writeJSON(w, r, http.StatusOK, map[string]any{
			"id": id, "type": "message", "role": "assistant", "model": model, "content": content,
			"stop_reason": stop, "stop_sequence": nil, "usage": usage,
		})
		s.record(r, e)
		return
	}
	sw := s.startStream(w, "text/event-stream; charset=utf-8")
	send := func(typ string, v map[string]any) {
		v["type"] = typ
		sw.write(fmt.Sprintf("event: %s\ndata: %s\n\n", typ, mustJSON(v)))
	}
	start := map[string]any{}
	for k, v := range usage {
		start[k] = v
	}
	start["output_tokens"] = 1 // provisional; message_delta carries the cumulative count
	send("message_start", map[string]any{"message": map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "usage": start,
	}})
	send("content_block_start", map[string]any{"index": 0, "content_block": map[string]any{"type": "text", "text": ""}})
	send("ping", map[string]any{})
	for _, word := range replyWords {
		send("content_block_delta", map[string]any{"index": 0, "delta": map[string]any{"type": "text_delta", "text": word}})
	}
	if tool == "" {
		sw.trailer()
	}
	send("content_block_stop", map[string]any{"index": 0})
	if tool != "" {
		send("content_block_start", map[string]any{"index": 1, "content_block": map[string]any{"type": "tool_use", "id": toolID, "name": tool, "input": map[string]any{}}})
		for _, part := range []string{"", `{"city": `, `"Paris"}`} {
			send("content_block_delta", map[string]any{"index": 1, "delta": map[string]any{"type": "input_json_delta", "partial_json": part}})
		}
		sw.trailer()
		send("content_block_stop", map[string]any{"index": 1})
	}
	send("message_delta", map[string]any{
		"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
		"usage": map[string]any{
			"input_tokens":                usage["input_tokens"],
			"cache_creation_input_tokens": usage["cache_creation_input_tokens"],
			"cache_read_input_tokens":     usage["cache_read_input_tokens"],
			"output_tokens":               usage["output_tokens"],
		},
	})
	send("message_stop", map[string]any{})
	s.record(r, e)
}
