import { type TokenCounts, zeroTokens } from '@spendops/contracts';
import type { ExtractRequest } from '../report';
import { compact, everySplit, feedChunked, golden, goShape, readFixture, run } from '../testkit';
import { GeminiExtractor } from './gemini-extractor';
import { geminiModelFromPath } from './path';

const flash = '/v1beta/models/gemini-2.5-flash';
const ctJSON = 'application/json; charset=UTF-8';
const ctStream = 'text/event-stream';
type Fixture = [file: string, method: string, path: string, contentType: string];
const fixtures: Fixture[] = [
  ['generate_plain.json', 'POST', '/v1beta/models/gemini-2.0-flash:generateContent', ctJSON],
  ['generate_thoughts.json', 'POST', '/v1beta/models/gemini-2.5-pro:generateContent', ctJSON],
  ['generate_cached.json', 'POST', flash + ':generateContent', ctJSON],
  ['generate_tooluse.json', 'POST', '/v1beta/models/gemini-3-pro-preview:generateContent', ctJSON],
  ['generate_multimodal.json', 'POST', '/v1beta/models/gemini-2.5-flash-image:generateContent', ctJSON],
  ['generate_audio_out.json', 'POST', '/v1beta/models/gemini-2.5-flash-preview-tts:generateContent', ctJSON],
  ['generate_grounding.json', 'POST', flash + ':generateContent', ctJSON],
  ['tuned_generate.json', 'POST', '/v1beta/tunedModels/sentiment-classifier-x7k2m9:generateContent', ctJSON],
  ['error_429.json', 'POST', flash + ':generateContent', ctJSON],
  ['embed.json', 'POST', '/v1beta/models/gemini-embedding-001:embedContent', ctJSON],
  ['batch_embed.json', 'POST', '/v1beta/models/gemini-embedding-001:batchEmbedContents', ctJSON],
  ['count_tokens.json', 'POST', flash + ':countTokens', ctJSON],
  ['models_list.json', 'GET', '/v1beta/models', ctJSON],
  ['cached_content_create.json', 'POST', '/v1beta/cachedContents', ctJSON],
  ['stream.sse', 'POST', flash + ':streamGenerateContent', ctStream],
  ['stream_array.json', 'POST', flash + ':streamGenerateContent', ctJSON],
  ['stream_array_cut.json', 'POST', flash + ':streamGenerateContent', ctJSON],
  ['stream_grounding.sse', 'POST', '/v1beta/models/gemini-3-flash-preview:streamGenerateContent', ctStream],
];

const req = (over: Partial<ExtractRequest>): ExtractRequest => ({
  provider: 'google',
  method: 'POST',
  endpoint: flash + ':generateContent',
  model: '',
  stream: false,
  requestBody: null,
  statusCode: 200,
  contentType: '',
  ...over,
});
const byName = (name: string): ExtractRequest => {
  const f = fixtures.find((x) => x[0] === name)!;
  return req({ method: f[1], endpoint: f[2], contentType: f[3], stream: f[2].includes(':stream') });
};
const read = (f: string) => readFixture(__dirname, f);
const extract = (r: ExtractRequest, ...chunks: Buffer[]) => run((x) => new GeminiExtractor(x), r, ...chunks);
const tokens = (t: Partial<TokenCounts>): TokenCounts => ({ ...zeroTokens(), ...t });

