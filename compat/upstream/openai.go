package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"unicode/utf8"
)

// openaiModels maps the aliases clients send to the dated snapshot the API
// reports back, as api.openai.com does.
var openaiModels = map[string]string{
	"gpt-4.1":      "gpt-4.1-2025-04-14",
	"gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
	"gpt-4o":       "gpt-4o-2024-08-06",
	"gpt-4o-mini":  "gpt-4o-mini-2024-07-18",
	"gpt-5-mini":   "gpt-5-mini-2025-08-07",
}

func openaiSnapshot(model string) string {
	if s, ok := openaiModels[model]; ok {
		return s
	}
	return model
}

// openaiHeaders sets the response headers api.openai.com sends.
func openaiHeaders(w http.ResponseWriter, sd string) {
	h := w.Header()
	h.Set("x-request-id", "req_"+hexID(sd, "reqid", 32))
	h.Set("openai-organization", "user-compat")
	h.Set("openai-project", "proj_"+alnumID(sd, "proj", 24))
	h.Set("openai-processing-ms", "412")
	h.Set("openai-version", "2020-10-01")
	h.Set("x-envoy-upstream-service-time", "416")
	h.Set("x-ratelimit-limit-requests", "10000")
	h.Set("x-ratelimit-limit-tokens", "30000000")
	h.Set("x-ratelimit-remaining-requests", "9999")
	h.Set("x-ratelimit-remaining-tokens", "29999985")
	h.Set("x-ratelimit-reset-requests", "6ms")
	h.Set("x-ratelimit-reset-tokens", "0s")
	h.Set("strict-transport-security", "max-age=31536000; includeSubDomains; preload")
	h.Set("x-content-type-options", "nosniff")
	h.Set("cf-cache-status", "DYNAMIC")
	h.Set("server", "cloudflare")
	h.Set("cf-ray", hexID(sd, "ray", 16)+"-CDG")
	h.Set("alt-svc", `h3=":443"; ma=86400`)
}

// openaiRateLimit writes the 429 api.openai.com returns when a token budget
// is exhausted.
func openaiRateLimit(w http.ResponseWriter, r *http.Request, model string) {
	h := w.Header()
	h.Set("x-ratelimit-remaining-tokens", "0")
	h.Set("x-ratelimit-reset-tokens", "1.658s")
	h.Set("retry-after", "2")
	h.Set("x-should-retry", "true")
	writeJSON(w, r, http.StatusTooManyRequests, map[string]any{"error": map[string]any{
		"message": fmt.Sprintf("Rate limit reached for %s in organization org-compat on tokens per min (TPM): Limit 30000, Used 29817, Requested 1012. Please try again in 1.658s. Visit https://platform.openai.com/account/rate-limits to learn more.", model),
		"type":    "tokens",
		"param":   nil,
		"code":    "rate_limit_exceeded",
	}})
}

// openaiUsage is the usage block of chat completions.
type openaiUsage struct {
	PromptTokens            int64 `json:"prompt_tokens"`
	CompletionTokens        int64 `json:"completion_tokens"`
	TotalTokens             int64 `json:"total_tokens"`
	PromptTokensDetails     any   `json:"prompt_tokens_details"`
	CompletionTokensDetails any   `json:"completion_tokens_details"`
}

