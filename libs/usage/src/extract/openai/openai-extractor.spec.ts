import type { ExtractRequest } from '../report';
import { compact, everySplit, feedChunked, fixedChunks, golden, goShape, readFixture, run } from '../testkit';
import { classifyOpenAI } from './classify';
import { OpenAIExtractor } from './openai-extractor';
import { Squeezer } from './squeezer';

interface Fixture {
  file: string;
  provider: string;
  path: string;
  method?: string;
  body?: string;
  stream?: boolean;
}

// The reference's fixture table (extract/openai/openai_test.go).
const fixtures: Fixture[] = [
  { file: 'openai_chat_reasoning.json', provider: 'openai', path: '/v1/chat/completions' },
  { file: 'openai_chat_cached.json', provider: 'openai', path: '/v1/chat/completions' },
  { file: 'openai_chat_audio.json', provider: 'openai', path: '/v1/chat/completions' },
  { file: 'openai_chat_stream_usage.sse', provider: 'openai', path: '/v1/chat/completions', stream: true },
  { file: 'openai_chat_stream_nousage.sse', provider: 'openai', path: '/v1/chat/completions', stream: true },
  { file: 'openai_chat_stream_cut.sse', provider: 'openai', path: '/v1/chat/completions', stream: true },
  {
    file: 'openai_chat_stream_finish_usage.sse',
    provider: 'openai',
    path: '/v1/chat/completions',
    stream: true,
  },
  { file: 'openai_completions.json', provider: 'openai', path: '/v1/completions' },
  { file: 'openai_completions_stream.sse', provider: 'openai', path: '/v1/completions', stream: true },
  { file: 'openai_responses_websearch.json', provider: 'openai', path: '/v1/responses' },
  { file: 'openai_responses_cache_write.json', provider: 'openai', path: '/v1/responses' },
  { file: 'openai_responses_stream_completed.sse', provider: 'openai', path: '/v1/responses', stream: true },
  { file: 'openai_responses_stream_websearch.sse', provider: 'openai', path: '/v1/responses', stream: true },
  { file: 'openai_responses_stream_incomplete.sse', provider: 'openai', path: '/v1/responses', stream: true },
  { file: 'openai_responses_stream_failed.sse', provider: 'openai', path: '/v1/responses', stream: true },
  { file: 'openai_embeddings.json', provider: 'openai', path: '/v1/embeddings' },
  {
    file: 'openai_images_gptimage.json',
    provider: 'openai',
    path: '/v1/images/generations',
    body: '{"model":"gpt-image-1","prompt":"a red fox","size":"1024x1024","quality":"medium"}',
  },
  {
    file: 'openai_images_dalle3.json',
    provider: 'openai',
    path: '/v1/images/generations',
    body: '{"model":"dall-e-3","prompt":"a red fox asleep in snow","n":1,"size":"1792x1024","quality":"hd"}',
  },
  {
    file: 'openai_images_stream.sse',
    provider: 'openai',
    path: '/v1/images/generations',
    stream: true,
    body: '{"model":"gpt-image-1","prompt":"a lighthouse","stream":true,"partial_images":1,"size":"1024x1536","quality":"high"}',
  },
  { file: 'openai_transcription_tokens.json', provider: 'openai', path: '/v1/audio/transcriptions' },
  { file: 'openai_transcription_duration.json', provider: 'openai', path: '/v1/audio/transcriptions' },
  { file: 'openai_transcription_verbose.json', provider: 'openai', path: '/v1/audio/transcriptions' },
  {
    file: 'openai_transcription_stream.sse',
    provider: 'openai',
    path: '/v1/audio/transcriptions',
    stream: true,
  },
  { file: 'openai_translation.json', provider: 'openai', path: '/v1/audio/translations' },
  {
    file: 'openai_speech.bin',
    provider: 'openai',
    path: '/v1/audio/speech',
    body: '{"model":"tts-1","voice":"alloy","input":"Grüße aus Köln — see you at 3 pm! 👋"}',
  },
  {
    file: 'openai_speech_stream.sse',
    provider: 'openai',
    path: '/v1/audio/speech',
    stream: true,
    body: '{"model":"gpt-4o-mini-tts","voice":"coral","input":"Today is a wonderful day.","stream_format":"sse"}',
  },
  { file: 'openai_moderations.json', provider: 'openai', path: '/v1/moderations' },
  { file: 'openai_models.json', provider: 'openai', path: '/v1/models', method: 'GET' },
  { file: 'groq_stream.sse', provider: 'groq', path: '/openai/v1/chat/completions', stream: true },
  { file: 'deepseek_cache.json', provider: 'deepseek', path: '/chat/completions' },
  { file: 'deepseek_stream.sse', provider: 'deepseek', path: '/chat/completions', stream: true },
  { file: 'xai_reasoning.json', provider: 'xai', path: '/v1/chat/completions' },
  { file: 'xai_stream.sse', provider: 'xai', path: '/v1/chat/completions', stream: true },
  { file: 'perplexity_search.json', provider: 'perplexity', path: '/chat/completions' },
  { file: 'perplexity_deep_research.json', provider: 'perplexity', path: '/chat/completions' },
  { file: 'openrouter_stream.sse', provider: 'openrouter', path: '/api/v1/chat/completions', stream: true },
  { file: 'openrouter_byok.json', provider: 'openrouter', path: '/api/v1/chat/completions' },
  { file: 'deepinfra_estimated_cost.json', provider: 'deepinfra', path: '/v1/openai/chat/completions' },
  { file: 'zai_cache.json', provider: 'zai', path: '/api/paas/v4/chat/completions' },
  {
    file: 'fireworks_stream.sse',
    provider: 'fireworks',
    path: '/inference/v1/chat/completions',
    stream: true,
  },
  { file: 'mistral_stream.sse', provider: 'mistral', path: '/v1/chat/completions', stream: true },
  { file: 'mistral_num_cached.json', provider: 'mistral', path: '/v1/chat/completions' },
  { file: 'cerebras_reasoning.json', provider: 'cerebras', path: '/v1/chat/completions' },
  { file: 'nebius_chat.json', provider: 'nebius', path: '/v1/chat/completions' },
  { file: 'novita_chat.json', provider: 'novita', path: '/v3/openai/chat/completions' },
  { file: 'gemini_openai_compat.json', provider: 'google', path: '/v1beta/openai/chat/completions' },
  { file: 'anthropic_openai_compat.json', provider: 'anthropic', path: '/v1/chat/completions' },
];

