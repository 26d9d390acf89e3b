package estimate

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Framing follows the classic OpenAI cookbook rule for chat models: each
// message costs its role and content tokens plus about 3 tokens of
// delimiters (1 more when it carries a name), and the reply is primed with 3
// more. Newer models differ by a few tokens; other providers' framing is not
// published, so the same rule is applied to them as an approximation.
const (
	tokensPerMessage = 3
	tokensPerName    = 1
	tokensReplyPrime = 3
)

// PromptTokens estimates the input tokens of a JSON request body and the
// number of text characters it counted. It understands these shapes, and
// any mix of them in one body:
//
//   - OpenAI chat: "messages" with string content or content parts' "text",
//     names, tool calls' names and arguments, plus the framing above;
//   - OpenAI legacy completions: "prompt" as a string, strings, or token-id
//     arrays (each id is one token, exactly);
//   - OpenAI Responses: "instructions" and "input" (a string, or items with
//     content parts, function call arguments and outputs; object items are
//     framed like messages);
//   - OpenAI embeddings: "input" as a string, strings, or token-id arrays;
//   - Anthropic Messages: "system" (string or text blocks) and "messages"
//     (text, tool_use input, tool_result content);
//   - Gemini: "contents" parts' "text", function calls and responses, and
//     "systemInstruction" / "system_instruction".
//
// Tool definitions ("tools", legacy "functions") are counted as their JSON
// text. Images, audio, files and other non-text parts are not counted: their
// token cost depends on provider-specific rules (tiles, seconds) that an
// estimate from the body cannot follow, so the estimate is low for
// multimodal requests. A body that is not valid JSON gives 0, 0.
//
// The body is decoded once with encoding/json; fields that are not text
// (base64 images included) are skipped without being copied, so extra
// memory is about the size of the text counted. A body nested deeper than
// 128 levels is not decoded: it is estimated as chars/4 of the whole body.
func PromptTokens(provider, model string, body []byte) (tokens int64, chars int64) {
	if len(bytes.TrimSpace(body)) == 0 {
		return 0, 0
	}
	if jsonDepth(body) > maxDepth {
		// Each nesting level of the decode below re-validates its own
		// bytes, so depth costs quadratic time. No real request nests this
		// deep; count the whole body rather than let it be free.
		n := int64(utf8.RuneCount(body))
		return charsToTokens(n), n
	}
	var b requestBody
	if err := json.Unmarshal(body, &b); err != nil {
		return 0, 0
	}
	a := tally{c: counterFor(EncodingFor(provider, model))}
	a.messages(b.Messages)
	a.messages(b.Contents)
	if b.SystemInstruction != nil {
		a.item(b.SystemInstruction)
	}
	if b.SystemInstruction2 != nil {
		a.item(b.SystemInstruction2)
	}
	a.flex(&b.System)
	a.flex(&b.Instructions)
	a.flex(&b.Prompt)
	a.input(&b.Input)
	a.text(string(b.Tools))
	a.text(string(b.Functions))
	if a.framed {
		a.framing += tokensReplyPrime
	}
	return a.total(), a.chars
}

// maxDepth bounds the JSON nesting PromptTokens decodes; real requests stay
// far below it (a tool schema nested 20 deep is already unusual).
const maxDepth = 128

