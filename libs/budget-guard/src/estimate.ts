// The most tokens a request can bill, read cheaply from its buffered JSON body: no tokenizer and no JSON.parse
// on the request path. The prompt is bounded by the body's size (a byte-level BPE token covers at least one
// byte of text); the output by the request's own cap in any dialect's spelling, else a configured default.
export interface EstimateOptions {
  /** Body bytes per prompt token (1 = a true upper bound for text; larger values reserve less). */
  promptBytesPerToken: number;
  /** Output tokens reserved when the request names no cap. */
  defaultMaxOutputTokens: number;
}

export interface TokenEstimate {
  prompt: number;
  output: number;
}

/**
 * Output caps by dialect: OpenAI chat (`max_tokens`, `max_completion_tokens`), OpenAI Responses
 * (`max_output_tokens`), Anthropic (`max_tokens`), Gemini (`generationConfig.maxOutputTokens`), Bedrock Converse
 * (`inferenceConfig.maxTokens`), text-generation servers (`max_new_tokens`).
 */
const OUTPUT_CAP_KEYS = [
  'max_tokens',
  'max_completion_tokens',
  'max_output_tokens',
  'maxOutputTokens',
  'maxTokens',
  'max_new_tokens',
].map((k) => Buffer.from(`"${k}"`));
/** Choices generated per request (OpenAI `n`, Gemini `candidateCount`): each may use the whole cap. */
const CHOICE_KEYS = ['n', 'candidateCount'].map((k) => Buffer.from(`"${k}"`));
const MAX_CHOICES = 128;

/**
 * The largest non-negative integer value of `key` anywhere in the body (a quoted key inside a string value is
 * escaped, so it cannot match; a key whose value is not a number is skipped). -1 when there is none.
 */
export function largestIntegerValue(body: Buffer, key: Buffer): number {
  let best = -1;
  for (let at = body.indexOf(key); at >= 0; at = body.indexOf(key, at + key.length)) {
    let i = at + key.length;
    while (i < body.length && isWs(body[i])) i++;
    if (body[i] !== 0x3a) continue; // ':'
    i++;
    while (i < body.length && isWs(body[i])) i++;
    let n = 0;
    let digits = 0;
    while (i < body.length && body[i] >= 0x30 && body[i] <= 0x39 && digits < 15) {
      n = n * 10 + (body[i] - 0x30);
      digits++;
      i++;
    }
    if (digits > 0 && n > best) best = n;
  }
  return best;
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export function estimateTokens(body: Buffer | null, o: EstimateOptions): TokenEstimate {
  if (!body || body.length === 0) return { prompt: 0, output: o.defaultMaxOutputTokens };
  let cap = -1;
  for (const key of OUTPUT_CAP_KEYS) cap = Math.max(cap, largestIntegerValue(body, key));
  let choices = 1;
  for (const key of CHOICE_KEYS) choices = Math.max(choices, largestIntegerValue(body, key));
  const output = (cap >= 0 ? cap : o.defaultMaxOutputTokens) * Math.min(choices, MAX_CHOICES);
  return { prompt: Math.ceil(body.length / o.promptBytesPerToken), output };
}