// chatUsage derives the usage of a chat call from its seed: about half the
// seeds hit the prompt cache (OpenAI caches in 1024-token prefixes).
func chatUsage(sd string, tools bool) (openaiUsage, expect) {
	h := hash32(sd)
	prompt := int64(9 + h%40)
	if tools {
		prompt += 57 // the tool schema counts as prompt
	}
	var cached int64
	if h&1 == 1 {
		cached = 1024
		prompt += 1024
	}
	completion := int64(len(replyWords)+1) + int64((h>>8)%5)
	u := openaiUsage{
		PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion,
		PromptTokensDetails:     map[string]int64{"cached_tokens": cached, "audio_tokens": 0},
		CompletionTokensDetails: map[string]int64{"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
	}
	return u, expect{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion, CacheReadTokens: cached}
}

type chatRequest struct {
	Model         string `json:"model"`
	Stream        bool   `json:"stream"`
	StreamOptions *struct {
		IncludeUsage *bool `json:"include_usage"`
	} `json:"stream_options"`
	Tools []struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
}

type chatMessage struct {
	Role        string     `json:"role"`
	Content     *string    `json:"content"`
	ToolCalls   []toolCall `json:"tool_calls,omitempty"`
	Refusal     *string    `json:"refusal"`
	Annotations []any      `json:"annotations"`
}

type toolCall struct {
	Index    *int   `json:"index,omitempty"`
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Function struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type chatChoice struct {
	Index        int          `json:"index"`
	Message      *chatMessage `json:"message,omitempty"`
	Delta        any          `json:"delta,omitempty"`
	Logprobs     any          `json:"logprobs"`
	FinishReason *string      `json:"finish_reason"`
}

type chatCompletion struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	Choices           []chatChoice `json:"choices"`
	Usage             any          `json:"usage,omitempty"`
	ServiceTier       string       `json:"service_tier"`
	SystemFingerprint string       `json:"system_fingerprint"`
}

type chatChunk struct {
	ID                string          `json:"id"`
	Object            string          `json:"object"`
	Created           int64           `json:"created"`
	Model             string          `json:"model"`
	ServiceTier       string          `json:"service_tier"`
	SystemFingerprint string          `json:"system_fingerprint"`
	Choices           []chatChoice    `json:"choices"`
	Usage             json.RawMessage `json:"usage,omitempty"`
	Obfuscation       string          `json:"obfuscation,omitempty"`
}

func ptr[T any](v T) *T { return &v }

// toolArgs is the JSON arguments string the scripted model calls tools with.
const toolArgs = `{"city":"Paris"}`

func (s *server) openaiChat(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if !decodeBody(w, r, &req) {
		return
	}
	sd := seed(r)
	e := entry{Provider: "openai", Stream: req.Stream}
	if req.StreamOptions != nil {
		e.IncludeUsage = req.StreamOptions.IncludeUsage
	}
	openaiHeaders(w, sd)
	if strings.Contains(sd, "error429") {
		openaiRateLimit(w, r, req.Model)
		e.Status = http.StatusTooManyRequests
		s.record(r, e)
		return
	}
	tool := ""
	if len(req.Tools) > 0 {
		tool = req.Tools[0].Function.Name
	}
	usage, exp := chatUsage(sd, tool != "")
	id := "chatcmpl-" + alnumID(sd, "chatcmpl", 29)
	created := int64(1764200000 + hash32(sd)%100000)
	model := openaiSnapshot(req.Model)
	fp := "fp_" + hexID(sd, "fp", 10)
	e.Status = http.StatusOK

	if !req.Stream {
		msg := &chatMessage{Role: "assistant", Content: ptr(replyText()), Annotations: []any{}}
		finish := "stop"
		if tool != "" {
			tc := toolCall{ID: "call_" + alnumID(sd, "call", 24), Type: "function"}
			tc.Function.Name, tc.Function.Arguments = tool, toolArgs
			msg.Content, msg.ToolCalls, finish = nil, []toolCall{tc}, "tool_calls"
		}
		e.Gzipped = writeJSON(w, r, http.StatusOK, chatCompletion{
			ID: id, Object: "chat.completion", Created: created, Model: model,
			Choices:     []chatChoice{{Index: 0, Message: msg, FinishReason: &finish}},
			Usage:       usage,
			ServiceTier: "default", SystemFingerprint: fp,
		})
		e.Expect, e.UsageReported = &exp, true
		s.record(r, e)
		return
	}

	includeUsage := e.IncludeUsage != nil && *e.IncludeUsage
	sw := s.startStream(w, "text/event-stream; charset=utf-8")
	n := 0
	send := func(choices []chatChoice, usage json.RawMessage) {
		c := chatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: model,
			ServiceTier: "default", SystemFingerprint: fp, Choices: choices,
			Obfuscation: alnumID(sd, fmt.Sprint("obf", n), 1+int(hash32(fmt.Sprint(sd, n))%12))}
		if includeUsage {
			// With include_usage every chunk carries "usage": null and one
			// extra chunk before [DONE] carries the totals.
			c.Usage = json.RawMessage("null")
			if usage != nil {
				c.Usage = usage
			}
		}
		n++
		sw.write("data: " + mustJSON(c) + "\n\n")
	}
	finish := "stop"
	if tool != "" {
		finish = "tool_calls"
		first := toolCall{Index: ptr(0), ID: "call_" + alnumID(sd, "call", 24), Type: "function"}
		first.Function.Name = tool
		send([]chatChoice{{Delta: map[string]any{"role": "assistant", "content": nil, "tool_calls": []toolCall{first}, "refusal": nil}}}, nil)
		for _, part := range []string{`{"`, `city`, `":"`, `Paris`, `"}`} {
			tc := toolCall{Index: ptr(0)}
			tc.Function.Arguments = part
			send([]chatChoice{{Delta: map[string]any{"tool_calls": []toolCall{tc}}}}, nil)
		}
	} else {
		send([]chatChoice{{Delta: map[string]any{"role": "assistant", "content": "", "refusal": nil}}}, nil)
		for _, word := range replyWords {
			send([]chatChoice{{Delta: map[string]any{"content": word}}}, nil)
		}
	}
	sw.trailer()
	send([]chatChoice{{Delta: map[string]any{}, FinishReason: &finish}}, nil)
	if includeUsage {
		send([]chatChoice{}, json.RawMessage(mustJSON(usage)))
		e.UsageReported = true
	}
	sw.write("data: [DONE]\n\n")
	e.Expect = &exp
	s.record(r, e)
}

