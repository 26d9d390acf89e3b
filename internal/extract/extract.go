// Package extract picks the usage extractor for a response: by the
// provider's dialect, and by path for the OpenAI-compatible endpoints that
// Anthropic and Gemini also serve.
package extract

import (
	"strings"

	"github.com/spendops/spendops/internal/extract/anthropic"
	"github.com/spendops/spendops/internal/extract/gemini"
	"github.com/spendops/spendops/internal/extract/openai"
	"github.com/spendops/spendops/internal/provider"
	"github.com/spendops/spendops/internal/usage"
)

// New returns the extractor for one response. It is a usage.ExtractorFactory.
func New(req usage.Request) usage.Extractor {
	switch req.Dialect {
	case provider.DialectAnthropic:
		// Anthropic's OpenAI-compatible endpoint answers in OpenAI's shapes.
		if strings.HasSuffix(req.Path, "/chat/completions") {
			return openai.New(req)
		}
		return anthropic.New(req)
	case provider.DialectGemini:
		// Gemini's OpenAI-compatible endpoint lives under /v1beta/openai/.
		if strings.Contains(req.Path, "/openai/") {
			return openai.New(req)
		}
		return gemini.New(req)
	}
	return openai.New(req)
}
