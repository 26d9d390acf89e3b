import { CHUNK, charsToTokens, counterFor, counterForEncoding, encodingFor, splitPoint } from './encoding';
import { MAX_DEPTH, jsonDepth, promptTokens } from './prompt';

describe('encodingFor', () => {
  it.each([
    ['openai', 'gpt-4o', 'o200k_base'],
    ['openai', 'gpt-4o-mini-2024-07-18', 'o200k_base'],
    ['openai', 'chatgpt-4o-latest', 'o200k_base'],
    ['openai', 'gpt-4.1-nano', 'o200k_base'],
    ['openai', 'gpt-4.5-preview', 'o200k_base'],
    ['openai', 'gpt-5', 'o200k_base'],
    ['openai', 'gpt-5.1-codex', 'o200k_base'],
    ['openai', 'GPT-5-Mini', 'o200k_base'],
    ['openai', 'o1', 'o200k_base'],
    ['openai', 'o3-mini', 'o200k_base'],
    ['openai', 'o4-mini-deep-research', 'o200k_base'],
    ['openai', 'gpt-image-1', 'o200k_base'],
    ['openai', 'ft:gpt-4o-mini-2024-07-18:acme::abc123', 'o200k_base'],
    ['openai', 'gpt-4', 'cl100k_base'],
    ['openai', 'gpt-4-turbo', 'cl100k_base'],
    ['openai', 'gpt-4-0613', 'cl100k_base'],
    ['openai', 'gpt-3.5-turbo', 'cl100k_base'],
    ['openai', 'text-embedding-3-small', 'cl100k_base'],
    ['openai', 'text-embedding-ada-002', 'cl100k_base'],
    ['openai', 'ft:gpt-3.5-turbo-0125:acme::x', 'cl100k_base'],
    ['azure', 'gpt-35-turbo', 'cl100k_base'],
    ['azure-east', 'my-deployment', 'o200k_base'],
    ['openai', '', 'o200k_base'],
    ['openai', 'some-future-model', 'o200k_base'],
    ['openrouter', 'openai/gpt-4o', 'o200k_base'],
    ['openrouter', 'openai/gpt-4o:online', 'o200k_base'],
    ['openrouter', 'openai/gpt-4', 'cl100k_base'],
    ['groq', 'openai/gpt-oss-120b', 'o200k_base'],
    ['fireworks', 'accounts/fireworks/models/gpt-oss-20b', 'o200k_base'],
    ['openrouter', 'anthropic/claude-sonnet-4.5', 'chars/4'],
    ['anthropic', 'claude-opus-4-1', 'chars/4'],
    ['google', 'gemini-2.5-pro', 'chars/4'],
    ['mistral', 'mistral-large-latest', 'chars/4'],
    ['deepseek', 'deepseek-chat', 'chars/4'],
    ['groq', 'llama-3.3-70b-versatile', 'chars/4'],
    // Prefix boundaries: these are not OpenAI families.
    ['openrouter', 'o1x', 'chars/4'],
    ['openrouter', 'o3de-model', 'chars/4'],
    ['ollama', 'gpt-4all', 'chars/4'],
  ])('%s %s → %s', (provider, model, want) => {
    expect(encodingFor(provider, model)).toBe(want);
    expect(counterFor(provider, model).encoding).toBe(want);
  });
});

