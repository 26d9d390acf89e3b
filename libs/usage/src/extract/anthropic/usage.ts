// Anthropic's Usage / MessageDeltaUsage object: parsing, the stream merge, and normalisation into the event
// convention (decisions.md, "Usage and cost").
import type { TokenCounts } from '@spendops/contracts';
import { zeroTokens } from '@spendops/contracts';
import { type JsonObject, type JsonValue, isObject } from '../../json/exact-json';
import { type Num, satAdd, wireNum } from '../../json/numbers';

export interface ApiUsage {
  input: Num;
  output: Num;
  cacheCreation: Num;
  cacheRead: Num;
  /** Nested objects are absent (null) when the source had none, so a merge leaves the earlier value alone. */
  split: { w5m: Num; w1h: Num } | null;
  serverTools: { webSearch: Num; webFetch: Num } | null;
  thinking: Num | null;
  serviceTier: string | null;
}

const none = (): Num => ({ v: 0, ok: false });

export function emptyUsage(): ApiUsage {
  return {
    input: none(),
    output: none(),
    cacheCreation: none(),
    cacheRead: none(),
    split: null,
    serverTools: null,
    thinking: null,
    serviceTier: null,
  };
}

/** Decodes a usage object; undefined when it is not a JSON object. Wrongly typed members are skipped. */
export function parseUsage(v: JsonValue | undefined): ApiUsage | undefined {
  if (!isObject(v)) return undefined;
  const u = emptyUsage();
  u.input = wireNum(v.input_tokens);
  u.output = wireNum(v.output_tokens);
  u.cacheCreation = wireNum(v.cache_creation_input_tokens);
  u.cacheRead = wireNum(v.cache_read_input_tokens);
  const cc = v.cache_creation;
  if (isObject(cc))
    u.split = { w5m: wireNum(cc.ephemeral_5m_input_tokens), w1h: wireNum(cc.ephemeral_1h_input_tokens) };
  const st = v.server_tool_use;
  if (isObject(st)) {
    u.serverTools = { webSearch: wireNum(st.web_search_requests), webFetch: wireNum(st.web_fetch_requests) };
  }
  const od: JsonObject | undefined = isObject(v.output_tokens_details) ? v.output_tokens_details : undefined;
  if (od) u.thinking = wireNum(od.thinking_tokens);
  if (typeof v.service_tier === 'string') u.serviceTier = v.service_tier;
  return u;
}

/**
 * Takes o's value when present. A zero never replaces a non-zero value: the fields are cumulative totals, and
 * some Anthropic-compatible servers zero-fill delta fields they do not track.
 */
function mergeNum(n: Num, o: Num): Num {
  return o.ok && (o.v > 0 || n.v === 0) ? o : n;
}

/** Overwrites every field o carries: message_delta's fields are cumulative, the latest wins, nothing adds. */
export function mergeUsage(u: ApiUsage, o: ApiUsage): ApiUsage {
  const split = o.split
    ? {
        w5m: mergeNum(u.split?.w5m ?? none(), o.split.w5m),
        w1h: mergeNum(u.split?.w1h ?? none(), o.split.w1h),
      }
    : u.split;
  const serverTools = o.serverTools
    ? {
        webSearch: mergeNum(u.serverTools?.webSearch ?? none(), o.serverTools.webSearch),
        webFetch: mergeNum(u.serverTools?.webFetch ?? none(), o.serverTools.webFetch),
      }
    : u.serverTools;
  return {
    input: mergeNum(u.input, o.input),
    output: mergeNum(u.output, o.output),
    cacheCreation: mergeNum(u.cacheCreation, o.cacheCreation),
    cacheRead: mergeNum(u.cacheRead, o.cacheRead),
    split,
    serverTools,
    thinking: o.thinking ? mergeNum(u.thinking ?? none(), o.thinking) : u.thinking,
    serviceTier: o.serviceTier ?? u.serviceTier,
  };
}

/**
 * input_tokens excludes cache reads and writes, so prompt = input + cache read + cache write (each once, from
 * the merged usage). The TTL split comes from cache_creation; writes it does not cover count as 5-minute
 * writes (the default TTL); a split larger than the total wins. Completion is output_tokens (thinking inside).
 */
export function normaliseUsage(u: ApiUsage): { tokens: TokenCounts; webSearches: number; tier: string } {
  const t = zeroTokens();
  let w5 = u.split?.w5m.v ?? 0;
  const w1 = u.split?.w1h.v ?? 0;
  let write = u.cacheCreation.v;
  const split = satAdd(w5, w1);
  if (write < split) write = split;
  else w5 = satAdd(w5, write - split);
  t.cache_read_tokens = u.cacheRead.v;
  t.cache_write_tokens = write;
  t.cache_write_5m_tokens = w5;
  t.cache_write_1h_tokens = w1;
  t.prompt_tokens = satAdd(satAdd(u.input.v, t.cache_read_tokens), t.cache_write_tokens);
  t.completion_tokens = u.output.v;
  if (u.thinking) t.reasoning_tokens = Math.min(u.thinking.v, t.completion_tokens);
  t.total_tokens = satAdd(t.prompt_tokens, t.completion_tokens);
  return { tokens: t, webSearches: u.serverTools?.webSearch.v ?? 0, tier: u.serviceTier ?? '' };
}
