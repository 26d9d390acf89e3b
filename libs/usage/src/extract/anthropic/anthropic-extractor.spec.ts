import { type TokenCounts, zeroTokens } from '@spendops/contracts';
import type { ExtractRequest } from '../report';
import { compact, everySplit, feedChunked, golden, goShape, readFixture, run } from '../testkit';
import { AnthropicExtractor } from './anthropic-extractor';

interface Fixture {
  file: string;
  method: string;
  path: string;
  contentType: string;
  stream: boolean;
}
const fx = (file: string, method: string, path: string, contentType: string, stream: boolean): Fixture => ({
  file,
  method,
  path,
  contentType,
  stream,
});
const JSON_CT = 'application/json';
const SSE_CT = 'text/event-stream';
const fixtures: Fixture[] = [
  fx('messages_plain.json', 'POST', '/v1/messages', JSON_CT, false),
  fx('messages_cache_read.json', 'POST', '/v1/messages', JSON_CT, false),
  fx('messages_cache_write_5m_1h.json', 'POST', '/v1/messages', JSON_CT, false),
  fx('messages_cache_write_nosplit.json', 'POST', '/v1/messages', JSON_CT, false),
  fx('messages_thinking.json', 'POST', '/v1/messages', JSON_CT, false),
  fx('messages_web_search.json', 'POST', '/v1/messages', JSON_CT, false),
  fx('error_overloaded.json', 'POST', '/v1/messages', JSON_CT, false),
  fx('count_tokens.json', 'POST', '/v1/messages/count_tokens', JSON_CT, false),
  fx('complete_legacy.json', 'POST', '/v1/complete', JSON_CT, false),
  fx('models_list.json', 'GET', '/v1/models', JSON_CT, false),
  fx('batch_create.json', 'POST', '/v1/messages/batches', JSON_CT, false),
  fx('stream_plain.sse', 'POST', '/v1/messages', 'text/event-stream; charset=utf-8', true),
  fx('stream_server_tools.sse', 'POST', '/v1/messages', SSE_CT, true),
  fx('stream_thinking.sse', 'POST', '/v1/messages', SSE_CT, true),
  fx('stream_error.sse', 'POST', '/v1/messages', SSE_CT, true),
  fx('stream_error_after_delta.sse', 'POST', '/v1/messages', SSE_CT, true),
  fx('stream_cut.sse', 'POST', '/v1/messages', SSE_CT, true),
  fx('stream_cache_both.sse', 'POST', '/v1/messages', SSE_CT, true),
  fx('complete_legacy_stream.sse', 'POST', '/v1/complete', SSE_CT, true),
];

const req = (over: Partial<ExtractRequest>): ExtractRequest => ({
  provider: 'anthropic',
  method: 'POST',
  endpoint: '/v1/messages',
  model: '',
  stream: false,
  requestBody: null,
  statusCode: 200,
  contentType: '',
  ...over,
});
const request = (f: Fixture) =>
  req({ method: f.method, endpoint: f.path, stream: f.stream, contentType: f.contentType });
const make = (r: ExtractRequest) => new AnthropicExtractor(r);
const read = (f: string) => readFixture(__dirname, f);
const extract = (r: ExtractRequest, ...chunks: Buffer[]) => run(make, r, ...chunks);
const tokens = (t: Partial<TokenCounts>): TokenCounts => ({ ...zeroTokens(), ...t });

