import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import type { CapturedBody, ProviderDialect, UsageCapturedV1 } from '@spendops/contracts';
import { extractCapture, extractUsage } from './extract-usage';
import { captureProblem } from './capture-shape';
import { counterFor } from './estimate/encoding';

const fixture = (dialect: string, name: string): Buffer =>
  readFileSync(join(__dirname, 'extract', dialect, 'fixtures', name));

/** A body as the proxy captures it: all of it, or head and tail around a cap. */
function captured(b: Buffer, cap = 1 << 20): CapturedBody {
  if (b.length <= cap) return { head: b.toString('base64'), total_bytes: b.length, truncated: false };
  const half = cap >> 1;
  return {
    head: b.subarray(0, half).toString('base64'),
    tail: b.subarray(b.length - half).toString('base64'),
    total_bytes: b.length,
    truncated: true,
  };
}

function capture(
  over: Partial<UsageCapturedV1> & { response?: Buffer; request?: string; cap?: number },
): UsageCapturedV1 {
  const { response, request, cap, ...rest } = over;
  return {
    request_id: 'req_1',
    tenant_id: 't1',
    api_key_id: 'k1',
    dims: {},
    provider: 'openai',
    dialect: 'openai-compatible',
    method: 'POST',
    endpoint: '/v1/chat/completions',
    request_model: 'gpt-4o-mini',
    stream: false,
    stream_usage_injected: false,
    outcome: 'completed',
    http_status: 200,
    started_at_ms: 1,
    first_byte_at_ms: 2,
    ended_at_ms: 3,
    content_encoding: '',
    response_content_type: 'application/json',
    request_content_type: 'application/json',
    request_body: captured(
      Buffer.from(request ?? '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'),
    ),
    response_body: captured(response ?? Buffer.alloc(0), cap),
    stream_complete: false,
    ...rest,
  };
}

const chatSse = fixture('openai', 'openai_chat_stream_usage.sse');
const sseCapture = (over: Partial<UsageCapturedV1> & { response?: Buffer; cap?: number } = {}) =>
  capture({ stream: true, response_content_type: 'text/event-stream', response: chatSse, ...over });

