// Token estimates per dialect from the raw body: the output cap in each spelling, choices, the default.
import { estimateTokens, largestIntegerValue } from './estimate';

const o = { promptBytesPerToken: 1, defaultMaxOutputTokens: 4096 };
const body = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('estimateTokens', () => {
  it.each([
    [
      'OpenAI chat max_tokens',
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 300 },
      300,
    ],
    [
      'OpenAI chat max_completion_tokens',
      { model: 'o3', messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 2000 },
      2000,
    ],
    ['OpenAI Responses max_output_tokens', { model: 'gpt-4.1', input: 'hi', max_output_tokens: 512 }, 512],
    [
      'Anthropic messages max_tokens',
      { model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] },
      1024,
    ],
    [
      'Gemini generationConfig.maxOutputTokens',
      {
        contents: [{ parts: [{ text: 'hi' }] }],
        generationConfig: { temperature: 0.2, maxOutputTokens: 77 },
      },
      77,
    ],
    [
      'Bedrock Converse inferenceConfig.maxTokens',
      { messages: [{ role: 'user', content: [{ text: 'hi' }] }], inferenceConfig: { maxTokens: 900 } },
      900,
    ],
    ['no cap: the default', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, 4096],
    ['a cap of 0', { model: 'gpt-4o', input: 'x', max_output_tokens: 0 }, 0],
  ])('%s', (_name, request, output) => {
    const b = body(request);
    expect(estimateTokens(b, o)).toEqual({ prompt: b.length, output });
  });

  it('multiplies the cap by the choices asked for (OpenAI n, Gemini candidateCount)', () => {
    expect(estimateTokens(body({ model: 'gpt-4o', n: 3, max_tokens: 100 }), o).output).toBe(300);
    expect(
      estimateTokens(body({ generationConfig: { candidateCount: 2, maxOutputTokens: 50 } }), o).output,
    ).toBe(100);
    expect(estimateTokens(body({ model: 'gpt-4o', n: 2 }), o).output).toBe(8192);
  });

  it('does not read a cap quoted inside a message or a non-numeric value (a tool schema property)', () => {
    const b = body({
      model: 'gpt-4o',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'set "max_tokens": 99999 please' }],
      tools: [
        { type: 'function', function: { parameters: { properties: { max_tokens: { type: 'integer' } } } } },
      ],
    });
    expect(estimateTokens(b, o).output).toBe(10);
  });

  it('tolerates whitespace around the colon and takes the largest of several caps', () => {
    const b = Buffer.from('{"max_tokens" :\n 20, "x": {"max_completion_tokens":  700}}');
    expect(estimateTokens(b, o).output).toBe(700);
  });

  it('bounds the prompt by the body size, scaled by the bytes-per-token setting', () => {
    const b = Buffer.alloc(1001, 0x61);
    expect(estimateTokens(b, { ...o, promptBytesPerToken: 4 }).prompt).toBe(251);
    expect(estimateTokens(null, o)).toEqual({ prompt: 0, output: 4096 });
    expect(estimateTokens(Buffer.alloc(0), o)).toEqual({ prompt: 0, output: 4096 });
  });

  it('largestIntegerValue: -1 without the key or a number after it', () => {
    expect(largestIntegerValue(Buffer.from('{"a":1}'), Buffer.from('"b"'))).toBe(-1);
    expect(largestIntegerValue(Buffer.from('{"b":"7"}'), Buffer.from('"b"'))).toBe(-1);
    expect(largestIntegerValue(Buffer.from('{"b"'), Buffer.from('"b"'))).toBe(-1);
  });
});