describe('Gemini extractor', () => {
  it.each(fixtures.map((f) => f[0]))('golden %s', (file) => {
    expect(goShape(extract(byName(file), read(file)))).toEqual(golden(__dirname, file));
  });

  it.each([
    [
      'generate_plain.json',
      true,
      { prompt_tokens: 8, completion_tokens: 17, total_tokens: 25 },
      0,
      '',
      'generate_content',
    ],
    // thoughtsTokenCount is billed output beside candidates.
    [
      'generate_thoughts.json',
      true,
      { prompt_tokens: 21, completion_tokens: 1514, total_tokens: 1535, reasoning_tokens: 1204 },
      0,
      'standard',
      'generate_content',
    ],
    // promptTokenCount includes the cached 3512: not added again.
    [
      'generate_cached.json',
      true,
      {
        prompt_tokens: 3520,
        completion_tokens: 44,
        total_tokens: 3564,
        cache_read_tokens: 3512,
        reasoning_tokens: 42,
      },
      0,
      'standard',
      'generate_content',
    ],
    // Tool-use prompt tokens sit outside promptTokenCount.
    [
      'generate_tooluse.json',
      true,
      { prompt_tokens: 899, completion_tokens: 388, total_tokens: 1287, reasoning_tokens: 158 },
      0,
      '',
      'generate_content',
    ],
    [
      'generate_multimodal.json',
      true,
      {
        prompt_tokens: 2108,
        completion_tokens: 1297,
        total_tokens: 3405,
        prompt_audio_tokens: 800,
        prompt_image_tokens: 1296,
        completion_image_tokens: 1290,
      },
      0,
      '',
      'generate_content',
    ],
    [
      'generate_audio_out.json',
      true,
      { prompt_tokens: 9, completion_tokens: 160, total_tokens: 169, completion_audio_tokens: 160 },
      0,
      '',
      'generate_content',
    ],
    [
      'generate_grounding.json',
      true,
      { prompt_tokens: 76, completion_tokens: 55, total_tokens: 131, reasoning_tokens: 40 },
      2,
      '',
      'generate_content',
    ],
    [
      'tuned_generate.json',
      true,
      { prompt_tokens: 31, completion_tokens: 2, total_tokens: 33 },
      0,
      '',
      'generate_content',
    ],
    ['error_429.json', false, {}, 0, '', 'generate_content'],
    ['embed.json', false, {}, 0, '', 'embed_content'],
    ['batch_embed.json', false, {}, 0, '', 'embed_content'],
    ['count_tokens.json', false, {}, 0, '', 'count_tokens'],
    ['models_list.json', false, {}, 0, '', 'models'],
    ['cached_content_create.json', false, {}, 0, '', 'other'],
    // Cumulative snapshots: the last one, never the sum.
    [
      'stream.sse',
      true,
      { prompt_tokens: 21, completion_tokens: 1079, total_tokens: 1100, reasoning_tokens: 429 },
      0,
      '',
      'generate_content',
    ],
    [
      'stream_array.json',
      true,
      { prompt_tokens: 21, completion_tokens: 1079, total_tokens: 1100, reasoning_tokens: 429 },
      0,
      '',
      'generate_content',
    ],
    // Cut inside the last element's usageMetadata: the previous snapshot.
    [
      'stream_array_cut.json',
      true,
      { prompt_tokens: 21, completion_tokens: 1054, total_tokens: 1075, reasoning_tokens: 429 },
      0,
      '',
      'generate_content',
    ],
    // Grounding repeated on two chunks counts its queries once; the final chunk has usage and no text.
    [
      'stream_grounding.sse',
      true,
      { prompt_tokens: 100, completion_tokens: 42, total_tokens: 142, reasoning_tokens: 31 },
      2,
      'standard',
      'generate_content',
    ],
  ] as [string, boolean, Partial<TokenCounts>, number, string, string][])(
    'normalisation %s',
    (file, found, tok, web, tier, cls) => {
      const r = extract(byName(file), read(file));
      expect([r.found, r.tokens, r.webSearchRequests, r.serviceTier, r.endpointClass]).toEqual([
        found,
        tokens(tok),
        web,
        tier,
        cls,
      ]);
    },
  );

  it('report details', () => {
    const r = extract(byName('generate_cached.json'), read('generate_cached.json'));
    expect([r.responseModel, r.generationId]).toEqual(['gemini-2.5-flash', 'mAitaLmkHPPlz7IPvtfUqQ4']);
    expect(r.raw).toContain('"cacheTokensDetails"');
    const s = extract(byName('stream.sse'), read('stream.sse'));
    const a = extract(byName('stream_array.json'), read('stream_array.json'));
    expect([s.tokens, s.outputChars, s.generationId]).toEqual([a.tokens, a.outputChars, a.generationId]);
    expect(s.outputChars).toBe(
      'The answer is that the sky scatters blue light more than red (Rayleigh scattering).'.length,
    );
    expect(s.raw).toContain('"candidatesTokenCount":650');
    const tool = extract(byName('generate_tooluse.json'), read('generate_tooluse.json'));
    expect(tool.outputChars).toBe('{"name":"get_weather","args":{"city":"Paris","unit":"celsius"}}'.length);
    const c = extract(byName('count_tokens.json'), read('count_tokens.json'));
    expect(c.notBilled).toBe(true);
    expect(c.raw).toContain('"totalTokens": 31');
    const cc = extract(byName('cached_content_create.json'), read('cached_content_create.json'));
    expect([cc.notBilled, cc.found]).toEqual([false, false]);
    expect(cc.raw).toContain('44108');
  });

  it.each([
    ['POST', flash + ':generateContent', 'generate_content', false],
    ['POST', '/v1/models/gemini-2.0-flash:streamGenerateContent', 'generate_content', false],
    ['POST', '/v1beta/tunedModels/my-model-1:generateContent', 'generate_content', false],
    ['POST', flash + ':countTokens', 'count_tokens', true],
    ['POST', '/v1beta/models/text-embedding-004:embedContent', 'embed_content', false],
    ['POST', '/v1beta/models/text-embedding-004:batchEmbedContents', 'embed_content', false],
    ['POST', flash + ':batchGenerateContent', 'batch', true],
    ['GET', '/v1beta/batches/abc123', 'batch', true],
    ['GET', '/v1beta/models', 'models', true],
    ['GET', flash, 'models', true],
    ['GET', '/v1beta/tunedModels', 'models', true],
    ['GET', '/v1beta/cachedContents', 'other', true],
    ['POST', '/v1beta/cachedContents', 'other', false],
    ['DELETE', '/v1beta/cachedContents/abc', 'other', true],
    ['GET', '/v1beta/files', 'other', true],
    ['POST', '/v1beta/openai/chat/completions', 'other', false],
    ['POST', '/v1beta/models/imagen-4.0-generate-001:predict', 'other', false],
    ['POST', '/v1beta/models/Gemini-2.5-Flash:generateContent', 'other', false],
  ])('endpoint %s %s', (method, path, cls, notBilled) => {
    const r = extract(
      req({ method, endpoint: path }),
      Buffer.from('{"usageMetadata":{"promptTokenCount":5}}'),
    );
    expect([r.endpointClass, r.notBilled, r.found]).toEqual([
      cls,
      notBilled,
      cls === 'generate_content' || cls === 'embed_content',
    ]);
  });

  it.each([
    ['/v1beta/models/gemini-2.5-flash:streamGenerateContent', 'gemini-2.5-flash', 'streamGenerateContent'],
    ['/v1/models/gemini-2.0-flash-001:generateContent', 'gemini-2.0-flash-001', 'generateContent'],
    [
      '/v1alpha/models/gemini-2.5-flash-preview-05-20:countTokens',
      'gemini-2.5-flash-preview-05-20',
      'countTokens',
    ],
    ['/v1beta/models/gemini-embedding-001:batchEmbedContents', 'gemini-embedding-001', 'batchEmbedContents'],
    [
      '/v1beta/tunedModels/sentiment-x7k2m9:generateContent',
      'tunedModels/sentiment-x7k2m9',
      'generateContent',
    ],
    ['/v1beta/models/learnlm_2.0:generateContent', 'learnlm_2.0', 'generateContent'],
  ])('model from path %s', (path, model, action) => {
    expect(geminiModelFromPath(path)).toEqual({ model, action });
  });
  it.each([
    '/v1beta/models/gemini-2.5-flash',
    '/v1beta/models/gemini-2.5-flash:',
    '/v1beta/models/:generateContent',
    '/v1beta/models/gemini%2D2.5:generateContent',
    '/v1beta/models/gemini%2F..%2F:generateContent',
    '/v1beta/models/../models/x:generateContent',
    '/v1beta/models/a..b:generateContent',
    '/v1beta/models/x/y:generateContent',
    '/v1beta/models/x:generateContent:foo',
    '/v1beta/models/x:generate-content',
    '/v1beta/models/x:GenerateContent',
    '/v1beta/models/Gemini:generateContent',
    '/v1beta/models/-x:generateContent',
    '/v1beta/models/x y:generateContent',
    '/v1beta/models/x:generateContent?alt=sse',
    '/v1beta/models/x:generateContent/',
    '/v2/models/x:generateContent',
    'v1beta/models/x:generateContent',
    '//v1beta/models/x:generateContent',
    '/v1beta/publishers/google/models/x:generateContent',
    '/v1/projects/p/locations/us/publishers/google/models/x:generateContent',
    '/v1beta/cachedContents/x:generateContent',
    '/v1beta/models/' + 'a'.repeat(129) + ':generateContent',
    '',
  ])('no model from path %s', (path) => {
    expect(geminiModelFromPath(path)).toBeUndefined();
  });

  it.each(fixtures.map((f) => f[0]))('chunking invariance %s', (file) => {
    const body = read(file);
    const report = (...chunks: Buffer[]) => compact(extract(byName(file), ...chunks));
    const want = report(body);
    expect(everySplit(body, 1, want, report)).toBeNull();
    expect(feedChunked(body, 20, want, report)).toBeNull();
  });

  it.each(['stream.sse', 'stream_array.json', 'generate_cached.json'])(
    'sniffs without a Content-Type (%s)',
    (name) => {
      const withCt = extract(byName(name), read(name));
      const without = extract({ ...byName(name), contentType: '' }, Buffer.from('\n'), read(name));
      expect(without).toEqual(withCt);
    },
  );

  it('skips an oversize member without hiding the usageMetadata after it', () => {
    const big = 'A'.repeat((4 << 20) + 10);
    const body =
      '[{"candidates":[{"content":{"parts":[{"text":"small"}]}}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":1}},' +
      `{"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"${big}"}},{"text":"lost"}]}}],` +
      '"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":1290,"candidatesTokensDetails":[{"modality":"IMAGE","tokenCount":1290}]},"modelVersion":"gemini-3-pro-image-preview"}]';
    const r = extract(
      req({ endpoint: flash + ':streamGenerateContent', contentType: ctJSON }),
      Buffer.from(body),
    );
    expect([r.found, r.tokens.prompt_tokens, r.tokens.completion_image_tokens, r.responseModel]).toEqual([
      true,
      10,
      1290,
      'gemini-3-pro-image-preview',
    ]);
    expect(r.outputChars).toBe(5);
  });

  it('hands the text to the Counter', () => {
    const counter = { count: (s: string) => s.split(/\s+/).filter(Boolean).length };
    const r = extract({ ...byName('stream.sse'), counter }, read('stream.sse'));
    expect(r.outputTokensEstimate).toBe(
      'The answer is that the sky scatters blue light more than red (Rayleigh scattering).'.split(' ').length,
    );
  });
});