describe('extractUsage', () => {
  it('provider usage of a completed exchange, with the raw usage object kept', () => {
    const u = extractUsage(capture({ response: fixture('openai', 'openai_chat_cached.json') }));
    expect(u).toMatchObject({
      usage_source: 'provider',
      endpoint_class: 'chat',
      prompt_tokens: 2006,
      cache_read_tokens: 1920,
      total_tokens: 2306,
      extraction_note: '',
      not_billed: false,
    });
    expect(u.raw_usage).toMatchObject({ prompt_tokens: 2006 });
  });

  describe('compressed response copies', () => {
    const cases: [string, (b: Buffer) => Buffer][] = [
      ['gzip', (b) => zlib.gzipSync(b)],
      ['deflate', (b) => zlib.deflateSync(b)],
      ['br', (b) => zlib.brotliCompressSync(b)],
      ['gzip, br', (b) => zlib.brotliCompressSync(zlib.gzipSync(b))],
    ];
    it.each(cases)('%s', (enc, compress) => {
      const u = extractUsage(sseCapture({ content_encoding: enc, response: compress(chatSse) }));
      expect([u.usage_source, u.total_tokens, u.extraction_note]).toEqual(['provider', 29, '']);
    });
    it('zstd', () => {
      const sse = readFileSync(join(__dirname, 'decode/fixtures/sse.txt'));
      const plain = extractUsage(sseCapture({ response: sse }));
      const z = extractUsage(
        sseCapture({
          content_encoding: 'zstd',
          response: readFileSync(join(__dirname, 'decode/fixtures/sse.txt.zst')),
        }),
      );
      expect(plain.usage_source).toBe('provider');
      expect(z).toEqual(plain);
    });
    it('a corrupt body is a note, never a throw', () => {
      const u = extractUsage(
        sseCapture({ content_encoding: 'gzip', response: Buffer.from('not gzip at all') }),
      );
      // Nothing readable came back from a 200: estimated from the request, as any usage-less answer.
      expect(u.usage_source).toBe('estimate');
      expect(u.extraction_note).toMatch(/^decode corrupt/);
    });
    it('an unsupported encoding is a note', () => {
      const u = extractUsage(sseCapture({ content_encoding: 'compress', response: Buffer.from('x') }));
      expect(u.extraction_note).toMatch(/decode unsupported/);
    });
  });

  it('a stream cut before its usage is estimated: BPE output tokens for an OpenAI model, prompt from the body', () => {
    const body = fixture('openai', 'openai_chat_stream_cut.sse');
    const c = sseCapture({ response: body, outcome: 'error' });
    const u = extractUsage(c);
    const text = 'Hello! How can I help';
    const counter = counterFor('openai', 'gpt-4o-mini');
    expect(u.usage_source).toBe('estimate');
    expect(u.completion_tokens).toBeGreaterThanOrEqual(counter.count(text) - 1);
    expect(u.completion_tokens).toBeLessThanOrEqual(Math.ceil(text.length / 4) + 2);
    // "hi": 1 token + framing 3 + "user" 1 + reply primer 3.
    expect(u.prompt_tokens).toBe(8);
    expect(u.total_tokens).toBe(u.prompt_tokens + u.completion_tokens);
    expect(u.extraction_note).toBe('stream ended without usage; estimated');
  });

  it('an Anthropic stream cut after message_start is partial: provider input, output from the text seen', () => {
    const u = extractUsage(
      capture({
        provider: 'anthropic',
        dialect: 'anthropic',
        endpoint: '/v1/messages',
        request_model: 'claude-sonnet-4-5',
        stream: true,
        outcome: 'cancelled',
        response_content_type: 'text/event-stream',
        response: fixture('anthropic', 'stream_cut.sse'),
      }),
    );
    expect(u.usage_source).toBe('partial');
    expect(u.prompt_tokens).toBe(812);
    expect(u.completion_tokens).toBe(
      Math.ceil('Once upon a time, in a land far away, there lived a'.length / 4),
    );
    expect(u.cache_write_1h_tokens).toBe(300);
  });

  it('a client that left after the end marker completed: provider usage, outcome corrected', () => {
    const r = extractCapture(sseCapture({ outcome: 'cancelled', http_status: 499 }));
    expect([r.outcome, r.usage.usage_source]).toEqual(['completed', 'provider']);
  });

  it('count_tokens is not billed and has no usage', () => {
    const u = extractUsage(
      capture({
        provider: 'anthropic',
        dialect: 'anthropic',
        endpoint: '/v1/messages/count_tokens',
        response: fixture('anthropic', 'count_tokens.json'),
      }),
    );
    expect([u.usage_source, u.not_billed, u.endpoint_class, u.prompt_tokens]).toEqual([
      'none',
      true,
      'count_tokens',
      0,
    ]);
    expect(u.raw_usage).toEqual({ input_tokens: 2095 });
  });

  it('an unreachable upstream has no usage', () => {
    const u = extractUsage(
      capture({ http_status: 0, outcome: 'error', upstream_error: 'connect ECONNREFUSED' }),
    );
    expect([u.usage_source, u.extraction_note]).toEqual(['none', 'upstream unreachable']);
  });

  it('a provider error body carries no usage', () => {
    const u = extractUsage(
      capture({
        http_status: 429,
        outcome: 'error',
        response: Buffer.from('{"error":{"message":"Rate limit"}}'),
      }),
    );
    expect([u.usage_source, u.total_tokens]).toEqual(['none', 0]);
  });

  describe('bodies truncated by the capture cap', () => {
    it('a JSON body: usage read from the tail', () => {
      const body = fixture('openai', 'openai_embeddings.json');
      const whole = extractUsage(capture({ endpoint: '/v1/embeddings', response: body }));
      const cut = extractUsage(capture({ endpoint: '/v1/embeddings', response: body, cap: 4096 }));
      expect(cut.usage_source).toBe('provider');
      expect(cut.prompt_tokens).toBe(whole.prompt_tokens);
      expect(cut.extraction_note).toBe('response truncated; usage read from head and tail');
    });
    it('an SSE body: the usage chunk in the tail is found', () => {
      const u = extractUsage(sseCapture({ cap: 1200 }));
      expect([u.usage_source, u.total_tokens]).toEqual(['provider', 29]);
    });
    it('a Gemini stream array', () => {
      const body = fixture('gemini', 'stream_array.json');
      const u = extractUsage(
        capture({
          provider: 'google',
          dialect: 'gemini',
          endpoint: '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
          request_model: 'gemini-2.5-flash',
          response: body,
          cap: 800,
        }),
      );
      expect([u.usage_source, u.total_tokens]).toEqual(['provider', 1100]);
    });
  });

  it('never throws on mangled captures', () => {
    let x = 3;
    const bodies = [chatSse, fixture('anthropic', 'stream_plain.sse'), fixture('gemini', 'stream.sse')];
    const dialects: ProviderDialect[] = ['openai-compatible', 'anthropic', 'gemini'];
    for (let i = 0; i < 60; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      const b = Buffer.from(bodies[x % 3]);
      b[x % b.length] ^= 0xff;
      const c = capture({
        dialect: dialects[(x >> 4) % 3],
        response: b.subarray(0, (x >> 6) % b.length),
        content_encoding: ['', 'gzip', 'br', 'zstd'][(x >> 9) % 4],
        cap: 256 + (x % 2048),
      });
      if (i % 7 === 0) (c as unknown as Record<string, unknown>).response_body = { head: 42 };
      expect(() => extractUsage(c)).not.toThrow();
    }
  });

  it('checks the capture shape', () => {
    expect(captureProblem(capture({}))).toBeNull();
    expect(captureProblem({ ...capture({}), request_id: 5 })).toBe('request_id missing or not a string');
    expect(captureProblem({ ...capture({}), response_body: null })).toBe('response_body malformed');
    expect(captureProblem('x')).toBe('payload is not an object');
  });

  describe('through a real upstream at a path-prefixed URL (the endpoint stays relative)', () => {
    let server: Server;
    let port = 0;
    beforeAll(async () => {
      server = createServer((req, res) => {
        const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').searchParams.get('f') ?? '');
        const [dialect, file] = name.split('/');
        const body = fixture(dialect, file);
        const gzip = req.headers['accept-encoding'] === 'gzip';
        res.writeHead(200, {
          'content-type': file.endsWith('.sse') ? 'text/event-stream' : 'application/json',
          ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        });
        const payload = gzip ? zlib.gzipSync(body) : body;
        // Flushed in small pieces a few milliseconds apart, the way a provider streams.
        let at = 0;
        const tick = () => {
          if (at >= payload.length) return void res.end();
          res.write(payload.subarray(at, at + 97));
          at += 97;
          setTimeout(tick, 2);
        };
        tick();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    /** Fetches raw bytes as the proxy's tee would see them (no decompression). */
    const fetchRaw = (path: string, gzip: boolean) =>
      new Promise<{ body: Buffer; ct: string; enc: string }>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            path,
            method: 'POST',
            headers: gzip ? { 'accept-encoding': 'gzip' } : {},
          },
          (res) => {
            const parts: Buffer[] = [];
            res.on('data', (d: Buffer) => parts.push(d));
            res.on('end', () =>
              resolve({
                body: Buffer.concat(parts),
                ct: String(res.headers['content-type'] ?? ''),
                enc: String(res.headers['content-encoding'] ?? ''),
              }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      });

    const cases: [string, ProviderDialect, string, string, string, number][] = [
      ['openai', 'openai-compatible', 'groq', '/openai/v1/chat/completions', 'openai/groq_stream.sse', 0],
      [
        'openai',
        'openai-compatible',
        'openai',
        '/v1/responses',
        'openai/openai_responses_stream_completed.sse',
        0,
      ],
      ['anthropic', 'anthropic', 'anthropic', '/v1/messages', 'anthropic/stream_server_tools.sse', 11192],
      [
        'gemini',
        'gemini',
        'google',
        '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
        'gemini/stream.sse',
        1100,
      ],
      [
        'gemini-compat',
        'gemini',
        'google',
        '/v1beta/openai/chat/completions',
        'openai/gemini_openai_compat.json',
        0,
      ],
    ];
    it.each(cases)('%s %s', async (_n, dialect, provider, endpoint, file, total) => {
      const direct = extractUsage(
        capture({
          provider,
          dialect,
          endpoint,
          stream: file.endsWith('.sse'),
          response_content_type: file.endsWith('.sse') ? 'text/event-stream' : 'application/json',
          response: fixture(file.split('/')[0], file.split('/')[1]),
        }),
      );
      for (const gzip of [false, true]) {
        const got = await fetchRaw(`/some/gateway/prefix${endpoint}?f=${encodeURIComponent(file)}`, gzip);
        const u = extractUsage(
          capture({
            provider,
            dialect,
            endpoint,
            stream: file.endsWith('.sse'),
            response_content_type: got.ct,
            content_encoding: got.enc,
            response: got.body,
          }),
        );
        expect(u).toEqual(direct);
      }
      expect(direct.usage_source).toBe('provider');
      if (total) expect(direct.total_tokens).toBe(total);
    });
  });
});
