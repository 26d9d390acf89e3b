// Cross-check against genai-prices' dataset (1,577 real usage blocks from recorded cassettes, each with the
// usage genai-prices' extractors made of it): the same pairs, agreements and classes of deliberate
// difference as the reference's genaiprices tests.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type JsonObject, type JsonValue, isObject, parseExact } from '../json/exact-json';
import { looseCount } from '../json/numbers';
import { AnthropicExtractor } from './anthropic/anthropic-extractor';
import { GeminiExtractor } from './gemini/gemini-extractor';
import { OpenAIExtractor } from './openai/openai-extractor';
import type { ExtractRequest, UsageReport } from './report';
import { run } from './testkit';

const shared = process.env.SPENDOPS_SHARED_DIR ?? join(__dirname, '../../../../../shared');
const dataset = join(shared, 'pricing-reference/genai-prices/tests/dataset/usages.json');
const present = existsSync(dataset);
if (!present && process.env.CI) throw new Error(`genai-prices dataset not found at ${dataset}`);
const suite = present ? describe : describe.skip;

interface Block {
  body: { file: string; model?: string; usage?: unknown; modelVersion?: string; usageMetadata?: unknown };
  extracted: { extractors: { provider_id: string; api_flavor: string }[]; usage: Record<string, number> }[];
}
const blocks = (): Block[] => JSON.parse(readFileSync(dataset, 'utf8')) as Block[];
const want = (b: Block, provider: string, flavor: string): Record<string, number> | undefined => {
  let w: Record<string, number> | undefined;
  for (const ex of b.extracted) {
    for (const e of ex.extractors) if (e.provider_id === provider && e.api_flavor === flavor) w = ex.usage;
  }
  return w;
};

const BUCKET_KEYS = [
  'input_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'input_audio_tokens',
  'input_image_tokens',
  'output_tokens',
  'output_reasoning_tokens',
  'output_audio_tokens',
  'output_image_tokens',
  'web_searches',
];
function buckets(r: UsageReport): Record<string, number> {
  const t = r.tokens;
  return {
    input_tokens: t.prompt_tokens,
    output_tokens: t.completion_tokens,
    output_reasoning_tokens: t.reasoning_tokens,
    cache_read_tokens: t.cache_read_tokens,
    cache_write_tokens: t.cache_write_tokens,
    input_audio_tokens: t.prompt_audio_tokens,
    input_image_tokens: t.prompt_image_tokens,
    output_audio_tokens: t.completion_audio_tokens,
    output_image_tokens: t.completion_image_tokens,
    web_searches: r.webSearchRequests,
  };
}
const req = (over: Partial<ExtractRequest>): ExtractRequest => ({
  provider: '',
  method: 'POST',
  endpoint: '',
  model: '',
  stream: false,
  requestBody: null,
  statusCode: 200,
  contentType: 'application/json',
  ...over,
});

/** An integer at a path in a usage object (0 when absent), read like the OpenAI extractor reads counts. */
function num(u: JsonObject, ...path: string[]): number {
  let v: JsonValue | undefined = u;
  for (const k of path) v = isObject(v) ? v[k] : undefined;
  return looseCount(v);
}

// genai-prices extractor (provider_id/api_flavor) → the provider and endpoint it stands for.
const flavours: Record<string, [string, string]> = {
  'openai/chat': ['openai', '/v1/chat/completions'],
  'openai/responses': ['openai', '/v1/responses'],
  'openai/embeddings': ['openai', '/v1/embeddings'],
  'x-ai/chat': ['xai', '/v1/chat/completions'],
  'groq/default': ['groq', '/openai/v1/chat/completions'],
  'deepseek/chat': ['deepseek', '/chat/completions'],
  'perplexity/default': ['perplexity', '/chat/completions'],
  'openrouter/chat': ['openrouter', '/api/v1/chat/completions'],
  'mistral/default': ['mistral', '/v1/chat/completions'],
  'cerebras/chat': ['cerebras', '/v1/chat/completions'],
  'fireworks/chat': ['fireworks', '/inference/v1/chat/completions'],
  'zai/chat': ['zai', '/api/paas/v4/chat/completions'],
  'google/chat': ['google', '/v1beta/openai/chat/completions'],
  'anthropic/chat': ['anthropic', '/v1/chat/completions'],
  'huggingface_nebius/chat': ['nebius', '/v1/chat/completions'],
  'huggingface_novita/chat': ['novita', '/openai/v1/chat/completions'],
  'huggingface_fireworks-ai/chat': ['fireworks', '/inference/v1/chat/completions'],
};

