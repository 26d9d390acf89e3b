// Mixed provider traffic for load and fault tests: a mock upstream that answers by the request's `x-load-kind`
// header (OpenAI JSON and streams, Anthropic streams, Gemini JSON, slow streams the client abandons, 429s, 500s,
// streams the provider cuts), a client that sends it with bounded concurrency, and the outcome and usage each
// kind must be recorded with.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import {
  anthropicStream,
  MockProvider,
  openAiChatJson,
  openAiChatStream,
  RecordedRequest,
  SSE_HEADERS,
  startMockProvider,
} from '@spendops/testing';

export const LOAD_KINDS = [
  'openai-json',
  'openai-stream',
  'anthropic-stream',
  'gemini-json',
  'openai-json',
  'openai-stream',
  'client-cancel',
  'upstream-429',
  'upstream-500',
  'upstream-cut',
] as const;
export type LoadKind = (typeof LOAD_KINDS)[number];

const WORDS = ['Hello', ' from', ' the', ' mock'];
const SLOW_WORDS = Array.from({ length: 40 }, (_, i) => `w${i} `);

/** What the stored event of each kind must say (null = not asserted). */
export interface ExpectedUsage {
  outcome: 'completed' | 'cancelled' | 'error';
  http_status: number;
  usage_source: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
}

export const EXPECTED: Record<LoadKind, ExpectedUsage> = {
  'openai-json': {
    outcome: 'completed',
    http_status: 200,
    usage_source: 'provider',
    prompt_tokens: 9,
    completion_tokens: 2,
  },
  'openai-stream': {
    outcome: 'completed',
    http_status: 200,
    usage_source: 'provider',
    prompt_tokens: 9,
    completion_tokens: WORDS.length,
  },
  'anthropic-stream': {
    outcome: 'completed',
    http_status: 200,
    usage_source: 'provider',
    prompt_tokens: 12,
    completion_tokens: WORDS.length,
  },
  'gemini-json': {
    outcome: 'completed',
    http_status: 200,
    usage_source: 'provider',
    prompt_tokens: 5,
    completion_tokens: 3,
  },
  // The client leaves after the first chunk: the provider never reported usage.
  'client-cancel': {
    outcome: 'cancelled',
    http_status: 200,
    usage_source: null,
    prompt_tokens: null,
    completion_tokens: null,
  },
  'upstream-429': {
    outcome: 'error',
    http_status: 429,
    usage_source: 'none',
    prompt_tokens: null,
    completion_tokens: null,
  },
  'upstream-500': {
    outcome: 'error',
    http_status: 500,
    usage_source: 'none',
    prompt_tokens: null,
    completion_tokens: null,
  },
  // The provider dies after two chunks, before any usage.
  'upstream-cut': {
    outcome: 'error',
    http_status: 200,
    usage_source: null,
    prompt_tokens: null,
    completion_tokens: null,
  },
};

function geminiJson(): object {
  return {
    candidates: [{ content: { parts: [{ text: 'Hi there' }], role: 'model' }, finishReason: 'STOP' }],
    usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3, totalTokenCount: 8 },
    modelVersion: 'gemini-2.5-flash',
  };
}

function replyFor(req: RecordedRequest) {
  const kind = req.headers['x-load-kind'] as LoadKind | undefined;
  const withUsage = req.body.includes('include_usage');
  switch (kind) {
    case 'openai-json':
      return { body: openAiChatJson('gpt-4o-mini', 'Hello!') };
    case 'openai-stream':
      return { headers: SSE_HEADERS, chunks: openAiChatStream(WORDS, { usage: withUsage }), delayMs: 10 };
    case 'anthropic-stream':
      return { headers: SSE_HEADERS, chunks: anthropicStream(WORDS), delayMs: 10 };
    case 'gemini-json':
      return { body: geminiJson() };
    case 'client-cancel':
      return {
        headers: SSE_HEADERS,
        chunks: openAiChatStream(SLOW_WORDS, { usage: withUsage }),
        delayMs: 50,
      };
    case 'upstream-429':
      return { status: 429, body: { error: { message: 'Rate limit reached', type: 'rate_limit_error' } } };
    case 'upstream-500':
      return { status: 500, body: { error: { message: 'Internal error', type: 'server_error' } } };
    case 'upstream-cut':
      return {
        headers: SSE_HEADERS,
        chunks: openAiChatStream(WORDS, { usage: withUsage }),
        delayMs: 10,
        cutAfterChunks: 2,
      };
    default:
      return { status: 400, body: { error: 'no x-load-kind' } };
  }
}

/** The mock upstream for every provider of the mix. */
export function startLoadMock(): Promise<MockProvider> {
  return startMockProvider(replyFor);
}

