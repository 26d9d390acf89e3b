// Deterministic fuzzing of the native-dialect extractors (the reference's FuzzExtractor properties): no body
// throws, chunking never changes the report, normalised buckets stay consistent and non-negative.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AnthropicExtractor } from './anthropic/anthropic-extractor';
import { GeminiExtractor } from './gemini/gemini-extractor';
import type { ExtractRequest, UsageReport } from './report';
import { compact, randomChunks, readFixture, rng, run } from './testkit';

const bodies = (dir: string): Buffer[] =>
  readdirSync(join(__dirname, dir, 'fixtures'))
    .filter((f) => !f.endsWith('.usage.json'))
    .map((f) => readFixture(join(__dirname, dir), f));

/** Flips, cuts and splices bytes, drawn from a seeded source. */
function mutate(next: () => number, b: Buffer, pool: Buffer[]): Buffer {
  const out = Buffer.from(b);
  switch (Math.floor(next() * 4)) {
    case 0:
      for (let i = 0; i < 3 && out.length; i++)
        out[Math.floor(next() * out.length)] = Math.floor(next() * 256);
      return out;
    case 1:
      return out.subarray(0, Math.floor(next() * (out.length + 1)));
    case 2: {
      const other = pool[Math.floor(next() * pool.length)];
      return Buffer.concat([
        out.subarray(0, Math.floor(next() * out.length)),
        other.subarray(Math.floor(next() * other.length)),
      ]);
    }
    default:
      return out;
  }
}

const base = (endpoint: string): ExtractRequest => ({
  provider: '',
  method: 'POST',
  endpoint,
  model: '',
  stream: false,
  requestBody: null,
  statusCode: 200,
  contentType: '',
});

function properties(r: UsageReport): string[] {
  const t = r.tokens;
  const bad: string[] = [];
  if (t.reasoning_tokens > t.completion_tokens || t.cache_read_tokens > t.prompt_tokens)
    bad.push('subset over parent');
  if (t.prompt_audio_tokens > t.prompt_tokens || t.prompt_image_tokens > t.prompt_tokens)
    bad.push('prompt detail');
  if (t.completion_audio_tokens > t.completion_tokens || t.completion_image_tokens > t.completion_tokens) {
    bad.push('completion detail');
  }
  for (const v of [...Object.values(t), r.webSearchRequests, r.outputChars, r.outputTokensEstimate]) {
    if (v < 0 || !Number.isSafeInteger(v)) bad.push(`bad count ${v}`);
  }
  return bad;
}

describe('fuzz', () => {
  it('Anthropic extractor', () => {
    const pool = [
      ...bodies('anthropic'),
      Buffer.from(
        'data: {"type":"message_start","message":{"usage":{"input_tokens":9223372036854775807,"cache_read_input_tokens":9223372036854775807,"output_tokens":-1}}}\n\n',
      ),
    ];
    const next = rng(7);
    for (let i = 0; i < 400; i++) {
      const body = mutate(next, pool[i % pool.length], pool);
      const req = base('/v1/messages');
      const ct = i % 4;
      if (ct === 1) req.contentType = 'text/event-stream';
      if (ct === 2) req.contentType = 'application/json';
      if (ct === 3) req.endpoint = '/v1/messages/count_tokens';
      const make = (q: ExtractRequest) => new AnthropicExtractor(q);
      const want = run(make, req, body);
      expect(compact(run(make, req, ...randomChunks(next, body)))).toBe(compact(want));
      const t = want.tokens;
      if (t.cache_write_tokens < Number.MAX_SAFE_INTEGER) {
        expect(t.cache_write_5m_tokens + t.cache_write_1h_tokens).toBe(t.cache_write_tokens);
      }
      expect(t.cache_write_tokens).toBeLessThanOrEqual(t.prompt_tokens);
      expect(properties(want)).toEqual([]);
    }
  });

  it('Gemini extractor', () => {
    const flash = '/v1beta/models/gemini-2.5-flash';
    const pool = [
      ...bodies('gemini'),
      Buffer.from(
        'data: {"usageMetadata":{"promptTokenCount":9223372036854775807,"toolUsePromptTokenCount":5,"cachedContentTokenCount":-1}}\n\n',
      ),
    ];
    const next = rng(11);
    for (let i = 0; i < 400; i++) {
      const body = mutate(next, pool[i % pool.length], pool);
      const req = base(flash + ':streamGenerateContent');
      const ct = i % 4;
      if (ct === 1) req.contentType = 'text/event-stream';
      if (ct === 2) req.contentType = 'application/json; charset=UTF-8';
      if (ct === 3) req.endpoint = flash + ':countTokens';
      const make = (q: ExtractRequest) => new GeminiExtractor(q);
      const want = run(make, req, body);
      expect(compact(run(make, req, ...randomChunks(next, body)))).toBe(compact(want));
      expect(properties(want)).toEqual([]);
    }
  });

  it('absurd counts saturate instead of wrapping', () => {
    const r = run(
      (q) => new AnthropicExtractor(q),
      { ...base('/v1/messages'), contentType: 'text/event-stream' },
      Buffer.from(
        'data: {"type":"message_start","message":{"usage":{"input_tokens":9223372036854775807,"cache_read_input_tokens":9223372036854775807,"output_tokens":5}}}\n\n',
      ),
    );
    expect(r.tokens.prompt_tokens).toBe(Number.MAX_SAFE_INTEGER);
    expect(r.tokens.total_tokens).toBe(Number.MAX_SAFE_INTEGER);
  });
});
