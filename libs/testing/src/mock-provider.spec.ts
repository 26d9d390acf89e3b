import { request } from 'undici';
import { gunzipSync } from 'node:zlib';
import {
  anthropicStream,
  geminiStream,
  openAiChatStream,
  SSE_HEADERS,
  startMockProvider,
} from './mock-provider';

describe('startMockProvider', () => {
  it('answers JSON and records method, target, headers and body bytes', async () => {
    const mock = await startMockProvider({ status: 201, body: { ok: true }, headers: { 'X-Thing': 'a' } });
    try {
      const res = await request(`${mock.url}/v1/chat/completions?x=%2F`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', Authorization: 'Bearer sk' },
        body: Buffer.from([0, 1, 2, 255]),
      });
      expect(res.statusCode).toBe(201);
      expect(res.headers['x-thing']).toBe('a');
      expect(await res.body.json()).toEqual({ ok: true });
      const [rec] = mock.requests;
      expect(rec).toMatchObject({ method: 'POST', url: '/v1/chat/completions?x=%2F' });
      expect(rec.headers.authorization).toBe('Bearer sk');
      expect(rec.body).toEqual(Buffer.from([0, 1, 2, 255]));
      expect(await rec.closed).toBe('finished');
    } finally {
      await mock.close();
    }
  });

  it('sends gzip bodies compressed', async () => {
    const mock = await startMockProvider({ body: 'hello', gzip: true });
    try {
      const res = await request(mock.url);
      expect(res.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(Buffer.from(await res.body.arrayBuffer())).toString()).toBe('hello');
    } finally {
      await mock.close();
    }
  });

  it('streams SSE chunks with delays, and cuts a stream mid-way', async () => {
    const mock = await startMockProvider({
      headers: SSE_HEADERS,
      chunks: openAiChatStream(['a', 'b']),
      delayMs: 30,
    });
    try {
      const res = await request(mock.url);
      const text = await res.body.text();
      expect(text).toContain('data: [DONE]\n\n');
      const sent = mock.requests[0].chunkSentAt;
      expect(sent).toHaveLength(4);
      expect(sent[3] - sent[0]).toBeGreaterThanOrEqual(60);

      mock.setHandler({ headers: SSE_HEADERS, chunks: anthropicStream(['x', 'y']), cutAfterChunks: 2 });
      const cut = await request(mock.url);
      await expect(cut.body.text()).rejects.toThrow();
      expect(await mock.requests[1].closed).toBe('aborted');
    } finally {
      await mock.close();
    }
  });

  it('hangs until the peer leaves, and sees it leave', async () => {
    const mock = await startMockProvider({ hang: true });
    try {
      const ac = new AbortController();
      const pending = request(mock.url, { signal: ac.signal });
      await mock.waitForRequests(1);
      ac.abort();
      await expect(pending).rejects.toThrow();
      expect(await mock.requests[0].closed).toBe('aborted');
    } finally {
      await mock.close();
    }
  });

  it('builds Gemini streams with a final finishReason', () => {
    const chunks = geminiStream(['a', 'b']);
    expect(chunks[0]).not.toContain('finishReason');
    expect(chunks[1]).toContain('"finishReason":"STOP"');
  });
});
