// Capture records for the pipeline capacity bench, shaped field by field the way the proxy's finish() builds
// `usage.captured.v1` (apps/proxy/src/proxy.handler.ts): the client's JSON request body, the response bytes as
// received (still gzip-compressed when the upstream compressed them), base64 in `head`, timings, key and dims.
// Response bodies are the golden fixtures of libs/usage (real provider bodies), in a fixed mix of OpenAI JSON and
// SSE, Anthropic and Gemini. The content is synthetic; no prompt or response text of anyone is involved.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ProviderDialect, UsageCapturedV1 } from '@spendops/contracts';

/** One kind of capture and its share of the mix (weights are out of MIX_SLOTS). */
export interface CaptureKind {
  name: string;
  weight: number;
  template: UsageCapturedV1;
}

const FIXTURES = join('libs', 'usage', 'src', 'extract');

/** The repository root, from the sources (test/bench/lib) or the build (dist/test/bench/lib). */
function repoRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir))
    if (existsSync(join(dir, FIXTURES)) && existsSync(join(dir, 'package.json'))) return dir;
  throw new Error(`no ${FIXTURES} above ${__dirname}`);
}

function fixture(provider: string, file: string): Buffer {
  return readFileSync(join(repoRoot(), FIXTURES, provider, 'fixtures', file));
}

function template(
  k: {
    provider: string;
    dialect: ProviderDialect;
    endpoint: string;
    model: string;
    stream: boolean;
    body: Buffer;
    encoding?: string;
  },
  requestBody: object,
): UsageCapturedV1 {
  const request = Buffer.from(JSON.stringify(requestBody));
  return {
    request_id: '',
    tenant_id: 'default',
    api_key_id: '',
    dims: {},
    provider: k.provider,
    dialect: k.dialect,
    method: 'POST',
    endpoint: k.endpoint,
    request_model: k.model,
    stream: k.stream,
    stream_usage_injected: k.stream && k.dialect === 'openai-compatible',
    outcome: 'completed',
    http_status: 200,
    started_at_ms: 0,
    first_byte_at_ms: 0,
    ended_at_ms: 0,
    content_encoding: k.encoding ?? '',
    response_content_type: k.stream ? 'text/event-stream' : 'application/json',
    request_content_type: 'application/json',
    request_body: { head: request.toString('base64'), total_bytes: request.length, truncated: false },
    response_body: { head: k.body.toString('base64'), total_bytes: k.body.length, truncated: false },
    stream_complete: k.stream,
  };
}

const messages = [{ role: 'user', content: 'Say hello.' }];

/** The mix: weights sum to MIX_SLOTS (OpenAI 60 %, Anthropic 20 %, Gemini 20 %; 50 % streamed). */
export function captureKinds(): CaptureKind[] {
  const chatJson = fixture('openai', 'openai_chat_cached.json');
  const openaiChat = (model: string, stream: boolean) => ({
    model,
    stream,
    ...(stream ? { stream_options: { include_usage: true } } : {}),
    messages,
  });
  const chat = {
    provider: 'openai',
    dialect: 'openai-compatible' as const,
    endpoint: '/v1/chat/completions',
  };
  const anthropic = { provider: 'anthropic', dialect: 'anthropic' as const, endpoint: '/v1/messages' };
  const gemini = { provider: 'google', dialect: 'gemini' as const };
  const geminiBody = { contents: [{ role: 'user', parts: [{ text: 'Say hello.' }] }] };
  return [
    {
      name: 'openai chat JSON',
      weight: 5,
      template: template(
        { ...chat, model: 'gpt-4o', stream: false, body: chatJson },
        openaiChat('gpt-4o', false),
      ),
    },
    {
      name: 'openai chat JSON gzip',
      weight: 2,
      template: template(
        { ...chat, model: 'gpt-4o', stream: false, body: gzipSync(chatJson), encoding: 'gzip' },
        openaiChat('gpt-4o', false),
      ),
    },
    {
      name: 'openai chat SSE',
      weight: 5,
      template: template(
        {
          ...chat,
          model: 'gpt-4o-mini',
          stream: true,
          body: fixture('openai', 'openai_chat_stream_usage.sse'),
        },
        openaiChat('gpt-4o-mini', true),
      ),
    },
    {
      name: 'anthropic JSON',
      weight: 1,
      template: template(
        {
          ...anthropic,
          model: 'claude-sonnet-4-5',
          stream: false,
          body: fixture('anthropic', 'messages_plain.json'),
        },
        { model: 'claude-sonnet-4-5', max_tokens: 256, messages },
      ),
    },
    {
      name: 'anthropic SSE',
      weight: 3,
      template: template(
        {
          ...anthropic,
          model: 'claude-haiku-4-5',
          stream: true,
          body: fixture('anthropic', 'stream_plain.sse'),
        },
        { model: 'claude-haiku-4-5', max_tokens: 256, stream: true, messages },
      ),
    },
    {
      name: 'gemini JSON',
      weight: 2,
      template: template(
        {
          ...gemini,
          endpoint: '/v1beta/models/gemini-2.0-flash:generateContent',
          model: 'gemini-2.0-flash',
          stream: false,
          body: fixture('gemini', 'generate_plain.json'),
        },
        geminiBody,
      ),
    },
    {
      name: 'gemini SSE',
      weight: 2,
      template: template(
        {
          ...gemini,
          endpoint: '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
          model: 'gemini-2.5-flash',
          stream: true,
          body: fixture('gemini', 'stream.sse'),
        },
        geminiBody,
      ),
    },
  ];
}

export const MIX_SLOTS = 20;

/** Index i of a run → the kind it takes: each kind `weight` times in every MIX_SLOTS consecutive records. */
export function mixSchedule(kinds: readonly CaptureKind[]): number[] {
  const total = kinds.reduce((s, k) => s + k.weight, 0);
  if (total !== MIX_SLOTS) throw new Error(`mix weights sum to ${total}, not ${MIX_SLOTS}`);
  // Smooth weighted round robin: kinds interleave instead of arriving in runs.
  const current = kinds.map(() => 0);
  const out: number[] = [];
  for (let s = 0; s < total; s++) {
    let best = 0;
    kinds.forEach((k, i) => {
      current[i] += k.weight;
      if (current[i] > current[best]) best = i;
    });
    current[best] -= total;
    out.push(best);
  }
  return out;
}

const TEAMS = ['search', 'support', 'growth', 'platform'];
const KEYS = 8;

/** Record i of a run: a fresh request id, the key and dims a proxy would stamp, timings ending now. */
export function captureAt(
  kinds: readonly CaptureKind[],
  schedule: readonly number[],
  i: number,
  nowMs = Date.now(),
): UsageCapturedV1 {
  const t = kinds[schedule[i % schedule.length]].template;
  return {
    ...t,
    request_id: randomUUID(),
    api_key_id: `capacity-key-${i % KEYS}`,
    dims: { team: TEAMS[i % TEAMS.length], run: 'capacity' },
    started_at_ms: nowMs - 900,
    first_byte_at_ms: nowMs - (t.stream ? 700 : 10),
    ended_at_ms: nowMs,
  };
}
