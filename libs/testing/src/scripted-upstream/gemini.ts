// Google Gemini: generateContent, streamGenerateContent (alt=sse with CRLF framing, or a progressively streamed
// JSON array), embedContent/batchEmbedContents (no usage, as the real API), the Google Front End's headers and
// the RESOURCE_EXHAUSTED 429 body.
import { alnumId, hash32, REPLY_TEXT, REPLY_WORDS, unitValue } from './ids';
import { asArray, asObject, asString, Exchange, Json, JsonObject } from './exchange';
import { expectedUsage, ServedOutcome } from './log';

function geminiHeaders(x: Exchange): void {
  x.setHeaders({
    Vary: 'Origin, X-Origin, Referer',
    Server: 'scaffolding on HTTPServer2',
    'X-XSS-Protection': '0',
    'X-Frame-Options': 'SAMEORIGIN',
    'X-Content-Type-Options': 'nosniff',
    'Server-Timing': 'gfet4t7; dur=534',
    'Alt-Svc': 'h3=":443"; ma=2592000,h3-29=":443"; ma=2592000',
  });
}

interface GeminiCounts {
  prompt: number;
  cached: number;
  candidates: number;
  thoughts: number;
}

/** promptTokenCount includes cached content; thoughts are reported beside candidates and billed as output. */
function geminiCounts(seed: string, tools: boolean): GeminiCounts {
  const h = hash32(seed);
  const cached = h & 1 ? 2048 : 0;
  return {
    prompt: 7 + (h % 30) + (tools ? 41 : 0) + cached,
    cached,
    candidates: REPLY_WORDS.length + 1,
    thoughts: ((h >>> 3) & 1) * 96,
  };
}

function usageMetadata(c: GeminiCounts): JsonObject {
  const u: JsonObject = {
    promptTokenCount: c.prompt,
    candidatesTokenCount: c.candidates,
    totalTokenCount: c.prompt + c.candidates + c.thoughts,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: c.prompt }],
  };
  if (c.cached > 0) {
    u.cachedContentTokenCount = c.cached;
    u.cacheTokensDetails = [{ modality: 'TEXT', tokenCount: c.cached }];
  }
  if (c.thoughts > 0) u.thoughtsTokenCount = c.thoughts;
  return u;
}

/** `/v1beta/models/{model}:{method}` and `/v1/models/{model}:{method}`. */
export async function gemini(x: Exchange, call: string): Promise<ServedOutcome> {
  const sep = call.indexOf(':');
  geminiHeaders(x);
  if (sep < 0) {
    x.json(404, { error: { code: 404, message: 'Method not found.', status: 'NOT_FOUND' } });
    return { provider: 'google', status: 404 };
  }
  const model = call.slice(0, sep);
  const method = call.slice(sep + 1);
  if (x.seed.includes('error429')) {
    x.json(429, {
      error: {
        code: 429,
        message:
          'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
        status: 'RESOURCE_EXHAUSTED',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [
              {
                quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
                quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
                quotaDimensions: { location: 'global', model },
                quotaValue: '10',
              },
            ],
          },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '42s' },
        ],
      },
    });
    return { provider: 'google', status: 429 };
  }
  switch (method) {
    case 'generateContent':
    case 'streamGenerateContent':
      return generate(x, model, method === 'streamGenerateContent');
    case 'embedContent':
    case 'batchEmbedContents':
      return embed(x, method === 'batchEmbedContents');
    default:
      x.json(404, { error: { code: 404, message: 'Method not found.', status: 'NOT_FOUND' } });
      return { provider: 'google', status: 404 };
  }
}

async function generate(x: Exchange, model: string, stream: boolean): Promise<ServedOutcome> {
  const sd = x.seed;
  const declared = asArray(x.body.tools)
    .map((t) => asArray(asObject(t).functionDeclarations))
    .find((d) => d.length > 0);
  const tool = declared ? asString(asObject(declared[0]).name) : '';
  const c = geminiCounts(sd, tool !== '');
  const expect = expectedUsage({
    prompt_tokens: c.prompt,
    completion_tokens: c.candidates + c.thoughts,
    total_tokens: c.prompt + c.candidates + c.thoughts,
    cache_read_tokens: c.cached,
    reasoning_tokens: c.thoughts,
  });
  const done = { provider: 'google' as const, stream, status: 200, expect, usage_reported: true };
  const responseId = alnumId(sd, 'gresp', 23);
  const chunk = (parts: Json[], finish: boolean, usage: JsonObject): JsonObject => ({
    candidates: [{ content: { parts, role: 'model' }, finishReason: finish ? 'STOP' : undefined, index: 0 }],
    usageMetadata: usage,
    modelVersion: model,
    responseId,
  });
  const functionCall: Json = { functionCall: { name: tool, args: { city: 'Paris' } } };
  if (!stream) {
    x.setHeaders({ 'Content-Type': 'application/json; charset=UTF-8' });
    const parts = tool ? [functionCall] : [{ text: REPLY_TEXT }];
    return { ...done, gzipped: x.json(200, chunk(parts, true, usageMetadata(c))) };
  }
  // Each streamed chunk carries a cumulative usage snapshot; the first knows only the prompt, the last the totals.
  const chunks: JsonObject[] = [];
  if (tool) {
    chunks.push(chunk([functionCall], true, usageMetadata(c)));
  } else {
    REPLY_WORDS.forEach((text, i) => {
      const last = i === REPLY_WORDS.length - 1;
      let u: JsonObject;
      if (i === 0) {
        u = {
          promptTokenCount: c.prompt,
          totalTokenCount: c.prompt + c.thoughts,
          promptTokensDetails: [{ modality: 'TEXT', tokenCount: c.prompt }],
        };
        if (c.thoughts > 0) u.thoughtsTokenCount = c.thoughts;
      } else {
        u = usageMetadata(last ? c : { ...c, candidates: i + 1 });
      }
      chunks.push(chunk([{ text }], last, u));
    });
  }
  if (x.url.searchParams.get('alt') === 'sse') {
    x.setHeaders({ 'Content-Disposition': 'attachment' });
    const sse = x.stream('text/event-stream');
    // The Gemini API separates SSE events with CRLF pairs.
    for (const ch of chunks) await sse.write(`data: ${JSON.stringify(ch)}\r\n\r\n`);
    sse.end();
  } else {
    // Without alt=sse the stream is one JSON array, sent element by element.
    const body = x.stream('application/json; charset=UTF-8');
    for (const [i, ch] of chunks.entries()) {
      await body.write(`${i === 0 ? '[' : ',\r\n'}${JSON.stringify(ch, null, 2)}`);
    }
    await body.write(']');
    body.end();
  }
  return done;
}

function embed(x: Exchange, batch: boolean): ServedOutcome {
  const vector = (i: number): Json => ({
    values: Array.from({ length: 8 }, (_, j) => unitValue(`${x.seed}|${i}|${j}`)),
  });
  x.setHeaders({ 'Content-Type': 'application/json; charset=UTF-8' });
  // The Gemini API reports no usage for embeddings; the event must say so.
  const body: Json = batch
    ? { embeddings: asArray(x.body.requests).map((_, i) => vector(i)) }
    : { embedding: vector(0) };
  return { provider: 'google', status: 200, gzipped: x.json(200, body) };
}