// responsesUsage derives Responses API usage; reasoning models (gpt-5*, o*)
// report reasoning tokens inside output_tokens.
func responsesUsage(sd, model string) (map[string]any, expect) {
	h := hash32(sd)
	input := int64(11 + h%30)
	var cached int64
	if h&2 == 2 {
		cached = 1024
		input += 1024
	}
	var reasoning int64
	if strings.HasPrefix(model, "gpt-5") || strings.HasPrefix(model, "o") {
		reasoning = 64 * int64(1+(h>>5)%3)
	}
	output := int64(len(replyWords)+1) + reasoning
	u := map[string]any{
		"input_tokens":          input,
		"input_tokens_details":  map[string]int64{"cached_tokens": cached},
		"output_tokens":         output,
		"output_tokens_details": map[string]int64{"reasoning_tokens": reasoning},
		"total_tokens":          input + output,
	}
	return u, expect{PromptTokens: input, CompletionTokens: output, TotalTokens: input + output, CacheReadTokens: cached, ReasoningTokens: reasoning}
}

func (s *server) openaiResponses(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model  string `json:"model"`
		Stream bool   `json:"stream"`
		Tools  []struct {
			Type string `json:"type"`
			Name string `json:"name"`
		} `json:"tools"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	sd := seed(r)
	e := entry{Provider: "openai", Stream: req.Stream}
	openaiHeaders(w, sd)
	if strings.Contains(sd, "error429") {
		openaiRateLimit(w, r, req.Model)
		e.Status = http.StatusTooManyRequests
		s.record(r, e)
		return
	}
	usage, exp := responsesUsage(sd, req.Model)
	id := "resp_" + hexID(sd, "resp", 48)
	created := int64(1764200000 + hash32(sd)%100000)
	model := openaiSnapshot(req.Model)
	tool := ""
	for _, t := range req.Tools {
		if t.Type == "function" {
			tool = t.Name
			break
		}
	}
	var output []any
	if exp.ReasoningTokens > 0 {
		output = append(output, map[string]any{"id": "rs_" + hexID(sd, "rs", 48), "type": "reasoning", "summary": []any{}})
	}
	msgID := "msg_" + hexID(sd, "msg", 48)
	text := map[string]any{"type": "output_text", "annotations": []any{}, "logprobs": []any{}, "text": replyText()}
	message := map[string]any{"id": msgID, "type": "message", "status": "completed", "content": []any{text}, "role": "assistant"}
	var fcall map[string]any
	if tool != "" {
		fcall = map[string]any{"id": "fc_" + hexID(sd, "fc", 48), "type": "function_call", "status": "completed",
			"arguments": toolArgs, "call_id": "call_" + alnumID(sd, "call", 24), "name": tool}
		output = append(output, fcall)
	} else {
		output = append(output, message)
	}
	resp := func(status string, out []any, u any) map[string]any {
		return map[string]any{
			"id": id, "object": "response", "created_at": created, "status": status, "background": false,
			"error": nil, "incomplete_details": nil, "instructions": nil, "max_output_tokens": nil,
			"max_tool_calls": nil, "model": model, "output": out, "parallel_tool_calls": true,
			"previous_response_id": nil, "prompt_cache_key": nil,
			"reasoning": map[string]any{"effort": "medium", "summary": nil}, "safety_identifier": nil,
			"service_tier": "default", "store": true, "temperature": 1.0,
			"text":        map[string]any{"format": map[string]any{"type": "text"}, "verbosity": "medium"},
			"tool_choice": "auto", "tools": []any{}, "top_logprobs": 0, "top_p": 1.0, "truncation": "disabled",
			"usage": u, "user": nil, "metadata": map[string]any{},
		}
	}
	e.Status = http.StatusOK
	e.Expect, e.UsageReported = &exp, true
	if !req.Stream {
		e.Gzipped = writeJSON(w, r, http.StatusOK, resp("completed", output, usage))
		s.record(r, e)
		return
	}
	sw := s.startStream(w, "text/event-stream; charset=utf-8")
	seq := 0
	send := func(typ string, fields map[string]any) {
		ev := map[string]any{"type": typ, "sequence_number": seq}
		for k, v := range fields {
			ev[k] = v
		}
		seq++
		sw.write("event: " + typ + "\ndata: " + mustJSON(ev) + "\n\n")
	}
	send("response.created", map[string]any{"response": resp("in_progress", []any{}, nil)})
	send("response.in_progress", map[string]any{"response": resp("in_progress", []any{}, nil)})
	for i, item := range output {
		it := item.(map[string]any)
		switch it["type"] {
		case "reasoning":
			send("response.output_item.added", map[string]any{"output_index": i, "item": it})
			send("response.output_item.done", map[string]any{"output_index": i, "item": it})
		case "function_call":
			added := map[string]any{}
			for k, v := range it {
				added[k] = v
			}
			added["arguments"], added["status"] = "", "in_progress"
			send("response.output_item.added", map[string]any{"output_index": i, "item": added})
			for _, part := range []string{`{"`, `city`, `":"`, `Paris`, `"}`} {
				send("response.function_call_arguments.delta", map[string]any{"item_id": it["id"], "output_index": i, "delta": part})
			}
			sw.trailer()
			send("response.function_call_arguments.done", map[string]any{"item_id": it["id"], "output_index": i, "arguments": toolArgs})
			send("response.output_item.done", map[string]any{"output_index": i, "item": it})
		case "message":
			send("response.output_item.added", map[string]any{"output_index": i, "item": map[string]any{
				"id": msgID, "type": "message", "status": "in_progress", "content": []any{}, "role": "assistant"}})
			send("response.content_part.added", map[string]any{"item_id": msgID, "output_index": i, "content_index": 0,
				"part": map[string]any{"type": "output_text", "annotations": []any{}, "logprobs": []any{}, "text": ""}})
			for k, word := range replyWords {
				send("response.output_text.delta", map[string]any{"item_id": msgID, "output_index": i, "content_index": 0,
					"delta": word, "logprobs": []any{}, "obfuscation": alnumID(sd, fmt.Sprint("robf", k), 4+k%6)})
			}
			sw.trailer()
			send("response.output_text.done", map[string]any{"item_id": msgID, "output_index": i, "content_index": 0, "text": replyText(), "logprobs": []any{}})
			send("response.content_part.done", map[string]any{"item_id": msgID, "output_index": i, "content_index": 0, "part": text})
			send("response.output_item.done", map[string]any{"output_index": i, "item": message})
		}
	}
	send("response.completed", map[string]any{"response": resp("completed", output, usage)})
	s.record(r, e)
}

func (s *server) openaiEmbeddings(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model          string          `json:"model"`
		Input          json.RawMessage `json:"input"`
		EncodingFormat string          `json:"encoding_format"`
		Dimensions     int             `json:"dimensions"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	sd := seed(r)
	e := entry{Provider: "openai"}
	openaiHeaders(w, sd)
	w.Header().Set("openai-model", req.Model)
	if strings.Contains(sd, "error429") {
		openaiRateLimit(w, r, req.Model)
		e.Status = http.StatusTooManyRequests
		s.record(r, e)
		return
	}
	var inputs []string
	if len(req.Input) > 0 && req.Input[0] == '"' {
		var one string
		_ = json.Unmarshal(req.Input, &one)
		inputs = []string{one}
	} else {
		_ = json.Unmarshal(req.Input, &inputs)
	}
	dims := req.Dimensions
	if dims <= 0 {
		dims = 8
	}
	var tokens int64
	data := make([]any, len(inputs))
	for i, in := range inputs {
		// Roughly one token per four characters, at least one.
		tokens += int64(max(1, (utf8.RuneCountInString(in)+3)/4))
		vec := make([]float32, dims)
		for j := range vec {
			vec[j] = float32(int32(hash32(fmt.Sprint(sd, in, j))%2001)-1000) / 1000
		}
		var emb any = vec
		if req.EncodingFormat == "base64" {
			var buf bytes.Buffer
			for _, f := range vec {
				_ = binary.Write(&buf, binary.LittleEndian, math.Float32bits(f))
			}
			emb = base64.StdEncoding.EncodeToString(buf.Bytes())
		}
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": emb}
	}
	e.Status = http.StatusOK
	e.Gzipped = writeJSON(w, r, http.StatusOK, map[string]any{
		"object": "list", "data": data, "model": req.Model,
		"usage": map[string]int64{"prompt_tokens": tokens, "total_tokens": tokens},
	})
	e.Expect = &expect{PromptTokens: tokens, TotalTokens: tokens}
	e.UsageReported = true
	s.record(r, e)
}
