package extract

import (
	"github.com/spendops/spendops/internal/extract/openai"
	"github.com/spendops/spendops/internal/usage"
)

// newGemini is replaced when the native Gemini extractor lands.
func newGemini(req usage.Request) usage.Extractor { return openai.New(req) }