type Match = (fl: string, bucket: string, u: JsonObject, ours: number, theirs: number) => boolean;
// Every class of deliberate disagreement (the reference's expectedDiffs, same names and reasons).
const expectedDiffs: [string, Match][] = [
  // genai-prices' x-ai extractor always adds reasoning to output; we only when the total does not prove it inside.
  [
    'xai-total-proves-reasoning-included',
    (fl, b, u, ours, theirs) =>
      fl === 'x-ai/chat' &&
      b === 'output_tokens' &&
      theirs - ours === num(u, 'completion_tokens_details', 'reasoning_tokens') &&
      num(u, 'total_tokens') === num(u, 'prompt_tokens') + num(u, 'completion_tokens'),
  ],
  // Gemini-compat can leave thinking out of completion_tokens; we add the total's gap to output and reasoning.
  [
    'gemini-compat-thinking-from-total',
    (fl, b, u, ours, theirs) => {
      const gap = num(u, 'total_tokens') - num(u, 'prompt_tokens') - num(u, 'completion_tokens');
      return (
        fl === 'google/chat' &&
        gap > 0 &&
        (b === 'output_tokens' || b === 'output_reasoning_tokens') &&
        ours - theirs <= gap
      );
    },
  ],
  // Mistral's num_cached_tokens is read whatever the host.
  [
    'mistral-num-cached-tokens',
    (_fl, b, u, ours, theirs) =>
      b === 'cache_read_tokens' && theirs === 0 && ours === num(u, 'num_cached_tokens'),
  ],
  // The detail fields mean the same for every host; some genai-prices extractors map only a subset.
  [
    'generic-details-for-every-host',
    (_fl, b, u, ours, theirs) => {
      if (theirs !== 0) return false;
      switch (b) {
        case 'cache_read_tokens':
          return ours === num(u, 'prompt_tokens_details', 'cached_tokens');
        case 'output_reasoning_tokens':
          return ours === num(u, 'completion_tokens_details', 'reasoning_tokens');
        case 'cache_write_tokens':
          return (
            ours === num(u, 'prompt_tokens_details', 'cache_write_tokens') ||
            ours === num(u, 'input_tokens_details', 'cache_write_tokens')
          );
        case 'input_audio_tokens':
          return ours === num(u, 'prompt_tokens_details', 'audio_tokens');
        case 'output_audio_tokens':
          return ours === num(u, 'completion_tokens_details', 'audio_tokens');
        case 'input_image_tokens':
          return ours === num(u, 'prompt_tokens_details', 'image_tokens');
        case 'output_image_tokens':
          return ours === num(u, 'completion_tokens_details', 'image_tokens');
      }
      return false;
    },
  ],
  // genai-prices' embeddings extractor reads only prompt_tokens; chat blocks run through it keep their counts.
  [
    'embeddings-flavour-on-chat-blocks',
    (fl, b, _u, _ours, theirs) => fl === 'openai/embeddings' && b !== 'input_tokens' && theirs === 0,
  ],
  // DeepSeek's prompt_cache_hit_tokens is read whatever the host.
  [
    'deepseek-cache-hit-for-every-host',
    (_fl, b, u, ours, theirs) =>
      b === 'cache_read_tokens' && ours === num(u, 'prompt_cache_hit_tokens') && theirs < ours,
  ],
  // Perplexity citation_tokens stay in raw (its reported cost prices them).
  [
    'perplexity-citation-tokens',
    (fl, b, u, ours, theirs) =>
      fl === 'perplexity/default' && b === 'output_tokens' && theirs - ours === num(u, 'citation_tokens'),
  ],
];