function request(f: Fixture): ExtractRequest {
  const ext = f.file.slice(f.file.lastIndexOf('.'));
  const ct =
    ext === '.sse' ? 'text/event-stream; charset=utf-8' : ext === '.bin' ? 'audio/mpeg' : 'application/json';
  return {
    provider: f.provider,
    method: f.method ?? 'POST',
    endpoint: f.path,
    model: '',
    stream: f.stream ?? false,
    requestBody: f.body ? Buffer.from(f.body) : null,
    statusCode: 200,
    contentType: ct,
  };
}

const make = (req: ExtractRequest) => new OpenAIExtractor(req);
const read = (f: string): Buffer => readFixture(__dirname, f);
const extract = (req: ExtractRequest, ...pieces: Buffer[]) => run(make, req, ...pieces);
function byName(name: string): [ExtractRequest, Buffer] {
  const f = fixtures.find((x) => x.file === name);
  if (!f) throw new Error(`no fixture ${name}`);
  return [request(f), read(name)];
}
const chatReq = (provider: string): ExtractRequest => ({
  provider,
  method: 'POST',
  endpoint: '/v1/chat/completions',
  model: '',
  stream: true,
  requestBody: null,
  statusCode: 200,
  contentType: 'text/event-stream',
});

describe('OpenAI-dialect extractor', () => {
  describe('golden reports', () => {
    it.each(fixtures.map((f) => [f.file, f] as const))('%s', (_name, f) => {
      expect(goShape(extract(request(f), read(f.file)))).toEqual(golden(__dirname, f.file));
    });
  });

  describe('split anywhere: no event, line ending or JSON token depends on how TCP delivered it', () => {
    it.each(fixtures.map((f) => [f.file, f] as const))('%s', (_name, f) => {
      const body = read(f.file);
      const req = request(f);
      const report = (...pieces: Buffer[]) => compact(extract(req, ...pieces));
      const want = report(body);
      const step = body.length > 2500 ? Math.floor(body.length / 200) : 1;
      expect(everySplit(body, step, want, report)).toBeNull();
      expect(feedChunked(body, 10, want, report)).toBeNull();
    });
  });

  describe('CRLF and CR line endings give the same report', () => {
    const sse = fixtures.filter((f) => f.file.endsWith('.sse'));
    it.each(sse.map((f) => [f.file, f] as const))('%s', (_name, f) => {
      const body = read(f.file);
      const req = request(f);
      const report = (...pieces: Buffer[]) => compact(extract(req, ...pieces));
      const want = report(body);
      for (const nl of ['\r\n', '\r']) {
        const alt = Buffer.from(body.toString('utf8').replace(/\n/g, nl));
        expect(everySplit(alt, 1 + Math.floor(alt.length / 200), want, report)).toBeNull();
      }
    });
  });

  describe('peer regressions', () => {
    it('usage on a chunk with non-empty choices keeps cached tokens (LiteLLM #36168)', () => {
      const s =
        'data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4.1","choices":[{"index":0,"delta":{"content":"ok"}}]}\n\n' +
        'data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4.1","choices":[{"index":0,"delta":{}}],"usage":{"prompt_tokens":4000,"completion_tokens":2,"total_tokens":4002,"prompt_tokens_details":{"cached_tokens":3968}}}\n\n' +
        'data: [DONE]\n\n';
      const r = extract(chatReq('openai'), Buffer.from(s));
      expect(r.found).toBe(true);
      expect([r.tokens.prompt_tokens, r.tokens.cache_read_tokens, r.tokens.completion_tokens]).toEqual([
        4000, 3968, 2,
      ]);
    });
    it('cached tokens are not added to prompt', () => {
      const r = extract(...byName('openai_chat_cached.json'));
      expect([r.tokens.prompt_tokens, r.tokens.cache_read_tokens, r.tokens.total_tokens]).toEqual([
        2006, 1920, 2306,
      ]);
    });
    it('a stream cut before its usage chunk: no usage, text seen feeds an estimate', () => {
      const r = extract(...byName('openai_chat_stream_cut.sse'));
      expect(r.found).toBe(false);
      expect(r.outputChars).toBeGreaterThan(0);
      expect(r.outputTokensEstimate).toBeGreaterThan(0);
    });
    it('OpenRouter cost in a stream (LiteLLM #16021)', () => {
      expect(extract(...byName('openrouter_stream.sse')).providerCost).toBe('0.0160614');
    });
    it('Mistral stream usage on the last content chunk (Portkey #1259)', () => {
      const r = extract(...byName('mistral_stream.sse'));
      expect(r.found).toBe(true);
      expect(r.tokens.total_tokens).toBe(63);
    });
    it('xAI usage before the last chunk (LiteLLM #17136)', () => {
      const r = extract(...byName('xai_stream.sse'));
      expect([r.found, r.tokens.completion_tokens, r.tokens.reasoning_tokens]).toEqual([true, 334, 330]);
    });
    it('xAI cached subset and exact ticks (LiteLLM #14874)', () => {
      const r = extract(...byName('xai_reasoning.json'));
      const t = r.tokens;
      expect([t.prompt_tokens, t.cache_read_tokens, t.completion_tokens, t.total_tokens]).toEqual([
        663, 512, 174, 837,
      ]);
      expect(r.providerCost).toBe('0.0037756');
    });
    it('costs come from the number text, never a float', () => {
      const body =
        '{"id":"gen-1","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2,"cost":4.1400000000000003e-05}}';
      const r = extract({ ...chatReq('openrouter'), contentType: 'application/json' }, Buffer.from(body));
      expect(r.providerCost).toBe('0.000041400000000000003');
    });
    it('usage is cumulative: the last one wins, never summed', () => {
      const s =
        'data: {"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":1,"total_tokens":11}}\n\n' +
        'data: {"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}\n\n' +
        'data: {"choices":[],"usage":null}\n\n';
      const r = extract(chatReq('openai'), Buffer.from(s));
      expect([r.tokens.prompt_tokens, r.tokens.completion_tokens]).toEqual([10, 5]);
    });
  });

  it.each([
    ['POST', '/v1/chat/completions', 'chat', false],
    ['POST', '/openai/v1/chat/completions/', 'chat', false],
    ['GET', '/v1/chat/completions/chatcmpl-1', 'chat', true],
    ['GET', '/v1/chat/completions', 'chat', true],
    ['POST', '/v1/completions', 'completions', false],
    ['POST', '/v1/responses', 'responses', false],
    ['GET', '/v1/responses/resp_123', 'responses', true],
    ['POST', '/v1/responses/resp_123/cancel', 'responses', true],
    ['POST', '/v1/responses/input_tokens', 'count_tokens', true],
    ['POST', '/v1/embeddings', 'embeddings', false],
    ['POST', '/v1/images/generations', 'images', false],
    ['POST', '/v1/images/edits', 'images', false],
    ['POST', '/v1/images/variations', 'images', false],
    ['POST', '/v1/audio/transcriptions', 'audio_transcription', false],
    ['POST', '/v1/audio/translations', 'audio_translation', false],
    ['POST', '/v1/audio/speech', 'audio_speech', false],
    ['POST', '/v1/moderations', 'moderations', false],
    ['GET', '/v1/models', 'models', true],
    ['GET', '/v1/models/gpt-4o', 'models', true],
    ['POST', '/v1/batches', 'batch', true],
    ['GET', '/v1/batches/batch_abc', 'batch', true],
    ['POST', '/v1/tcp_warming', 'other', false],
    ['GET', '/v1/files', 'other', true],
    ['POST', '/v1beta/openai/chat/completions', 'chat', false],
  ])('classify %s %s', (method, path, cls, notBilled) => {
    expect(classifyOpenAI(method, path)).toEqual({ endpointClass: cls, notBilled });
  });

  it('stream detection follows the response Content-Type, then the request', () => {
    const errBody =
      '{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}';
    const r = extract(
      { ...chatReq('openai'), contentType: 'application/json', statusCode: 429 },
      Buffer.from(errBody),
    );
    expect([r.found, r.endpointClass]).toEqual([false, 'chat']);
    const [req, body] = byName('openai_chat_stream_usage.sse');
    expect(extract({ ...req, stream: false }, body).found).toBe(true);
    expect(extract({ ...req, contentType: '', stream: true }, body).found).toBe(true);
  });

  it('uses the Counter once per non-empty delta', () => {
    const [req, body] = byName('openai_chat_stream_nousage.sse');
    const counter = { count: (s: string) => s.split(/\s+/).filter(Boolean).length + 1 };
    const r = extract({ ...req, counter }, body);
    expect(r.outputTokensEstimate).toBeGreaterThanOrEqual(10);
    expect(r.outputChars).toBe(42);
  });

  describe('JSON bounds', () => {
    it('embedding vectors are squeezed away and usage survives', () => {
      const req: ExtractRequest = {
        ...chatReq('openai'),
        endpoint: '/v1/embeddings',
        contentType: 'application/json',
      };
      const e = new OpenAIExtractor(req);
      e.write(Buffer.from('{"object":"list","data":['));
      const vec = '[' + '-0.012345678,'.repeat(3071) + '0.5]';
      for (let i = 0; i < 400; i++) {
        e.write(Buffer.from(`${i ? ',' : ''}{"object":"embedding","index":${i},"embedding":${vec}}`));
      }
      e.write(
        Buffer.from(
          '],"model":"text-embedding-3-large","usage":{"prompt_tokens":16000,"total_tokens":16000}}',
        ),
      );
      const r = e.report();
      expect([r.found, r.tokens.prompt_tokens]).toEqual([true, 16000]);
    });
    it('strings, however long, are cut', () => {
      const req: ExtractRequest = {
        ...chatReq(''),
        endpoint: '/v1/images/generations',
        contentType: 'application/json',
      };
      const body = `{"data":[{"b64_json":"${'QUJD'.repeat(5 << 20)}"}],"usage":{"input_tokens":1,"output_tokens":2,"total_tokens":3}}`;
      const r = extract(req, Buffer.from(body));
      expect([r.found, r.imageCount, r.tokens.completion_image_tokens]).toEqual([true, 1, 2]);
    });
    it('over the cap even after squeezing: not found, no throw', () => {
      const req: ExtractRequest = { ...chatReq(''), contentType: 'application/json' };
      const e = new OpenAIExtractor(req);
      e.write(Buffer.from('{"choices":['));
      e.write(Buffer.from('{"a":1},'.repeat((8 << 20) / 8)));
      e.write(Buffer.from('{}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}'));
      expect(e.report().found).toBe(false);
    });
  });

  it('the squeezer keeps valid JSON', () => {
    const input = Buffer.from(
      `{"a":"${'x\\"\\u00e9\\\\'.repeat(3000)}","b":[1,-2.5e3,true,null,"s",{"c":[3,4]},[5]],"content":"héllo \\u263a","n":-0}`,
    );
    const sq = new Squeezer(1 << 20, 64);
    for (const c of fixedChunks(input, 5)) sq.write(c);
    const v = JSON.parse(sq.bytes().toString('utf8')) as { b: unknown };
    expect(v.b).toEqual([true, null, 's', { c: [] }, []]);
    expect(sq.chars).toBe(7);
  });

  it('the squeezer cuts long strings between whole characters, however the body is chunked', () => {
    // 'é' and '😀' are 2 and 4 bytes: the cut at maxString bytes falls inside them and moves past them.
    const text = `ab${'é😀x'.repeat(40)}`;
    const input = Buffer.from(`{"content":"${text}","k":["${'é'.repeat(9)}\\u263a"],"n":1}`);
    const squeeze = (chunk: number, limit = 1 << 20): Squeezer => {
      const counted: string[] = [];
      const sq = new Squeezer(limit, 7, (t) => counted.push(t));
      for (const c of fixedChunks(input, chunk)) sq.write(c);
      expect(counted).toEqual([]);
      return sq;
    };
    const whole = squeeze(input.length);
    // 'a','b' (2) + 'é' (2) + '😀' (4, crossing byte 7) is kept whole; the next character is cut. The 4th
    // 'é' starts at byte 7: kept whole too.
    expect(JSON.parse(whole.bytes().toString('utf8'))).toEqual({ content: 'abé😀', k: ['éééé'], n: 1 });
    expect(whole.chars).toBe(2 + 3 * 40);
    expect(whole.cutChars).toBe(2 + 3 * 40);
    for (const chunk of [1, 2, 3, 5, 7, 64]) {
      const sq = squeeze(chunk);
      expect(sq.bytes().equals(whole.bytes())).toBe(true);
      expect([sq.chars, sq.cutChars, sq.over]).toEqual([whole.chars, whole.cutChars, false]);
    }
    // A limit inside the kept text: the copy stops there, at the same byte whatever the chunking.
    const capped = squeeze(input.length, 14);
    expect(capped.over).toBe(true);
    expect(capped.bytes().toString('utf8')).toBe('{"content":"ab');
    for (const chunk of [1, 3, 6]) expect(squeeze(chunk, 14).bytes().equals(capped.bytes())).toBe(true);
  });

  it('never throws and keeps total = prompt + completion on mangled fixtures (fuzz)', () => {
    let x = 99;
    for (const f of fixtures) {
      const body = read(f.file);
      if (body.length > 16 << 10) continue;
      for (let k = 0; k < 5; k++) {
        x = (x * 1103515245 + 12345) & 0x7fffffff;
        const b = Buffer.from(body);
        b[x % b.length] ^= (x >> 8) & 0xff;
        const cut = b.subarray(0, (x >> 3) % (b.length + 1));
        const req = request(f);
        const whole = compact(extract(req, cut));
        expect(compact(extract(req, ...fixedChunks(cut, ((x >> 5) % 32) + 1)))).toBe(whole);
        const t = extract(req, cut).tokens;
        expect(t.total_tokens).toBe(t.prompt_tokens + t.completion_tokens);
      }
    }
  });
});
