import { request } from 'undici';
import { gunzipSync } from 'node:zlib';
import { REPLY_TEXT, REPLY_WORDS } from './ids';
import { ScriptedUpstream, startScriptedUpstream } from './server';
import type { UpstreamLogEntry } from './log';

type Obj = Record<string, unknown>;

async function post(
  up: ScriptedUpstream,
  path: string,
  trace: string,
  body: unknown,
  opts: { gzip?: boolean; headers?: Record<string, string> } = {},
) {
  const res = await request(`${up.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-compat-trace': trace,
      authorization: 'Bearer sk-test',
      'accept-encoding': opts.gzip ? 'gzip' : 'identity',
      ...opts.headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(c as Buffer);
  let raw = Buffer.concat(chunks);
  if (res.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
  return { status: res.statusCode, headers: res.headers, text: raw.toString('utf8'), reads: chunks.length };
}

const entryFor = (up: ScriptedUpstream, trace: string): UpstreamLogEntry => {
  const found = up.log.filter((e) => e.trace === trace);
  expect(found).toHaveLength(1);
  return found[0];
};

const sseData = (text: string, sep = '\n\n') =>
  text
    .split(sep)
    .filter(Boolean)
    .map((ev) =>
      ev
        .split(/\r?\n/)
        .find((l) => l.startsWith('data: '))!
        .slice(6),
    );

describe('scripted upstream', () => {
  let up: ScriptedUpstream;
  beforeAll(async () => {
    up = await startScriptedUpstream({ gapMs: 5 });
  });
  afterAll(() => up.close());

  describe('OpenAI chat stream: the usage chunk only when asked', () => {
    it.each([
      ['without include_usage', { model: 'gpt-4.1', stream: true }, false],
      [
        'with include_usage',
        { model: 'gpt-4.1', stream: true, stream_options: { include_usage: true } },
        true,
      ],
    ])('%s', async (name, body, wantUsage) => {
      const trace = `t.${name.replace(/ /g, '_')}`;
      const res = await post(up, '/v1/chat/completions', trace, body, { gzip: true });
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(res.headers['content-encoding']).toBeUndefined();
      const events = sseData(res.text);
      expect(events[events.length - 1]).toBe('[DONE]');
      const last = JSON.parse(events[events.length - 2]) as Obj;
      expect(typeof last.usage === 'object' && last.usage !== null).toBe(wantUsage);
      expect(res.text.includes('"usage"')).toBe(wantUsage);
      const content = events
        .slice(0, -1)
        .map((e) => JSON.parse(e) as { choices: Array<{ delta: { content?: string } }> })
        .map((c) => c.choices[0]?.delta.content ?? '')
        .join('');
      expect(content).toBe(REPLY_TEXT);
      const entry = entryFor(up, trace);
      expect(entry.usage_reported).toBe(wantUsage);
      expect(entry.include_usage).toBe(wantUsage ? true : null);
      expect(entry.expect).not.toBeNull();
      if (wantUsage) expect((last.usage as Obj).prompt_tokens).toBe(entry.expect!.prompt_tokens);
    });
  });

  it('is deterministic per seed, gzips JSON when accepted, and logs Anthropic usage in the event convention', async () => {
    const body = { model: 'claude-sonnet-4-5', max_tokens: 10 };
    const plain = await post(up, '/v1/messages', 'same#a', body);
    const zipped = await post(up, '/v1/messages', 'same#b', body, { gzip: true });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.text).toBe(plain.text);
    expect(zipped.headers['request-id']).toBe(plain.headers['request-id']);
    const m = JSON.parse(plain.text) as { model: string; usage: Record<string, number> };
    expect(m.model).toBe('claude-sonnet-4-5-20250929');
    const e = entryFor(up, 'same#a');
    expect(e.gzipped).toBe(false);
    expect(entryFor(up, 'same#b').gzipped).toBe(true);
    const u = m.usage;
    expect(u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens).toBe(
      e.expect!.prompt_tokens,
    );
    expect(e.expect!.cache_read_tokens).toBe(u.cache_read_input_tokens);
    expect(e.expect!.cache_write_tokens).toBe(u.cache_creation_input_tokens);
  });

  it('streams Anthropic message_start…message_stop with a tool_use block and cumulative usage', async () => {
    const res = await post(up, '/v1/messages', 'anth.tool', {
      model: 'claude-haiku-4-5',
      stream: true,
      tools: [{ name: 'get_weather', input_schema: {} }],
    });
    const types = res.text
      .split('\n\n')
      .filter(Boolean)
      .map((ev) => ev.split('\n')[0]);
    expect(types[0]).toBe('event: message_start');
    expect(types).toContain('event: ping');
    expect(types.slice(-2)).toEqual(['event: message_delta', 'event: message_stop']);
    const json = sseData(res.text)
      .filter((d) => d.includes('input_json_delta'))
      .map((d) => (JSON.parse(d) as { delta: { partial_json: string } }).delta.partial_json)
      .join('');
    expect(JSON.parse(json)).toEqual({ city: 'Paris' });
    const delta = JSON.parse(sseData(res.text).at(-2)!) as { usage: Obj; delta: Obj };
    expect(delta.delta.stop_reason).toBe('tool_use');
    expect(delta.usage.output_tokens).toBe(entryFor(up, 'anth.tool').expect!.completion_tokens);
  });

  it('frames Gemini streams as CRLF SSE (alt=sse) or a progressively sent JSON array', async () => {
    const sse = await post(up, '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', 'g#1', {});
    expect(sse.text.startsWith('data: {')).toBe(true);
    expect(sse.text).toContain('}\r\n\r\ndata: {');
    const arr = await post(up, '/v1beta/models/gemini-2.5-flash:streamGenerateContent', 'g#2', {});
    const chunks = JSON.parse(arr.text) as Array<{ usageMetadata: Record<string, number> }>;
    expect(chunks).toHaveLength(REPLY_WORDS.length);
    expect(arr.text).toContain('},\r\n{');
    const last = chunks[chunks.length - 1].usageMetadata;
    expect(last.totalTokenCount).toBe(
      last.promptTokenCount + last.candidatesTokenCount + (last.thoughtsTokenCount ?? 0),
    );
    const e = up.log.find((x) => x.trace === 'g#2')!;
    expect(e.expect!.prompt_tokens).toBe(last.promptTokenCount);
    expect(e.expect!.completion_tokens).toBe(last.candidatesTokenCount + (last.thoughtsTokenCount ?? 0));
    expect(e.query).toBe('');
    expect(up.log.find((x) => x.trace === 'g#1')!.query).toBe('alt=sse');
  });

  it.each([
    ['/v1/chat/completions', '"code":"rate_limit_exceeded"', 'retry-after'],
    ['/v1/responses', '"code":"rate_limit_exceeded"', 'x-should-retry'],
    ['/v1/embeddings', '"code":"rate_limit_exceeded"', 'retry-after'],
    ['/v1/messages', '"type":"rate_limit_error"', 'retry-after'],
    ['/v1beta/models/gemini-2.5-flash:generateContent', '"status":"RESOURCE_EXHAUSTED"', 'server-timing'],
  ])('answers %s with the provider 429 body when the seed says error429', async (path, want, header) => {
    const trace = `x.error429.${path}#1`;
    const res = await post(up, path, trace, { model: 'm' });
    expect(res.status).toBe(429);
    expect(res.text).toContain(want);
    expect(res.headers[header]).toBeDefined();
    const e = entryFor(up, trace);
    expect(e).toMatchObject({ status: 429, usage_reported: false, expect: null });
  });

  it('answers chat tool calls plain and streamed, and Responses with reasoning usage', async () => {
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: {} } }];
    const plain = JSON.parse(
      (await post(up, '/v1/chat/completions', 'tc', { model: 'gpt-4o', tools })).text,
    ) as { choices: Array<{ message: { tool_calls: Array<{ function: Obj }> }; finish_reason: string }> };
    expect(plain.choices[0].finish_reason).toBe('tool_calls');
    expect(plain.choices[0].message.tool_calls[0].function).toEqual({
      name: 'get_weather',
      arguments: '{"city":"Paris"}',
    });
    const streamed = await post(up, '/v1/chat/completions', 'tcs', { model: 'gpt-4o', tools, stream: true });
    const args = sseData(streamed.text)
      .slice(0, -1)
      .map((d) => JSON.parse(d) as { choices: Array<{ delta: { tool_calls?: Array<{ function: Obj }> } }> })
      .map((c) => c.choices[0].delta.tool_calls?.[0].function.arguments ?? '')
      .join('');
    expect(args).toBe('{"city":"Paris"}');

    const resp = await post(up, '/v1/responses', 'resp', { model: 'gpt-5-mini', stream: true });
    const events = resp.text.split('\n\n').filter(Boolean);
    expect(events[0].startsWith('event: response.created\ndata: ')).toBe(true);
    const completed = JSON.parse(sseData(resp.text).at(-1)!) as { type: string; response: { usage: Obj } };
    expect(completed.type).toBe('response.completed');
    const e = entryFor(up, 'resp');
    expect(e.expect!.reasoning_tokens).toBeGreaterThan(0);
    expect((completed.response.usage.output_tokens_details as Obj).reasoning_tokens).toBe(
      e.expect!.reasoning_tokens,
    );
    const seqs = sseData(resp.text).map(
      (d) => (JSON.parse(d) as { sequence_number: number }).sequence_number,
    );
    expect(seqs).toEqual(seqs.map((_, i) => i));
  });

  it('returns embeddings as floats or little-endian float32 base64 with usage; Gemini embeddings without', async () => {
    const body = { model: 'text-embedding-3-small', input: ['hello world', 'x'], dimensions: 4 };
    const floats = JSON.parse((await post(up, '/v1/embeddings', 'emb#1', body)).text) as {
      data: Array<{ embedding: number[] }>;
      usage: Obj;
    };
    const b64 = JSON.parse(
      (await post(up, '/v1/embeddings', 'emb#2', { ...body, encoding_format: 'base64' })).text,
    ) as { data: Array<{ embedding: string }> };
    expect(floats.data).toHaveLength(2);
    expect(floats.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
    const buf = Buffer.from(b64.data[0].embedding, 'base64');
    expect(buf.length).toBe(16);
    floats.data[0].embedding.forEach((v, j) => expect(buf.readFloatLE(4 * j)).toBeCloseTo(v, 6));

    const g = await post(up, '/v1beta/models/text-embedding-004:batchEmbedContents', 'gemb', {
      requests: [{}, {}],
    });
    expect((JSON.parse(g.text) as { embeddings: unknown[] }).embeddings).toHaveLength(2);
    expect(g.text).not.toContain('usage');
    expect(entryFor(up, 'gemb')).toMatchObject({ provider: 'google', usage_reported: false, expect: null });
  });

  it('logs X-ASO-* headers that reach it and which credential arrived, never its value', async () => {
    await post(
      up,
      '/v1/chat/completions',
      'leak',
      { model: 'gpt-4.1' },
      { headers: { 'X-ASO-Dims': 'team=a', 'x-goog-api-key': 'secret-value' } },
    );
    const e = entryFor(up, 'leak');
    expect(e.aso_headers).toEqual(['X-ASO-Dims']);
    expect(e.auth).toEqual(['authorization', 'x-goog-api-key']);
    expect(JSON.stringify(up.log)).not.toContain('secret-value');
    const res = await request(`${up.url}/_compat/log?trace=leak`);
    expect(((await res.body.json()) as { entries: unknown[] }).entries).toHaveLength(1);
  });

  it('answers unknown routes with an OpenAI-style 404 and bad JSON with 400', async () => {
    const nf = await post(up, '/v1/unknown', 'nf', {});
    expect(nf.status).toBe(404);
    expect(nf.text).toContain('Invalid URL (POST /v1/unknown)');
    const bad = await post(up, '/v1/chat/completions', 'bad', '{not json');
    expect(bad.status).toBe(400);
  });
});

describe('scripted upstream pacing', () => {
  it('sends streamed events as separate writes with the configured gap before each generated token', async () => {
    const up = await startScriptedUpstream({ gapMs: 40 });
    try {
      const started = Date.now();
      const res = await post(up, '/v1/chat/completions', 'pace', { model: 'gpt-4.1', stream: true });
      const elapsed = Date.now() - started;
      // 7 paced chunks (role + 6 words) → at least 6 gaps; the trailer (finish, [DONE]) comes back to back.
      expect(elapsed).toBeGreaterThanOrEqual(6 * 40 - 5);
      expect(res.reads).toBeGreaterThan(3);
    } finally {
      await up.close();
    }
  });
});
