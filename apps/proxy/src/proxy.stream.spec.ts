import { connect } from 'node:net';
import { anthropicStream, geminiStream, openAiChatStream, SSE_HEADERS, sseEvents } from '@spendops/testing';
import { b64, Harness, startHarness, VALID_KEY } from './testing/harness';

const JSON_CT = { 'content-type': 'application/json' };

/** Sends a raw streaming request and reads lines until `stopAt`; returns the socket still open. */
function rawStream(h: Harness, body: string, stopAt: string): Promise<{ close: () => void; text: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect(h.port, '127.0.0.1', () =>
      sock.write(
        `POST /v1/openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nX-ASO-API-Key: ${VALID_KEY}\r\n\r\n${body}`,
      ),
    );
    let text = '';
    sock.on('data', (d) => {
      text += d.toString();
      if (text.includes(stopAt)) {
        sock.removeAllListeners('data');
        resolve({ close: () => sock.destroy(), text });
      }
    });
    sock.on('error', reject);
  });
}

describe('ProxyHandler streaming', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('delivers each SSE event before the provider sends the next one', async () => {
    const n = 4;
    h = await startHarness({
      headers: SSE_HEADERS,
      chunks: Array.from({ length: n }, (_, i) => `data: {"i":${i}}\n\n`),
      delayMs: 150,
    });
    const res = await h.send('POST', '/v1/openai/v1/chat/completions', {
      body: '{"stream":true}',
      headers: JSON_CT,
    });
    let buffered = '';
    let seen = 0;
    for await (const chunk of res.body) {
      buffered += (chunk as Buffer).toString();
      while (buffered.includes('\n\n')) {
        const at = buffered.indexOf('\n\n');
        const event = buffered.slice(0, at);
        buffered = buffered.slice(at + 2);
        expect(event).toBe(`data: {"i":${seen}}`);
        const sent = h.mock.requests[0].chunkSentAt;
        // The next event has not been sent yet when this one arrives: nothing is buffered.
        expect(sent.length).toBe(seen + 1);
        seen++;
      }
    }
    expect(seen).toBe(n);
    const [c] = await h.queue.waitForCaptures(1);
    expect(c).toMatchObject({ outcome: 'completed', stream: true, http_status: 200, stream_complete: false });
  });

  it('cancels the upstream request when the client leaves mid-stream, with one cancelled record', async () => {
    h = await startHarness({
      headers: SSE_HEADERS,
      chunks: Array.from(
        { length: 500 },
        (_, i) => `data: {"choices":[{"delta":{"content":"tok${i} "}}]}\n\n`,
      ),
      delayMs: 20,
    });
    const ac = new AbortController();
    const res = await h.send('POST', '/v1/openai/v1/chat/completions', {
      body: '{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hello there"}]}',
      headers: JSON_CT,
      signal: ac.signal,
    });
    for await (const chunk of res.body) {
      expect((chunk as Buffer).toString()).toContain('tok0');
      break;
    }
    ac.abort();
    expect(await h.mock.requests[0].closed).toBe('aborted');
    const [c] = await h.queue.waitForCaptures(1);
    await new Promise((r) => setTimeout(r, 50)); // a duplicate record would arrive now
    expect(h.queue.captures).toHaveLength(1);
    expect(c).toMatchObject({
      outcome: 'cancelled',
      request_model: 'gpt-4o',
      stream: true,
      stream_complete: false,
    });
    expect(b64(c.response_body.head).toString()).toContain('tok0');
    expect(h.mock.requests[0].chunkSentAt.length).toBeLessThan(500);
  });

  it('cuts the client when the upstream dies after headers, and records an error', async () => {
    h = await startHarness({
      headers: SSE_HEADERS,
      chunks: ['data: {"choices":[{"delta":{"content":"partial"}}]}\n\n', 'data: never\n\n'],
      cutAfterChunks: 1,
    });
    const res = await h.send('POST', '/v1/openai/v1/chat/completions', {
      body: '{"stream":true}',
      headers: JSON_CT,
    });
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();
    const [c] = await h.queue.waitForCaptures(1);
    expect(c).toMatchObject({ outcome: 'error', http_status: 200 });
    expect(c.upstream_error).toBeTruthy();
  });

  it('records completed for clients that close right after the last byte', async () => {
    h = await startHarness({ headers: SSE_HEADERS, body: 'data: {"choices":[]}\n\ndata: [DONE]\n\n' });
    for (let i = 0; i < 20; i++) {
      const s = await rawStream(h, '{"stream":true}', 'data: [DONE]\n');
      s.close();
    }
    const captures = await h.queue.waitForCaptures(20);
    expect(captures.map((c) => c.outcome)).toEqual(Array(20).fill('completed'));
  });

  it('records completed when the client leaves after [DONE] while the provider lingers', async () => {
    h = await startHarness({
      headers: SSE_HEADERS,
      chunks: [
        'data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}\n\ndata: [DONE]\n\n',
      ],
      lingerMs: 2000,
    });
    const s = await rawStream(h, '{"stream":true,"stream_options":{"include_usage":true}}', 'data: [DONE]\n');
    s.close();
    const [c] = await h.queue.waitForCaptures(1);
    expect(c).toMatchObject({ outcome: 'completed', stream_complete: true, stream_usage_injected: false });
    expect(await h.mock.requests[0].closed).toBe('aborted'); // the lingering upstream was let go
  });

  it('records cancelled when the client leaves before the end marker although the provider ends it later', async () => {
    h = await startHarness({
      headers: SSE_HEADERS,
      chunks: ['data: {"choices":[{"delta":{"content":"a"}}]}\n\n', 'data: [DONE]\n\n'],
      delayMs: 300,
    });
    const s = await rawStream(h, '{"stream":true}', '"content":"a"');
    s.close();
    const [c] = await h.queue.waitForCaptures(1);
    expect(c).toMatchObject({ outcome: 'cancelled', stream_complete: false });
  });

  it('injects include_usage for OpenAI and strips what it added from the client stream', async () => {
    const withOption = [
      'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}\n\n',
      'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}\n\n',
      'data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}\n\n',
      'data: [DONE]\n\n',
    ];
    const without =
      'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n' +
      'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n' +
      'data: [DONE]\n\n';
    h = await startHarness({ headers: SSE_HEADERS, chunks: withOption, delayMs: 10 });
    const body = '{"model":"gpt-4o-mini","stream":true,"messages":[]}';
    const res = await h.send('POST', '/v1/openai/v1/chat/completions', { body, headers: JSON_CT });
    expect(await res.body.text()).toBe(without);
    expect(h.mock.requests[0].body.toString()).toBe(
      '{"model":"gpt-4o-mini","stream":true,"messages":[],"stream_options":{"include_usage":true}}',
    );
    expect(h.mock.requests[0].headers['content-length']).toBe(String(h.mock.requests[0].body.length));
    const [c] = await h.queue.waitForCaptures(1);
    expect(c).toMatchObject({ stream_usage_injected: true, outcome: 'completed', stream_complete: true });
    expect(b64(c.request_body.head).toString()).toBe(body); // as the client sent it
    expect(b64(c.response_body.head).toString()).toBe(withOption.join('')); // as the provider sent it

    // A client that asked gets the provider's stream untouched; nothing injected.
    const asked = '{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}}';
    const res2 = await h.send('POST', '/v1/openai/v1/chat/completions', { body: asked, headers: JSON_CT });
    expect(await res2.body.text()).toBe(withOption.join(''));
    expect(h.mock.requests[1].body.toString()).toBe(asked);
    const [, c2] = await h.queue.waitForCaptures(2);
    expect(c2.stream_usage_injected).toBe(false);
  });

  it('does not inject for providers marked so (Anthropic), and relays Anthropic and Gemini streams', async () => {
    h = await startHarness((req) =>
      req.url.includes('gemini')
        ? { headers: SSE_HEADERS, chunks: geminiStream(['a', 'b']) }
        : { headers: SSE_HEADERS, chunks: anthropicStream(['x', 'y']) },
    );
    const body = '{"model":"claude-sonnet-4-5","stream":true,"max_tokens":5}';
    const res = await h.send('POST', '/v1/anthropic/v1/messages', { body, headers: JSON_CT });
    expect(await res.body.text()).toBe(anthropicStream(['x', 'y']).join(''));
    expect(h.mock.requests[0].body.toString()).toBe(body);
    const g = await h.send(
      'POST',
      '/v1/google/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
      {
        body: '{"contents":[]}',
        headers: JSON_CT,
      },
    );
    expect(await g.body.text()).toBe(geminiStream(['a', 'b']).join(''));
    const [a, gm] = await h.queue.waitForCaptures(2);
    expect(a).toMatchObject({
      provider: 'anthropic',
      dialect: 'anthropic',
      request_model: 'claude-sonnet-4-5',
      stream: true,
      stream_complete: true,
      stream_usage_injected: false,
    });
    expect(gm).toMatchObject({
      provider: 'google',
      dialect: 'gemini',
      request_model: 'gemini-2.5-flash',
      stream: true,
      stream_complete: true,
    });
  });

  it('relays a full OpenAI stream with usage and records its timings in order', async () => {
    h = await startHarness({
      headers: SSE_HEADERS,
      chunks: openAiChatStream(['a', 'b', 'c'], { usage: true }),
      delayMs: 5,
    });
    const res = await h.send('POST', '/v1/openai/v1/chat/completions', {
      body: '{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}}',
      headers: { ...JSON_CT, 'x-aso-dims': 'team=search' },
    });
    expect(await res.body.text()).toBe(openAiChatStream(['a', 'b', 'c'], { usage: true }).join(''));
    const [c] = await h.queue.waitForCaptures(1);
    expect(c).toMatchObject({
      tenant_id: 'tenant-1',
      api_key_id: 'key-1',
      dims: { team: 'search' },
      method: 'POST',
      endpoint: '/v1/chat/completions',
      response_content_type: 'text/event-stream',
      request_content_type: 'application/json',
      content_encoding: '',
    });
    expect(c.started_at_ms).toBeLessThanOrEqual(c.first_byte_at_ms);
    expect(c.first_byte_at_ms).toBeLessThanOrEqual(c.ended_at_ms);
    expect(sseEvents([{ data: '[DONE]' }])[0]).toBe('data: [DONE]\n\n');
  });
});