describe('Anthropic extractor', () => {
  it.each(fixtures.map((f) => [f.file, f] as const))('golden %s', (_n, f) => {
    expect(goShape(extract(request(f), read(f.file)))).toEqual(golden(__dirname, f.file));
  });

  // The numbers the goldens hold, asserted independently.
  it.each([
    [
      'messages_plain.json',
      true,
      { prompt_tokens: 14, completion_tokens: 10, total_tokens: 24 },
      0,
      'standard',
    ],
    // input_tokens excludes cache: 3 + 9511 read + 1956 written.
    [
      'messages_cache_read.json',
      true,
      {
        prompt_tokens: 11470,
        completion_tokens: 44,
        total_tokens: 11514,
        cache_read_tokens: 9511,
        cache_write_tokens: 1956,
        cache_write_5m_tokens: 1956,
      },
      0,
      'standard',
    ],
    [
      'messages_cache_write_5m_1h.json',
      true,
      {
        prompt_tokens: 6021,
        completion_tokens: 7,
        total_tokens: 6028,
        cache_write_tokens: 6000,
        cache_write_5m_tokens: 2000,
        cache_write_1h_tokens: 4000,
      },
      0,
      'priority',
    ],
    // No TTL split: the writes count as 5-minute writes.
    [
      'messages_cache_write_nosplit.json',
      true,
      {
        prompt_tokens: 1505,
        completion_tokens: 3,
        total_tokens: 1508,
        cache_write_tokens: 1500,
        cache_write_5m_tokens: 1500,
      },
      0,
      '',
    ],
    [
      'messages_thinking.json',
      true,
      { prompt_tokens: 46, completion_tokens: 122, total_tokens: 168, reasoning_tokens: 95 },
      0,
      'standard',
    ],
    [
      'messages_web_search.json',
      true,
      { prompt_tokens: 7514, completion_tokens: 187, total_tokens: 7701 },
      2,
      'standard',
    ],
    ['error_overloaded.json', false, {}, 0, ''],
    ['count_tokens.json', false, {}, 0, ''],
    [
      'stream_plain.sse',
      true,
      {
        prompt_tokens: 11470,
        completion_tokens: 44,
        total_tokens: 11514,
        cache_read_tokens: 9511,
        cache_write_tokens: 1956,
        cache_write_5m_tokens: 1956,
      },
      0,
      'standard',
    ],
    // PostHog 7.75.4: two cumulative message_deltas must not be summed: the latest wins.
    [
      'stream_server_tools.sse',
      true,
      { prompt_tokens: 10682, completion_tokens: 510, total_tokens: 11192 },
      1,
      'standard',
    ],
    [
      'stream_thinking.sse',
      true,
      { prompt_tokens: 85, completion_tokens: 231, total_tokens: 316, reasoning_tokens: 190 },
      0,
      'standard',
    ],
    // Error before any message_delta: input side known, output provisional.
    [
      'stream_error.sse',
      true,
      { prompt_tokens: 5200, completion_tokens: 1, total_tokens: 5201, cache_read_tokens: 4000 },
      0,
      'standard',
    ],
    [
      'stream_error_after_delta.sse',
      true,
      { prompt_tokens: 900, completion_tokens: 57, total_tokens: 957 },
      1,
      'standard',
    ],
    [
      'stream_cut.sse',
      true,
      {
        prompt_tokens: 812,
        completion_tokens: 1,
        total_tokens: 813,
        cache_write_tokens: 300,
        cache_write_1h_tokens: 300,
      },
      0,
      'standard',
    ],
    // Bifrost #3451: cache creation in both message_start and message_delta is counted once.
    [
      'stream_cache_both.sse',
      true,
      {
        prompt_tokens: 24010,
        completion_tokens: 350,
        total_tokens: 24360,
        cache_write_tokens: 24000,
        cache_write_5m_tokens: 24000,
      },
      0,
      'standard',
    ],
    ['complete_legacy_stream.sse', false, {}, 0, ''],
  ] as [string, boolean, Partial<TokenCounts>, number, string][])(
    'normalisation %s',
    (file, found, tok, web, tier) => {
      const f = fixtures.find((x) => x.file === file)!;
      const r = extract(request(f), read(file));
      expect([r.found, r.tokens, r.webSearchRequests, r.serviceTier]).toEqual([
        found,
        tokens(tok),
        web,
        tier,
      ]);
    },
  );

  it('a relay zero-filling message_delta input fields does not erase message_start', () => {
    const stream =
      'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":120,"cache_read_input_tokens":900,"output_tokens":1}}}\n\n' +
      'event: message_delta\ndata: {"type":"message_delta","usage":{"input_tokens":0,"cache_read_input_tokens":0,"output_tokens":77}}\n\n';
    expect(extract(req({}), Buffer.from(stream)).tokens).toEqual(
      tokens({ prompt_tokens: 1020, completion_tokens: 77, total_tokens: 1097, cache_read_tokens: 900 }),
    );
  });

  it('report details', () => {
    const r = extract(request(fixtures[0]), read('messages_plain.json'));
    expect([r.responseModel, r.generationId, r.endpointClass]).toEqual([
      'claude-sonnet-4-5-20250929',
      'msg_01Aq9w938a90dw8q',
      'messages',
    ]);
    expect([r.outputChars, r.outputTokensEstimate]).toEqual([31, 8]);
    expect(r.raw).toContain('"inference_geo":"not_available"');
    const s = extract(req({ contentType: SSE_CT }), read('stream_server_tools.sse'));
    const raw = JSON.parse(s.raw!) as { message_start: unknown; message_delta: unknown };
    expect(JSON.stringify(raw.message_start)).toContain('"input_tokens":2679');
    expect(JSON.stringify(raw.message_delta)).toContain('"output_tokens":510');
    // Tool input JSON and text deltas are output that was streamed.
    expect(s.outputChars).toBe(
      '{"query": "claude shannon birth date"}'.length +
        'Claude Shannon was born on April 30, 1916, in Petoskey, Michigan.'.length,
    );
    const c = extract(
      req({ endpoint: '/v1/messages/count_tokens', contentType: JSON_CT }),
      read('count_tokens.json'),
    );
    expect([c.notBilled, c.endpointClass, c.raw]).toEqual([true, 'count_tokens', '{"input_tokens":2095}']);
    const cut = extract(req({}), read('stream_cut.sse'));
    // The partial last event does not count.
    expect(cut.outputChars).toBe('Once upon a time, in a land far away, there lived a'.length);
  });

  it.each([
    ['POST', '/v1/messages', 'messages', false],
    ['POST', '/v1/messages/', 'messages', false],
    ['POST', '/v1/messages/count_tokens', 'count_tokens', true],
    ['POST', '/v1/messages/batches', 'batch', true],
    ['GET', '/v1/messages/batches/msgbatch_01/results', 'batch', true],
    ['POST', '/v1/messages/batches/msgbatch_01/cancel', 'batch', true],
    ['GET', '/v1/models', 'models', true],
    ['GET', '/v1/models/claude-sonnet-4-5', 'models', true],
    ['POST', '/v1/complete', 'completions', false],
    ['POST', '/v1/chat/completions', 'other', false],
    ['POST', '/v1/files', 'other', false],
    ['GET', '/v1/files/file_011/content', 'other', true],
    ['POST', '/v1/messagesX', 'other', false],
  ])('endpoint %s %s', (method, path, cls, notBilled) => {
    const r = extract(
      req({ method, endpoint: path }),
      Buffer.from('{"usage":{"input_tokens":5,"output_tokens":5}}'),
    );
    expect([r.endpointClass, r.notBilled, r.found]).toEqual([cls, notBilled, cls === 'messages']);
  });

  it.each(fixtures.map((f) => [f.file, f] as const))('chunking invariance %s', (_n, f) => {
    const body = read(f.file);
    const report = (...chunks: Buffer[]) => compact(extract(request(f), ...chunks));
    const want = report(body);
    expect(everySplit(body, 1, want, report)).toBeNull();
    expect(feedChunked(body, 20, want, report)).toBeNull();
  });

  it.each(['messages_cache_read.json', 'stream_plain.sse'])(
    'without a Content-Type the first byte decides (%s)',
    (f) => {
      const withCt = extract(req({ contentType: f.endsWith('.sse') ? SSE_CT : JSON_CT }), read(f));
      const without = extract(req({}), Buffer.from('\r\n'), read(f));
      expect(without).toEqual(withCt);
    },
  );

  it('gives up a body over the cap', () => {
    const body = read('messages_plain.json');
    const r = extract(
      req({ contentType: JSON_CT }),
      body.subarray(0, body.length - 2),
      Buffer.alloc(8 << 20, 0x20),
      body.subarray(body.length - 2),
    );
    expect([r.found, r.tokens]).toEqual([false, zeroTokens()]);
  });

  it('hands the text to the Counter, in batches cut at whitespace', () => {
    const counter = { count: (s: string) => s.split(/\s+/).filter(Boolean).length };
    const r0 = extract(req({ contentType: SSE_CT, counter }), read('stream_thinking.sse'));
    const text =
      'Let me solve this step by step:\n\n1. First break down 27 * 453' +
      '\n2. 453 = 400 + 50 + 3' +
      '27 * 453 = 12,231';
    expect(r0.outputTokensEstimate).toBe(text.split(/\s+/).filter(Boolean).length);
    let s =
      'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":1,"output_tokens":1}}}\n\n';
    for (let i = 0; i < 3000; i++) {
      s +=
        'data: {"type":"content_block_delta","delta":{"type":"text_delta","text":"lorem ipsum dolor "}}\n\n';
    }
    expect(extract(req({ contentType: SSE_CT, counter }), Buffer.from(s)).outputTokensEstimate).toBe(9000);
  });
});