describe('counters', () => {
  // Expected counts match OpenAI's tiktoken (via the reference's tokenizer tests).
  it.each([
    ['', 0, 0],
    ['hello world', 2, 2],
    ['hello  world', 3, 3],
    ['hello   world', 3, 3],
    ["'RE", 2, 1],
    ['supercalifragilistic', 6, 7],
    ['We know what we are, but know not what we may be.', 14, 14],
  ])('BPE %j', (text, o200k, cl100k) => {
    expect(counterFor('openai', 'gpt-4o').count(text)).toBe(o200k);
    expect(counterFor('openai', 'gpt-4').count(text)).toBe(cl100k);
  });

  it.each([
    ['', 0],
    ['a', 1],
    ['abcd', 1],
    ['abcde', 2],
    ['abcdefgh', 2],
    ['日本語', 1], // 3 characters, 9 bytes: bytes/4 would say 3
    ['日本語テキスト', 2],
    ['🙂🙂🙂🙂🙂', 2], // 5 characters, 20 bytes
    ['h\ufffdllo', 2], // an invalid byte (decoded as U+FFFD) counts as one character
    ['é'.repeat(400), 100],
  ])('chars/4 %j', (text, want) => {
    expect(counterFor('anthropic', 'claude-sonnet-4-5').count(text)).toBe(want);
  });

  it('special-token text counts as text instead of failing', () => {
    expect(counterFor('openai', 'gpt-4o').count('a <|endoftext|> b')).toBeGreaterThan(3);
  });

  it('counts long text without spaces in pieces (one 144 KB pre-token would be quadratic)', () => {
    expect(counterFor('openai', 'gpt-4o').count('日本語のテキスト'.repeat(6000))).toBe(36000);
  });

  it('counts long text in chunks cut between words, matching the whole-text count', () => {
    const text = 'We know what we are, but know not what we may be. Supercalifragilistic\n'.repeat(2000);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const o = require('gpt-tokenizer/encoding/o200k_base') as { countTokens: (t: string) => number };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const c = require('gpt-tokenizer/encoding/cl100k_base') as { countTokens: (t: string) => number };
    expect(counterForEncoding('o200k_base').count(text)).toBe(o.countTokens(text));
    expect(counterForEncoding('cl100k_base').count(text)).toBe(c.countTokens(text));
  });

  it('text without spaces drifts by at most a token or two per chunk', () => {
    const text = '日本語のテキスト'.repeat(1500);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const o = require('gpt-tokenizer/encoding/o200k_base') as { countTokens: (t: string) => number };
    const want = o.countTokens(text);
    const got = counterFor('openai', 'gpt-4o').count(text);
    const chunks = Math.floor(text.length / CHUNK) + 1;
    expect(got - want).toBeGreaterThanOrEqual(-chunks);
    expect(got - want).toBeLessThanOrEqual(2 * chunks);
  });

  it.each([
    ['short', 10, 5],
    ['aaaa bbbb cccc', 12, 9], // the space before "cccc"
    ['aaaaaaaaaaaaaa', 8, 8], // no space: cut at max
    ['a\ud83d\ude00b', 2, 1], // never between the halves of a surrogate pair
    ['a, b, c, d, e, f', 10, 10], // no letter-space-letter
  ])('splitPoint(%j, %d) = %d', (text, max, want) => {
    expect(splitPoint(text, max)).toBe(want);
  });

  it('loads no vocabulary until a BPE count needs one', () => {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const fresh = require('./encoding') as typeof import('./encoding');
      const o = fresh.counterFor('openai', 'gpt-4o');
      expect(fresh.counterFor('openai', 'gpt-4').encoding).toBe('cl100k_base');
      fresh.counterFor('anthropic', 'claude').count('no BPE here');
      expect(fresh.vocabulariesLoaded()).toBe(0);
      expect(o.count('hello world')).toBe(2);
      expect(fresh.vocabulariesLoaded()).toBe(1);
    });
  });
});

