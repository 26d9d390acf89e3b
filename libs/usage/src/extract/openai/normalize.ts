// Normalises an OpenAI-dialect usage object (chat/completions, Responses, images, transcriptions, and every
// host's extras) into the event convention: prompt includes cached, completion includes reasoning, total is
// their sum whatever total_tokens said. Costs are read exactly from the number text.
import type { TokenCounts } from '@spendops/contracts';
import { zeroTokens } from '@spendops/contracts';
import { type JsonObject, type JsonValue, isObject } from '../../json/exact-json';
import { ExactDecimal, decimalOf, decimalText, looseCount } from '../../json/numbers';

/** Per-host differences in what the counts mean. */
export interface Quirks {
  /** completion_tokens may exclude completion_tokens_details.reasoning_tokens (xAI). */
  reasoningOutside: boolean;
  /** A top-level reasoning_tokens is billed output beside completion_tokens (Perplexity Deep Research). */
  topReasoning: boolean;
  /** completion_tokens may omit thinking that total_tokens includes (Gemini's OpenAI-compatible endpoint). */
  thinkingInTotal: boolean;
  /** Output tokens with no detail are image tokens (gpt-image on /images). */
  imageOutput: boolean;
  /** Output tokens are audio tokens (/audio/speech). */
  audioOutput: boolean;
}

export interface Normalized {
  tokens: TokenCounts;
  /** The object held token counts (or billed seconds). */
  ok: boolean;
  cost: string | null;
  webSearches: number;
  audioSeconds: string;
}

const has = (o: JsonObject, k: string): boolean => o[k] !== undefined && o[k] !== null;
const sub = (o: JsonObject, k: string): JsonObject => {
  const v = o[k];
  return isObject(v) ? v : {};
};

export function normalize(u: JsonObject, q: Quirks): Normalized {
  const n: Normalized = { tokens: zeroTokens(), ok: false, cost: null, webSearches: 0, audioSeconds: '0' };
  const t = n.tokens;
  const c = (o: JsonObject, k: string): number => looseCount(o[k]);
  if (has(u, 'prompt_tokens') || has(u, 'completion_tokens') || has(u, 'prompt_cache_hit_tokens')) {
    n.ok = true;
    const pd = sub(u, 'prompt_tokens_details');
    const cd = sub(u, 'completion_tokens_details');
    t.prompt_tokens = c(u, 'prompt_tokens');
    const hit = has(u, 'prompt_cache_hit_tokens') ? c(u, 'prompt_cache_hit_tokens') : undefined;
    if (!has(u, 'prompt_tokens') && hit !== undefined && has(u, 'prompt_cache_miss_tokens')) {
      t.prompt_tokens = hit + c(u, 'prompt_cache_miss_tokens');
    }
    t.completion_tokens = c(u, 'completion_tokens');
    t.cache_read_tokens = c(pd, 'cached_tokens');
    if (hit !== undefined && hit > t.cache_read_tokens) t.cache_read_tokens = hit;
    if (t.cache_read_tokens === 0)
      t.cache_read_tokens = Math.max(c(u, 'num_cached_tokens'), c(u, 'cached_tokens'));
    t.cache_write_tokens = c(pd, 'cache_write_tokens');
    t.prompt_audio_tokens = c(pd, 'audio_tokens');
    t.prompt_image_tokens = c(pd, 'image_tokens');
    t.reasoning_tokens = c(cd, 'reasoning_tokens');
    t.completion_audio_tokens = c(cd, 'audio_tokens');
    t.completion_image_tokens = c(cd, 'image_tokens');
    if (q.topReasoning && has(u, 'reasoning_tokens') && c(u, 'reasoning_tokens') > 0) {
      t.reasoning_tokens += c(u, 'reasoning_tokens');
      t.completion_tokens += c(u, 'reasoning_tokens');
    }
  } else if (has(u, 'input_tokens') || has(u, 'output_tokens')) {
    n.ok = true;
    const id = sub(u, 'input_tokens_details');
    const od = sub(u, 'output_tokens_details');
    t.prompt_tokens = c(u, 'input_tokens');
    t.completion_tokens = c(u, 'output_tokens');
    t.cache_read_tokens = c(id, 'cached_tokens');
    t.cache_write_tokens = c(id, 'cache_write_tokens');
    t.prompt_audio_tokens = c(id, 'audio_tokens');
    // Transcriptions spell it in the singular.
    if (t.prompt_audio_tokens === 0) t.prompt_audio_tokens = c(sub(u, 'input_token_details'), 'audio_tokens');
    t.prompt_image_tokens = c(id, 'image_tokens');
    t.reasoning_tokens = c(od, 'reasoning_tokens');
    if (has(od, 'image_tokens')) t.completion_image_tokens = c(od, 'image_tokens');
    else if (q.imageOutput) t.completion_image_tokens = t.completion_tokens;
    if (q.audioOutput) t.completion_audio_tokens = t.completion_tokens;
  } else if (u.type === 'duration' && u.seconds !== undefined) {
    const d = decimalOf(u.seconds);
    if (d) {
      n.ok = true;
      n.audioSeconds = decimalText(d);
    }
  }
  if (n.ok && has(u, 'total_tokens')) {
    const reported = c(u, 'total_tokens');
    const sum = t.prompt_tokens + t.completion_tokens;
    if (q.reasoningOutside && t.reasoning_tokens > 0 && reported !== sum) {
      // xAI documents completion_tokens without reasoning; trust that unless the total shows it inside.
      t.completion_tokens += t.reasoning_tokens;
    } else if (q.thinkingInTotal && reported > sum) {
      // Gemini-compat: the gap between total and prompt+completion is thinking, billed as output.
      const extra = reported - sum;
      if (t.reasoning_tokens < extra) t.reasoning_tokens = extra;
      t.completion_tokens += extra;
    }
  } else if (n.ok && q.reasoningOutside && t.reasoning_tokens > 0) {
    t.completion_tokens += t.reasoning_tokens;
  }
  t.total_tokens = t.prompt_tokens + t.completion_tokens;
  n.webSearches = c(u, 'num_search_queries');
  const cost = reportedCost(u);
  n.cost = cost ? decimalText(cost) : null;
  return n;
}

/**
 * The cost a host reported: xAI ticks (1e-10 USD), OpenRouter's number (plus the upstream inference cost
 * with bring-your-own-key, billed to the team's key separately), Perplexity's cost.total_cost, DeepInfra's
 * estimated_cost.
 */
function reportedCost(u: JsonObject): ExactDecimal | undefined {
  const ticks = decimalOf(u.cost_in_usd_ticks);
  if (ticks) return ticks.div(new ExactDecimal(10).pow(10));
  const cost = decimalOf(u.cost);
  if (cost) {
    if (u.is_byok === true) {
      const up = decimalOf(sub(u, 'cost_details').upstream_inference_cost);
      if (up) return cost.add(up);
    }
    return cost;
  }
  const pc = u.cost as JsonValue | undefined;
  if (isObject(pc)) {
    const total = decimalOf(pc.total_cost);
    if (total) return total;
  }
  return decimalOf(u.estimated_cost);
}
