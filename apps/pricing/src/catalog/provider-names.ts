// Provider-name knowledge shared by the converters and the lookup.

/** Route aliases of built-in providers (the proxy accepts both names). */
export const PROVIDER_ALIASES: Readonly<Record<string, string>> = { 'google-ai-studio': 'google' };

export function canonicalProvider(name: string): string {
  return PROVIDER_ALIASES[name] ?? name;
}

/** Prefixes naming the provider itself inside a model name ("openai/gpt-4o", "accounts/fireworks/models/…"). */
export const PROVIDER_MODEL_PREFIXES: Readonly<Record<string, readonly string[]>> = {
  openai: ['openai/'],
  anthropic: ['anthropic/'],
  google: ['gemini/', 'google/', 'models/'],
  xai: ['xai/', 'x-ai/'],
  groq: ['groq/'],
  deepinfra: ['deepinfra/'],
  novita: ['novita/'],
  fireworks: ['fireworks_ai/', 'fireworks/', 'accounts/fireworks/models/'],
  perplexity: ['perplexity/'],
  cerebras: ['cerebras/'],
  mistral: ['mistral/'],
  deepseek: ['deepseek/'],
  nebius: ['nebius/'],
  zai: ['zai/', 'z-ai/'],
  openrouter: ['openrouter/'],
};
