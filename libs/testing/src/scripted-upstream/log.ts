// What the scripted upstream served, as the compatibility suite reads it at GET /_compat/log.

/**
 * The usage an event must carry for a request, in SpendOps' event convention (decisions.md: prompt_tokens
 * includes cache reads and writes, completion_tokens includes reasoning).
 */
export interface ExpectedUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
}

export function expectedUsage(u: Partial<ExpectedUsage>): ExpectedUsage {
  return {
    prompt_tokens: 0,
    completion_tokens: 0,
    total_tokens: 0,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
    ...u,
  };
}

/** One served request. Field names are the wire format compat/verify.py reads. */
export interface UpstreamLogEntry {
  seq: number;
  trace: string;
  provider: 'openai' | 'anthropic' | 'google' | '';
  method: string;
  path: string;
  query: string;
  stream: boolean;
  /** stream_options.include_usage as received (null: absent). */
  include_usage: boolean | null;
  /** X-ASO-* header names that reached the provider; the proxy must strip them. */
  aso_headers: string[];
  /** Which provider credential arrived (never its value). */
  auth: string[];
  status: number;
  gzipped: boolean;
  /** The usage the provider reported; null when it reported none. */
  expect: ExpectedUsage | null;
  /** False when the response carried no usage at all (stream without include_usage, errors, Gemini embeddings). */
  usage_reported: boolean;
}

/** What a handler fills in; the server adds what every entry shares. */
export type ServedOutcome = Pick<UpstreamLogEntry, 'provider' | 'status'> &
  Partial<Pick<UpstreamLogEntry, 'stream' | 'include_usage' | 'gzipped' | 'expect' | 'usage_reported'>>;