// jsonDepth returns the deepest nesting of objects and arrays in b, skipping
// brackets inside strings. It does not validate.
func jsonDepth(b []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// requestBody holds the fields of every supported shape; encoding/json skips
// the rest without allocating.
type requestBody struct {
	Messages           []item  `json:"messages"`
	Contents           []item  `json:"contents"`
	SystemInstruction  *item   `json:"systemInstruction"`
	SystemInstruction2 *item   `json:"system_instruction"`
	System             flex    `json:"system"`
	Instructions       flex    `json:"instructions"`
	Prompt             flex    `json:"prompt"`
	Input              flex    `json:"input"`
	Tools              rawText `json:"tools"`
	Functions          rawText `json:"functions"`
}

// item is a message, a content part, a Responses input item or a Gemini
// part: one struct for all of them, since their text fields do not clash.
type item struct {
	Role      string `json:"role"`
	Name      string `json:"name"`
	Content   flex   `json:"content"`
	Text      string `json:"text"`
	Refusal   string `json:"refusal"`
	Arguments string `json:"arguments"`
	Output    flex   `json:"output"`
	// Anthropic tool_use input (a JSON object), counted as JSON text.
	Input            rawText `json:"input"`
	Parts            []item  `json:"parts"`
	ToolCalls        []item  `json:"tool_calls"`
	Function         *item   `json:"function"`
	FunctionCall     rawText `json:"functionCall"`
	FunctionResponse rawText `json:"functionResponse"`
}

// flex is a field that may be a string, a number (a token id), an array of
// any of these, or an object (an item).
type flex struct {
	str  string
	ids  int64
	list []flex
	obj  *item
}

func (f *flex) UnmarshalJSON(b []byte) error {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return nil
	}
	switch c := b[0]; {
	case c == '"':
		return json.Unmarshal(b, &f.str)
	case c == '[':
		return json.Unmarshal(b, &f.list)
	case c == '{':
		f.obj = new(item)
		return json.Unmarshal(b, f.obj)
	case c == '-' || c >= '0' && c <= '9':
		f.ids = 1
	}
	return nil
}

// rawText keeps a JSON value's text (tool schemas, function arguments given
// as objects) to count it as written.
type rawText []byte

func (r *rawText) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	*r = append((*r)[:0], b...)
	return nil
}

// tally accumulates text, exact token ids and framing. For chars/4 the
// characters are summed and rounded once, so many small parts do not each
// round up.
type tally struct {
	c       Counter
	chars   int64
	bpe     int64 // BPE tokens of the text (BPE counters only)
	ids     int64 // token ids given as numbers
	framing int64
	framed  bool
}

func (a *tally) text(s string) {
	if s == "" {
		return
	}
	a.chars += int64(utf8.RuneCountInString(s))
	if a.c.Encoding() != CharsPer4 {
		a.bpe += a.c.Count(s)
	}
}

func (a *tally) total() int64 {
	t := a.bpe
	if a.c.Encoding() == CharsPer4 {
		t = charsToTokens(a.chars)
	}
	return t + a.ids + a.framing
}

func (a *tally) messages(ms []item) {
	for i := range ms {
		a.message(&ms[i])
	}
}

// message counts one framed message: its role is tokenized like content.
func (a *tally) message(m *item) {
	a.framed = true
	a.framing += tokensPerMessage
	if m.Role != "" {
		a.framing += a.c.Count(m.Role)
		// A participant name; Responses function_call items also have a
		// name, but it is the function's and has no role.
		if m.Name != "" {
			a.framing += tokensPerName
		}
	}
	a.item(m)
}

func (a *tally) item(m *item) {
	a.text(m.Name)
	a.flex(&m.Content)
	a.text(m.Text)
	a.text(m.Refusal)
	a.text(m.Arguments)
	a.flex(&m.Output)
	a.text(string(m.Input))
	for i := range m.Parts {
		a.item(&m.Parts[i])
	}
	for i := range m.ToolCalls {
		a.item(&m.ToolCalls[i])
	}
	if m.Function != nil {
		a.item(m.Function)
	}
	a.text(string(m.FunctionCall))
	a.text(string(m.FunctionResponse))
}

func (a *tally) flex(f *flex) {
	a.text(f.str)
	a.ids += f.ids
	for i := range f.list {
		a.flex(&f.list[i])
	}
	if f.obj != nil {
		a.item(f.obj)
	}
}

// input handles a top-level "input": object items (Responses messages) are
// framed like chat messages; strings and token ids (embeddings, or a
// Responses string input) are counted as they are.
func (a *tally) input(f *flex) {
	if f.obj != nil {
		a.message(f.obj)
		return
	}
	if f.list == nil {
		a.flex(f)
		return
	}
	for i := range f.list {
		e := &f.list[i]
		if e.obj != nil {
			a.message(e.obj)
		} else {
			a.flex(e)
		}
	}
}