function wrapUsage(path: string, model: string, u: string): string {
  const m = JSON.stringify(model);
  if (path.endsWith('/responses')) {
    return `{"id":"resp_1","object":"response","status":"completed","model":${m},"output":[],"usage":${u}}`;
  }
  if (path.endsWith('/embeddings')) return `{"object":"list","data":[],"model":${m},"usage":${u}}`;
  return `{"id":"chatcmpl-1","object":"chat.completion","model":${m},"choices":[],"usage":${u}}`;
}

suite('genai-prices dataset', () => {
  it('OpenAI dialect: 6979 pairs, 5898 in full agreement, every difference in a known class', () => {
    let pairs = 0;
    let agree = 0;
    const classes: Record<string, number> = Object.fromEntries(expectedDiffs.map(([n]) => [n, 0]));
    const unexpected: string[] = [];
    for (const b of blocks()) {
      if (!isObject(b.body.usage as JsonValue)) continue;
      const text = JSON.stringify(b.body.usage);
      const u = parseExact(text) as JsonObject;
      for (const ex of b.extracted) {
        for (const x of ex.extractors) {
          const fl = `${x.provider_id}/${x.api_flavor}`;
          const target = flavours[fl];
          if (!target) continue;
          const [provider, path] = target;
          const r = run(
            (q) => new OpenAIExtractor(q),
            req({ provider, endpoint: path }),
            Buffer.from(wrapUsage(path, b.body.model ?? '', text)),
          );
          pairs++;
          let ok = true;
          if (!r.found && Object.keys(ex.usage).length > 0) {
            ok = false;
            unexpected.push(`${fl} ${b.body.file}: usage not found`);
          }
          const got = buckets(r);
          for (const key of BUCKET_KEYS) {
            const ours = got[key];
            const theirs = ex.usage[key] ?? 0;
            if (ours === theirs) continue;
            ok = false;
            const cls = expectedDiffs.find(([, match]) => match(fl, key, u, ours, theirs));
            if (!cls)
              unexpected.push(`${fl} ${b.body.file} ${key}: ours ${ours} theirs ${theirs} usage ${text}`);
            else classes[cls[0]]++;
          }
          if (ok) agree++;
        }
      }
    }
    expect(unexpected.slice(0, 30)).toEqual([]);
    expect([pairs, agree]).toEqual([6979, 5898]);
    expect(classes).toEqual({
      'xai-total-proves-reasoning-included': 73,
      'gemini-compat-thinking-from-total': 4,
      'mistral-num-cached-tokens': 464,
      'generic-details-for-every-host': 270,
      'embeddings-flavour-on-chat-blocks': 406,
      'deepseek-cache-hit-for-every-host': 0,
      'perplexity-citation-tokens': 0,
    });
  });

  it('Anthropic: 226 blocks, all agree, JSON and stream give the same buckets', () => {
    let total = 0;
    let agree = 0;
    const problems: string[] = [];
    for (const [i, b] of blocks().entries()) {
      if (!b.body.model?.startsWith('claude') || !isObject(b.body.usage as JsonValue)) continue;
      const raw = b.body.usage as Record<string, unknown>;
      if ('prompt_tokens' in raw) continue; // an OpenAI-compatible gateway's shape
      const w = want(b, 'anthropic', 'default');
      if (!w) {
        problems.push(`block ${i}: genai-prices' anthropic extractor did not apply`);
        continue;
      }
      total++;
      const usage = JSON.stringify(raw);
      const body = JSON.stringify({ id: 'msg_x', type: 'message', model: b.body.model, usage: raw });
      const make = (q: ExtractRequest) => new AnthropicExtractor(q);
      const r = run(make, req({ provider: 'anthropic', endpoint: '/v1/messages' }), Buffer.from(body));
      if (!r.found) {
        problems.push(`block ${i}: usage not found`);
        continue;
      }
      const stream =
        `event: message_start\ndata: {"type":"message_start","message":{"id":"msg_x","usage":${JSON.stringify({ ...raw, output_tokens: 1 })}}}\n\n` +
        `event: message_delta\ndata: {"type":"message_delta","usage":${usage}}\n\n`;
      const rs = run(
        make,
        req({ provider: 'anthropic', endpoint: '/v1/messages', contentType: 'text/event-stream' }),
        Buffer.from(stream),
      );
      if (
        JSON.stringify(rs.tokens) !== JSON.stringify(r.tokens) ||
        rs.webSearchRequests !== r.webSearchRequests
      ) {
        problems.push(`block ${i}: streamed and JSON differ`);
      }
      const got: Record<string, number> = {
        ...buckets(r),
        cache_write_5m_tokens: r.tokens.cache_write_5m_tokens,
        cache_write_1h_tokens: r.tokens.cache_write_1h_tokens,
      };
      for (const k of Object.keys(w)) if (!(k in got)) problems.push(`block ${i}: key ${k} has no bucket`);
      const diff = Object.keys(got).filter((k) => (w[k] ?? 0) !== got[k]);
      if (diff.length === 0) agree++;
      // The one deliberate difference: writes without a TTL split count as 5-minute writes.
      else if (!(diff.every((k) => k === 'cache_write_5m_tokens') && !('cache_creation' in raw))) {
        problems.push(`block ${i}: unexpected disagreement on ${diff.join(',')}`);
      }
    }
    expect(problems).toEqual([]);
    expect([total, agree]).toEqual([226, 226]);
  });

  it('Gemini: 451 blocks, all agree, JSON and a stream snapshot give the same buckets', () => {
    const noBucket = new Set([
      'input_text_tokens',
      'output_text_tokens',
      'input_video_tokens',
      'output_video_tokens',
      'input_tool_tokens',
      'input_text_tool_tokens',
      'input_audio_tool_tokens',
      'input_image_tool_tokens',
      'input_video_tool_tokens',
      'cache_text_read_tokens',
      'cache_audio_read_tokens',
      'cache_image_read_tokens',
      'cache_video_read_tokens',
    ]);
    const flash = '/v1beta/models/gemini-2.5-flash';
    let total = 0;
    let agree = 0;
    const problems: string[] = [];
    for (const [i, b] of blocks().entries()) {
      if (b.body.usageMetadata === undefined || b.body.usageMetadata === null) continue;
      const w = want(b, 'google', 'default');
      if (!w) {
        problems.push(`block ${i}: google extractor did not apply`);
        continue;
      }
      total++;
      const body = JSON.stringify({ usageMetadata: b.body.usageMetadata, modelVersion: b.body.modelVersion });
      const make = (q: ExtractRequest) => new GeminiExtractor(q);
      const r = run(
        make,
        req({ provider: 'google', endpoint: flash + ':generateContent' }),
        Buffer.from(body),
      );
      if (!r.found || r.responseModel !== (b.body.modelVersion ?? '')) {
        problems.push(`block ${i}: found=${r.found} model=${r.responseModel}`);
        continue;
      }
      const sse = `data: {"usageMetadata":{"promptTokenCount":1}}\r\n\r\ndata: ${body}\r\n\r\n`;
      const rs = run(
        make,
        req({
          provider: 'google',
          endpoint: flash + ':streamGenerateContent',
          contentType: 'text/event-stream',
        }),
        Buffer.from(sse),
      );
      if (JSON.stringify(rs.tokens) !== JSON.stringify(r.tokens))
        problems.push(`block ${i}: streamed differs`);
      const got = buckets(r);
      for (const [k, v] of Object.entries(w)) {
        if (k in got) continue;
        if (!noBucket.has(k)) problems.push(`block ${i}: key ${k} has no bucket`);
        const parent = k.startsWith('output') ? got.output_tokens : got.input_tokens;
        if (v > parent) problems.push(`block ${i}: ${k}=${v} exceeds its parent`);
      }
      const diff = Object.keys(got).filter((k) => (w[k] ?? 0) !== got[k]);
      if (diff.length === 0) agree++;
      else problems.push(`block ${i}: unexpected disagreement on ${diff.join(',')}`);
    }
    expect(problems).toEqual([]);
    expect([total, agree]).toEqual([451, 451]);
  });
});