describe('ProxyHandler protocol upgrades', () => {
  it('relays a WebSocket-style upgrade both ways with a request id, stripping our headers', async () => {
    const h = await startHarness();
    try {
      const sock = connect(h.port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      sock.write(
        'GET /v1/openai/v1/realtime?model=gpt-realtime HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n' +
          `Connection: Upgrade\r\nAuthorization: Bearer sk\r\nX-ASO-API-Key: ${VALID_KEY}\r\n\r\n`,
      );
      let got = '';
      const until = (s: string): Promise<void> =>
        new Promise((resolve) => {
          const check = (): void => {
            if (got.includes(s)) {
              sock.off('data', onData);
              resolve();
            }
          };
          const onData = (d: Buffer): void => {
            got += d.toString();
            check();
          };
          sock.on('data', onData);
          check();
        });
      await until('\r\n\r\n');
      expect(got).toMatch(/^HTTP\/1.1 101 /);
      expect(got.toLowerCase()).toMatch(/\r\nx-aso-request-id: [0-9a-f-]{36}\r\n/);
      sock.write('ping\n');
      await until('echo:ping\n');
      const up = h.mock.requests[0];
      expect(up.url).toBe('/v1/realtime?model=gpt-realtime');
      expect(up.headers).toMatchObject({ upgrade: 'websocket', authorization: 'Bearer sk' });
      expect(up.headers['x-aso-api-key']).toBeUndefined();
      sock.destroy();
      const [c] = await h.queue.waitForCaptures(1);
      expect(c).toMatchObject({ http_status: 101, endpoint: '/v1/realtime', outcome: 'completed' });
    } finally {
      await h.close();
    }
  });

  it('rejects an upgrade without a key like any request', async () => {
    const h = await startHarness();
    try {
      const text = await new Promise<string>((resolve) => {
        const sock = connect(h.port, '127.0.0.1', () =>
          sock.write(
            'GET /v1/openai/v1/realtime HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
          ),
        );
        let got = '';
        sock.on('data', (d) => (got += d.toString()));
        sock.on('close', () => resolve(got));
      });
      expect(text).toMatch(/^HTTP\/1.1 401 /);
      expect(text).toContain('{"error":"AISpendOps: Missing X-ASO-API-Key"}');
      expect(h.mock.requests).toHaveLength(0);
      expect(h.queue.denials[0].type).toBe('missing_key');
    } finally {
      await h.close();
    }
  });
});

describe('ProxyHandler compressed streams', () => {
  async function gzipParts(events: string[]): Promise<Buffer[]> {
    const { createGzip, constants } = await import('node:zlib');
    const gz = createGzip();
    const out: Buffer[] = [];
    let current: Buffer[] = [];
    gz.on('data', (d: Buffer) => current.push(d));
    for (const e of events) {
      gz.write(e);
      await new Promise<void>((r) => gz.flush(constants.Z_SYNC_FLUSH, () => r()));
      out.push(Buffer.concat(current));
      current = [];
    }
    gz.end();
    await new Promise((r) => gz.on('end', r));
    out.push(Buffer.concat(current));
    return out;
  }

  it('relays gzip SSE untouched (no stripping) and sees its end marker for the outcome rule', async () => {
    const parts = await gzipParts([
      'data: {"id":"c","object":"chat.completion.chunk","choices":[{"delta":{"content":"a"}}]}\n\n',
      'data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":1}}\n\n',
      'data: [DONE]\n\n',
    ]);
    const sent = Buffer.concat(parts.slice(0, 3));
    const h = await startHarness({
      headers: { ...SSE_HEADERS, 'Content-Encoding': 'gzip' },
      chunks: parts.slice(0, 3), // the gzip trailer never comes: the provider lingers
      lingerMs: 3000,
    });
    try {
      const res = await h.send('POST', '/v1/openai/v1/chat/completions', {
        body: '{"model":"gpt-4o-mini","stream":true}',
        headers: { ...JSON_CT, 'accept-encoding': 'gzip' },
      });
      expect(res.headers['content-encoding']).toBe('gzip');
      const got: Buffer[] = [];
      for await (const c of res.body) {
        got.push(c as Buffer);
        if (Buffer.concat(got).length >= sent.length) break; // the client leaves after [DONE]
      }
      expect(Buffer.concat(got).equals(sent)).toBe(true);
      const [c] = await h.queue.waitForCaptures(1);
      expect(c).toMatchObject({
        outcome: 'completed',
        stream_complete: true,
        content_encoding: 'gzip',
        stream_usage_injected: true,
      });
      expect(b64(c.response_body.head).equals(sent)).toBe(true);
    } finally {
      await h.close();
    }
  });
});
