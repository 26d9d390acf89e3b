import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isEndMarker, StreamEndDetector } from './end-marker';

const complete = [
  'openai_chat_stream_usage.sse',
  'openai_chat_stream_nousage.sse',
  'openai_completions_stream.sse',
  'deepseek_stream.sse',
  'xai_stream.sse',
  'openai_responses_stream_completed.sse',
  'openai_responses_stream_failed.sse',
  'openai_responses_stream_incomplete.sse',
  'anthropic_stream_plain.sse',
  'gemini_stream.sse',
];
const incomplete = [
  'openai_chat_stream_cut.sse',
  'anthropic_stream_cut.sse',
  'anthropic_stream_error.sse',
  'anthropic_complete_legacy_stream.sse',
];

function detect(file: string, step: number): boolean {
  const input = readFileSync(join(__dirname, 'fixtures', file));
  const d = new StreamEndDetector();
  for (let i = 0; i < input.length; i += step) d.push(input.subarray(i, i + step));
  return d.complete;
}

describe('StreamEndDetector', () => {
  it.each(complete.map((file) => ({ file })))('$file ends with its marker', ({ file }) => {
    expect(detect(file, 1 << 20)).toBe(true);
    expect(detect(file, 7)).toBe(true);
  });
  it.each(incomplete.map((file) => ({ file })))('$file has no end marker', ({ file }) => {
    expect(detect(file, 1 << 20)).toBe(false);
    expect(detect(file, 5)).toBe(false);
  });

  it('is not complete before the marker arrives', () => {
    const d = new StreamEndDetector();
    d.push(Buffer.from('data: {"choices":[]}\n\ndata: [DO'));
    expect(d.complete).toBe(false);
    d.push(Buffer.from('NE]\n\n'));
    expect(d.complete).toBe(true);
  });

  it('recognises each marker and nothing like it', () => {
    expect(isEndMarker({ event: '', data: '[DONE]' })).toBe(true);
    expect(isEndMarker({ event: 'message_stop', data: '{"type":"message_stop"}' })).toBe(true);
    expect(isEndMarker({ event: 'message_delta', data: '{"type":"message_delta"}' })).toBe(false);
    expect(isEndMarker({ event: 'response.completed', data: '{"response":{}}' })).toBe(true);
    expect(isEndMarker({ event: '', data: '{"type":"response.failed","response":{"id":"r"}}' })).toBe(true);
    expect(isEndMarker({ event: '', data: '{"type":"response.created","response":{"id":"r"}}' })).toBe(false);
    expect(isEndMarker({ event: '', data: '{"candidates":[{"finishReason":"STOP"}]}' })).toBe(true);
    expect(
      isEndMarker({ event: '', data: '{"candidates":[{"content":{"parts":[{"text":"finishReason"}]}}]}' }),
    ).toBe(false);
    expect(isEndMarker({ event: '', data: '[DONE]', oversized: true })).toBe(false);
  });
});