/** Env pointing every provider of the mix at the mock. */
export function upstreamEnv(mock: MockProvider): NodeJS.ProcessEnv {
  return {
    SPENDOPS_UPSTREAM_OPENAI: mock.url,
    SPENDOPS_UPSTREAM_ANTHROPIC: mock.url,
    SPENDOPS_UPSTREAM_GOOGLE: mock.url,
  };
}

/** The sequence numbers (`x-load-seq`) the mock has received: the requests the proxy forwarded. */
export function forwardedSeqs(mock: MockProvider): Set<string> {
  return new Set(mock.requests.map((r) => String(r.headers['x-load-seq'] ?? '')));
}

export interface SentRequest {
  seq: string;
  kind: LoadKind;
  /** From `X-ASO-Request-Id`; null when no response came (connection refused, proxy gone). */
  requestId: string | null;
  status: number;
  /** Client-side failure while reading the body (expected for cuts). */
  error?: string;
}

const agent = new Agent({ connections: 256, keepAliveTimeout: 2000 });

function target(kind: LoadKind): { path: string; body: object } {
  switch (kind) {
    case 'anthropic-stream':
      return {
        path: '/v1/anthropic/v1/messages',
        body: { model: 'claude-sonnet-4-5', stream: true, max_tokens: 16, messages: [] },
      };
    case 'gemini-json':
      return {
        path: '/v1/google/v1beta/models/gemini-2.5-flash:generateContent',
        body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
      };
    case 'openai-json':
    case 'upstream-429':
    case 'upstream-500':
      return { path: '/v1/openai/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [] } };
    default:
      return {
        path: '/v1/openai/v1/chat/completions',
        body: { model: 'gpt-4o-mini', stream: true, messages: [] },
      };
  }
}

/** Sends one request of `kind` and reads (or abandons) its answer. Never throws. */
export async function sendOne(
  proxyUrl: string,
  key: string,
  run: string,
  seq: string,
  kind: LoadKind,
): Promise<SentRequest> {
  const { path, body } = target(kind);
  const ac = new AbortController();
  const sent: SentRequest = { seq, kind, requestId: null, status: 0 };
  try {
    const res = await request(`${proxyUrl}${path}`, {
      method: 'POST',
      dispatcher: agent,
      signal: ac.signal,
      headers: {
        'content-type': 'application/json',
        'x-aso-api-key': key,
        'x-aso-dims': `run=${run}`,
        'x-load-kind': kind,
        'x-load-seq': seq,
      },
      body: JSON.stringify(body),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    sent.status = res.statusCode;
    sent.requestId = (res.headers['x-aso-request-id'] as string | undefined) ?? null;
    if (kind === 'client-cancel' && res.statusCode === 200) {
      for await (const chunk of res.body) {
        void chunk;
        break; // one chunk, then leave mid-stream
      }
      ac.abort();
      return sent;
    }
    await res.body.text();
  } catch (err) {
    sent.error = (err as Error).message;
  }
  return sent;
}

/** A fresh run tag (the `run` dimension every request of one test carries). */
export function newRun(): string {
  return randomBytes(6).toString('hex');
}

export interface LoadOptions {
  proxyUrls: string[];
  key: string;
  run: string;
  total: number;
  concurrency: number;
  /** Called after each answer with the number done so far (fault injection hooks). */
  onProgress?: (done: number) => void;
}

/** `total` requests of the mix, `concurrency` at a time, spread over the proxies. */
export async function runLoad(o: LoadOptions): Promise<SentRequest[]> {
  const results: SentRequest[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= o.total) return;
      const kind = LOAD_KINDS[i % LOAD_KINDS.length];
      const proxy = o.proxyUrls[i % o.proxyUrls.length];
      results.push(await sendOne(proxy, o.key, o.run, `${o.run}-${i}`, kind));
      o.onProgress?.(results.length);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return results;
}

export interface SteadyLoad {
  /** Stops sending and resolves with everything sent. */
  stop(): Promise<SentRequest[]>;
  sentSoFar(): number;
}

/** Mixed requests, `concurrency` at a time, until stopped; `pauseMs` between one worker's requests. */
export function startSteadyLoad(
  o: Omit<LoadOptions, 'total' | 'onProgress'> & { pauseMs?: number },
): SteadyLoad {
  const results: SentRequest[] = [];
  let stopped = false;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (!stopped) {
      const i = next++;
      const kind = LOAD_KINDS[i % LOAD_KINDS.length];
      const proxy = o.proxyUrls[i % o.proxyUrls.length];
      results.push(await sendOne(proxy, o.key, o.run, `${o.run}-${i}`, kind));
      if (o.pauseMs) await new Promise((r) => setTimeout(r, o.pauseMs));
    }
  };
  const workers = Promise.all(Array.from({ length: o.concurrency }, worker));
  return {
    sentSoFar: () => results.length,
    async stop() {
      stopped = true;
      await workers;
      return results;
    },
  };
}