describe('promptTokens', () => {
  const tools = '[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]';
  // Worked out by hand: with chars/4 the text characters are summed and rounded up once; framing is 3 per
  // message plus its role's tokens ("user" 1, "assistant" 3, "system" 2, "model" 2), 1 per name, 3 reply primer.
  it.each([
    [
      'openai chat strings',
      'mistral',
      'mistral-large-latest',
      '{"model":"mistral-large-latest","messages":[{"role":"system","content":"abcd"},{"role":"user","content":"efghijkl"}]}',
      15,
      12,
    ],
    [
      'openai chat parts skip images',
      'mistral',
      'pixtral',
      `{"messages":[{"role":"user","content":[{"type":"text","text":"abcd"},{"type":"image_url","image_url":{"url":"data:image/png;base64,${'QUFB'.repeat(1000)}"}},{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}`,
      8,
      4,
    ],
    [
      'openai chat name and tool calls',
      'deepseek',
      'deepseek-chat',
      '{"messages":[{"role":"user","name":"bo","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get","arguments":"{\\"a\\":1}"}}]},{"role":"tool","tool_call_id":"call_1","content":"ok"}]}',
      22,
      16,
    ],
    [
      'openai chat tools counted as JSON',
      'groq',
      'llama-3.3-70b-versatile',
      `{"messages":[{"role":"user","content":"abcd"}],"tools":${tools}}`,
      Math.ceil((4 + tools.length) / 4) + 7,
      4 + tools.length,
    ],
    ['legacy prompt string', 'fireworks', 'llama-v3p1-8b', '{"prompt":"abcdefgh","max_tokens":5}', 2, 8],
    [
      'legacy prompt token ids are exact',
      'openai',
      'gpt-3.5-turbo-instruct',
      '{"prompt":[[1,2,3],[4,5]]}',
      5,
      0,
    ],
    ['embeddings strings', 'mistral', 'mistral-embed', '{"input":["abcd","efgh","i"]}', 3, 9],
    ['embeddings token ids', 'openai', 'text-embedding-3-small', '{"input":[15339,1917]}', 2, 0],
    [
      'responses items',
      'xai',
      'grok-4',
      '{"instructions":"abcd","input":[{"role":"user","content":[{"type":"input_text","text":"efgh"},{"type":"input_image","image_url":"https://example.com/x.png"}]},{"type":"function_call","call_id":"c","name":"fn","arguments":"{}"},{"type":"function_call_output","call_id":"c","output":"ijkl"}]}',
      17,
      16,
    ],
    ['responses string input', 'xai', 'grok-4', '{"input":"abcdefgh"}', 2, 8],
    [
      'anthropic messages',
      'anthropic',
      'claude-sonnet-4-5',
      '{"system":[{"type":"text","text":"abcd","cache_control":{"type":"ephemeral"}}],"messages":[' +
        '{"role":"user","content":[{"type":"text","text":"efgh"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]},' +
        '{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{"q":1}}]},' +
        '{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"ok"}]}]}',
      22,
      18,
    ],
    [
      'anthropic string system',
      'anthropic',
      'claude-haiku-4-5',
      '{"system":"abcdefgh","messages":[{"role":"user","content":"ijkl"}]}',
      10,
      12,
    ],
    [
      'gemini contents',
      'google',
      'gemini-2.5-flash',
      '{"systemInstruction":{"parts":[{"text":"abcd"}]},"contents":[' +
        '{"role":"user","parts":[{"text":"efgh"},{"inlineData":{"mimeType":"image/png","data":"AAAA"}}]},' +
        '{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]}]}',
      20,
      30,
    ],
    [
      'gemini snake case system instruction',
      'google',
      'gemini-2.5-flash',
      '{"system_instruction":{"parts":[{"text":"abcdefgh"}]},"contents":[{"parts":[{"text":"ijkl"}]}]}',
      9,
      12,
    ],
    [
      'multibyte counts characters',
      'anthropic',
      'claude-sonnet-4-5',
      '{"messages":[{"role":"user","content":"日本語テキスト"}]}',
      9,
      7,
    ],
    [
      'json escapes are decoded',
      'anthropic',
      'claude-sonnet-4-5',
      '{"messages":[{"role":"user","content":"\\u65e5\\u672c\\n\\"x\\""}]}',
      9,
      6,
    ],
    [
      'bpe chat gpt-4o',
      'openai',
      'gpt-4o',
      '{"model":"gpt-4o","messages":[{"role":"user","content":"hello world"}]}',
      9,
      11,
    ],
    [
      'bpe chat parts gpt-4',
      'openai',
      'gpt-4',
      '{"messages":[{"role":"user","content":[{"type":"text","text":"supercalifragilistic"}]}]}',
      14,
      20,
    ],
    [
      'bpe sums per text',
      'openrouter',
      'openai/gpt-4o',
      '{"prompt":["hello world","supercalifragilistic"]}',
      8,
      31,
    ],
    [
      'bpe embeddings',
      'openai',
      'text-embedding-3-small',
      '{"input":"We know what we are, but know not what we may be."}',
      14,
      49,
    ],
    ['empty body', 'openai', 'gpt-4o', '', 0, 0],
    ['invalid json', 'openai', 'gpt-4o', '{"messages":[', 0, 0],
    ['not an object', 'openai', 'gpt-4o', '"hello"', 0, 0],
    ['no text fields', 'openai', 'gpt-4o', '{"model":"gpt-4o","n":2}', 0, 0],
    ['nulls', 'openai', 'gpt-4o', '{"messages":null,"input":null,"tools":null,"system":null}', 0, 0],
  ])('%s', (_name, provider, model, body, tokens, chars) => {
    expect(promptTokens(provider, model, body)).toEqual({ tokens, chars });
  });

  it('a body deeper than the limit is estimated from its whole size, quickly', () => {
    const wrap = (depth: number) =>
      '{"messages":[{"role":"user","content":' +
      '[{"content":'.repeat(depth) +
      '"abcd"' +
      '}]'.repeat(depth) +
      '}]}';
    expect(promptTokens('anthropic', 'claude', wrap(MAX_DEPTH / 2 - 2))).toEqual({ tokens: 8, chars: 4 });
    const body = wrap(4990);
    expect(promptTokens('anthropic', 'claude', body)).toEqual({
      tokens: charsToTokens(body.length),
      chars: body.length,
    });
    // Brackets inside strings are not nesting.
    expect(jsonDepth('{"a":"[[[[\\"[[["}')).toBe(1);
  });

  it('never goes negative nor counts more characters than the body has (fuzz)', () => {
    const seeds = [
      '{"messages":[{"role":"user","content":"hello world"}]}',
      '{"messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"tool_result","content":[{"type":"text","text":"x"}]}]}]}',
      '{"input":[[1,2],[3]],"prompt":["a",[4]]}',
      '{"contents":[{"parts":[{"text":"a"}]}],"systemInstruction":{"parts":[{"text":"b"}]}}',
      '{"input":[{"role":"user","content":"x"},{"type":"function_call_output","output":[{"type":"input_text","text":"y"}]}]}',
      '[[[[',
    ];
    let x = 7;
    for (const s of seeds) {
      for (let k = 0; k < 40; k++) {
        x = (x * 1103515245 + 12345) & 0x7fffffff;
        const cut = s.slice(0, x % (s.length + 1)) + s.slice((x >> 8) % (s.length + 1));
        for (const model of ['gpt-4o', 'claude-sonnet-4-5']) {
          const r = promptTokens('openrouter', model, cut);
          expect(r.tokens).toBeGreaterThanOrEqual(0);
          expect(r.chars).toBeLessThanOrEqual(cut.length);
        }
      }
    }
  });
});
