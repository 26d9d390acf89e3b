// Stream end markers, per dialect, for the outcome rule: a client that leaves after the stream's end marker
// while the provider still holds the body open got the whole response (completed, not cancelled).
import { SseEvent, SseScanner } from '@spendops/sse';

/** End markers are small events; bigger ones are never parsed. */
const MAX_MARKER_EVENT = 1 << 20;
const RESPONSES_FINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/**
 * Whether one SSE event ends a stream: `data: [DONE]` (OpenAI chat and compatible endpoints, which Anthropic and
 * Gemini also serve), Anthropic's `message_stop`, a Responses API final event, or a Gemini candidate with a
 * finishReason. Every marker is checked whatever the provider's dialect, because a provider may serve several
 * wire formats (Gemini's OpenAI-compatible endpoint).
 */
export function isEndMarker(ev: SseEvent): boolean {
  if (ev.oversized) return false;
  const data = ev.data.trim();
  if (data === '[DONE]') return true;
  if (!data.startsWith('{')) return false;
  if (ev.event === 'message_stop') return true;
  if (data.includes('finishReason') && geminiFinished(data)) return true;
  return (ev.event.startsWith('response.') || data.includes('response.')) && responsesFinal(data, ev.event);
}

function parseObject(data: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(data);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A Responses API final event (`response.completed` / `.incomplete` / `.failed`, type or event name). */
function responsesFinal(data: string, eventName: string): boolean {
  const obj = parseObject(data);
  if (!obj) return false;
  const type = typeof obj.type === 'string' && obj.type !== '' ? obj.type : eventName;
  return RESPONSES_FINAL.has(type) && typeof obj.response === 'object' && obj.response !== null;
}

/** A Gemini chunk with a candidate carrying a finishReason: the provider's last chunk. */
function geminiFinished(data: string): boolean {
  const obj = parseObject(data);
  if (!obj || !Array.isArray(obj.candidates)) return false;
  return obj.candidates.some(
    (c: unknown) =>
      typeof c === 'object' &&
      c !== null &&
      typeof (c as Record<string, unknown>).finishReason === 'string' &&
      (c as Record<string, unknown>).finishReason !== '',
  );
}

/** Watches an (identity-encoded) SSE response for its end marker. */
export class StreamEndDetector {
  private readonly scanner = new SseScanner({ maxEventBytes: MAX_MARKER_EVENT });
  private seen = false;

  get complete(): boolean {
    return this.seen;
  }

  push(chunk: Buffer): void {
    if (this.seen) return;
    for (const ev of this.scanner.push(chunk)) {
      if (isEndMarker(ev)) {
        this.seen = true;
        return;
      }
    }
  }
}
