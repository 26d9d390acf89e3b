// The upstream providers SpendOps fronts: names, base URLs, wire dialects, and the few path mappings their
// documented SDK base URLs need.
import type { ProviderDialect } from '@spendops/contracts';

export const DIALECTS: readonly ProviderDialect[] = ['openai-compatible', 'anthropic', 'gemini'];

/** One upstream, as the registry resolved it. Immutable. */
export interface ProviderDefinition {
  /** Route segment: `/v1/{name}/...`. */
  readonly name: string;
  /** `scheme://host[:port]`. */
  readonly origin: string;
  /** Base path without a trailing slash ('' for none); the client path is appended to it verbatim. */
  readonly basePath: string;
  readonly dialect: ProviderDialect;
  /** Splice `stream_options.include_usage=true` into streaming chat requests that lack it. */
  readonly injectStreamUsage: boolean;
  /**
   * Removed from the start of the client path (a whole segment only), so the documented SDK base URL
   * (`.../v1/{name}/v1`) reaches providers whose base already is an OpenAI-compatible root (DeepInfra, Novita).
   */
  readonly stripPrefix: string;
}

/** The configurable description of a provider (config file / env); snake_case as in the YAML. */
export interface ProviderDefinitionInput {
  name: string;
  base_url?: string;
  dialect?: ProviderDialect | string;
  inject_stream_usage?: boolean;
  strip_prefix?: string;
}

/**
 * The 15 providers of the hosted product's newer providers table. Streaming-usage injection follows that table:
 * never for Anthropic (native usage), OpenRouter (always included), DeepInfra, Mistral and Fireworks.
 */
export const BUILTIN_PROVIDERS: readonly Required<ProviderDefinitionInput>[] = [
  builtin('openai', 'https://api.openai.com', 'openai-compatible', true),
  builtin('anthropic', 'https://api.anthropic.com', 'anthropic', false),
  builtin('google', 'https://generativelanguage.googleapis.com', 'gemini', true),
  builtin('openrouter', 'https://openrouter.ai/api', 'openai-compatible', false),
  builtin('xai', 'https://api.x.ai', 'openai-compatible', true),
  builtin('groq', 'https://api.groq.com/openai', 'openai-compatible', true),
  builtin('deepinfra', 'https://api.deepinfra.com/v1/openai', 'openai-compatible', false, '/v1'),
  builtin('novita', 'https://api.novita.ai/v3/openai', 'openai-compatible', true, '/v1'),
  builtin('fireworks', 'https://api.fireworks.ai/inference', 'openai-compatible', false),
  builtin('perplexity', 'https://api.perplexity.ai', 'openai-compatible', true),
  builtin('cerebras', 'https://api.cerebras.ai', 'openai-compatible', true),
  builtin('mistral', 'https://api.mistral.ai', 'openai-compatible', false),
  builtin('deepseek', 'https://api.deepseek.com', 'openai-compatible', true),
  builtin('nebius', 'https://api.tokenfactory.nebius.com', 'openai-compatible', true),
  builtin('zai', 'https://api.z.ai/api/paas/v4', 'openai-compatible', true),
];

/** Alternative route names. */
export const PROVIDER_ALIASES: Readonly<Record<string, string>> = { 'google-ai-studio': 'google' };

/** Resolves an alias to its provider name. */
export function canonicalProviderName(name: string): string {
  return Object.prototype.hasOwnProperty.call(PROVIDER_ALIASES, name) ? PROVIDER_ALIASES[name] : name;
}

function builtin(
  name: string,
  base_url: string,
  dialect: ProviderDialect,
  inject_stream_usage: boolean,
  strip_prefix = '',
): Required<ProviderDefinitionInput> {
  return { name, base_url, dialect, inject_stream_usage, strip_prefix };
}
