// Picks the extractor for one response: by the provider's dialect, and by the endpoint path (relative to the
// provider, never an upstream URL prefix) for the OpenAI-compatible endpoints Anthropic and Gemini also serve.
import type { ProviderDialect } from '@spendops/contracts';
import { AnthropicExtractor } from './anthropic/anthropic-extractor';
import { GeminiExtractor } from './gemini/gemini-extractor';
import { OpenAIExtractor } from './openai/openai-extractor';
import type { ExtractRequest, UsageExtractor } from './report';

export function extractorFor(dialect: ProviderDialect, req: ExtractRequest): UsageExtractor {
  switch (dialect) {
    case 'anthropic':
      // Anthropic's OpenAI-compatible endpoint answers in OpenAI's shapes.
      return req.endpoint.endsWith('/chat/completions')
        ? new OpenAIExtractor(req)
        : new AnthropicExtractor(req);
    case 'gemini':
      // Gemini's OpenAI-compatible endpoint lives under /v1beta/openai/.
      return req.endpoint.includes('/openai/') ? new OpenAIExtractor(req) : new GeminiExtractor(req);
    default:
      return new OpenAIExtractor(req);
  }
}
