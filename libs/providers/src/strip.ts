// The client-bound side of usage injection: when the proxy injected include_usage although the client did not
// ask, remove what the option added, so the client sees the stream it would have seen without the proxy.
import { isValidJson, objectMembers, skipSpace } from './json-bytes';

/**
 * Cap on the bytes held for one event. A usage-only chunk is a few hundred bytes; an event past the cap cannot be
 * one, so it is forwarded as it arrives.
 */
export const MAX_HELD_EVENT = 1 << 20;

/** Providers that add `"usage":null` to every chunk only when include_usage is set (OpenAI's API reference). */
const NULL_USAGE_ONLY_WITH_OPTION = new Set(['openai']);

const LF = 0x0a;
const CR = 0x0d;

const enum CrState {
  None,
  /** CR ended a line inside an event: an LF joins the event as usual. */
  Keep,
  /** CR ended a forwarded event: forward an LF at once. */
  Forward,
  /** CR ended a dropped event: drop an LF. */
  Drop,
}

/**
 * Forwards SSE bytes unchanged except that it drops every event whose data is a `chat.completion.chunk` (or
 * `text_completion`) with `"choices": []` and a non-null usage. For OpenAI it also removes the top-level
 * `"usage":null` member the option adds to every other chunk. Each event is forwarded as soon as its blank line
 * arrives; only an incomplete trailing event is held (returned by `end`). LF, CRLF and CR line ends, comments
 * and `data: [DONE]` pass through. A chunk that carries both choices and usage is left as it is (removing the
 * member would mean re-serialising the provider's bytes).
 */
export class UsageChunkStripper {
  private held: Buffer[] = [];
  private heldLen = 0;
  private lineLen = 0;
  private cr = CrState.None;
  /** The current event outgrew MAX_HELD_EVENT and is forwarded as it arrives, until its blank line. */
  private passing = false;
  private readonly dropNull: boolean;

  /** `provider` selects the `"usage":null` removal (OpenAI only); '' for none. */
  constructor(provider = '') {
    this.dropNull = NULL_USAGE_ONLY_WITH_OPTION.has(provider);
  }

  /** Feed upstream bytes; returns the bytes to send to the client now (possibly empty). */
  write(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let evStart = 0; // start, in this chunk, of the current event's bytes not yet held or forwarded
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (this.cr !== CrState.None) {
        const st = this.cr;
        this.cr = CrState.None;
        if (c === LF) {
          if (st === CrState.Forward) {
            out.push(chunk.subarray(i, i + 1));
            evStart = i + 1;
          } else if (st === CrState.Drop) {
            evStart = i + 1;
          }
          continue;
        }
      }
      if (c !== CR && c !== LF) {
        this.lineLen++;
        continue;
      }
      const blank = this.lineLen === 0;
      this.lineLen = 0;
      let next = CrState.Keep;
      if (blank) {
        next = CrState.Forward;
        const tail = chunk.subarray(evStart, i + 1);
        evStart = i + 1;
        if (this.passing) {
          this.passing = false;
          out.push(tail);
        } else {
          const ev = this.takeHeld(tail);
          if (ev.length > MAX_HELD_EVENT) {
            out.push(ev);
          } else if (usageOnly(ev)) {
            next = CrState.Drop;
          } else {
            out.push(this.dropNull ? dropNullUsage(ev) : ev);
          }
        }
      }
      if (c === CR) this.cr = next;
    }
    if (evStart < chunk.length) {
      const rest = chunk.subarray(evStart);
      if (this.passing) {
        out.push(rest);
      } else {
        this.held.push(Buffer.from(rest)); // copy: the caller may reuse its chunk
        this.heldLen += rest.length;
        if (this.heldLen > MAX_HELD_EVENT) {
          out.push(this.takeHeld());
          this.passing = true;
        }
      }
    }
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  /** End of stream: an incomplete trailing event, forwarded as it is. */
  end(): Buffer {
    return this.takeHeld();
  }

  private takeHeld(tail?: Buffer): Buffer {
    if (tail) {
      this.held.push(tail);
      this.heldLen += tail.length;
    }
    const ev = this.held.length === 1 ? this.held[0] : Buffer.concat(this.held, this.heldLen);
    this.held = [];
    this.heldLen = 0;
    return ev;
  }
}

/** The event's data lines joined with "\n" (comments and other fields skipped). */
function eventData(ev: Buffer): Buffer {
  const parts: Buffer[] = [];
  let pos = 0;
  while (pos < ev.length) {
    let end = pos;
    while (end < ev.length && ev[end] !== CR && ev[end] !== LF) end++;
    const line = ev.subarray(pos, end);
    pos = end < ev.length && ev[end] === CR && ev[end + 1] === LF ? end + 2 : end + 1;
    if (line.length === 0 || line[0] === 0x3a) continue;
    const colon = line.indexOf(0x3a);
    const field = colon >= 0 ? line.subarray(0, colon) : line;
    if (field.toString('latin1') !== 'data') continue;
    let value = colon >= 0 ? line.subarray(colon + 1) : Buffer.alloc(0);
    if (value.length > 0 && value[0] === 0x20) value = value.subarray(1);
    if (parts.length > 0) parts.push(Buffer.from('\n'));
    parts.push(value);
  }
  return Buffer.concat(parts);
}

/**
 * Whether a complete event (blank line included) is a usage-only chunk: data that is a chat.completion.chunk or
 * text_completion (or has no object) with `"choices": []` and a usage object.
 */
export function usageOnly(ev: Buffer): boolean {
  if (!ev.includes('"usage"')) return false; // the usual chunk: no usage at all
  let chunk: unknown;
  try {
    chunk = JSON.parse(eventData(ev).toString('utf8'));
  } catch {
    return false;
  }
  if (typeof chunk !== 'object' || chunk === null || Array.isArray(chunk)) return false;
  const { object, choices, usage } = chunk as Record<string, unknown>;
  if (object !== undefined && object !== null) {
    if (typeof object !== 'string') return false;
    if (object !== 'chat.completion.chunk' && object !== 'text_completion') return false;
  }
  return (
    Array.isArray(choices) &&
    choices.length === 0 &&
    typeof usage === 'object' &&
    usage !== null &&
    !Array.isArray(usage)
  );
}

/**
 * The event without the top-level `"usage":null` member of its data JSON (single data line only), or the
 * event unchanged. The JSON must be valid and the member at depth 1, so text inside strings is never touched.
 */
export function dropNullUsage(ev: Buffer): Buffer {
  if (!ev.includes('"usage"')) return ev;
  const line = singleDataLine(ev);
  if (!line) return ev;
  const cut = nullUsageMember(ev.subarray(line.start, line.end));
  if (!cut) return ev;
  return Buffer.concat([ev.subarray(0, line.start + cut.from), ev.subarray(line.start + cut.to)]);
}

function singleDataLine(ev: Buffer): { start: number; end: number } | null {
  let found: { start: number; end: number } | null = null;
  let pos = 0;
  while (pos < ev.length) {
    let lineEnd = pos;
    while (lineEnd < ev.length && ev[lineEnd] !== CR && ev[lineEnd] !== LF) lineEnd++;
    if (ev.toString('latin1', pos, Math.min(pos + 5, lineEnd)) === 'data:') {
      if (found) return null;
      let start = pos + 5;
      if (start < lineEnd && ev[start] === 0x20) start++;
      found = { start, end: lineEnd };
    }
    pos = lineEnd + 1;
  }
  return found;
}

const COMPACT_TAIL = Buffer.from(',"usage":null}');

/** The byte range of `"usage":null` at depth 1 with the comma that separates it from a neighbour. */
function nullUsageMember(data: Buffer): { from: number; to: number } | null {
  if (!isValidJson(data)) return null;
  // Fast path: OpenAI writes compact JSON with usage last.
  let n = data.length;
  while (n > 0 && (data[n - 1] === 0x20 || data[n - 1] === 0x09)) n--;
  if (n >= COMPACT_TAIL.length && data.subarray(n - COMPACT_TAIL.length, n).equals(COMPACT_TAIL)) {
    return { from: n - COMPACT_TAIL.length, to: n - 1 };
  }
  const start = skipSpace(data, 0);
  if (data[start] !== 0x7b) return null;
  const members = objectMembers(data, start);
  for (let k = 0; k < members.length; k++) {
    const m = members[k];
    if (m.key !== 'usage' || data.toString('latin1', m.valStart, m.valEnd) !== 'null') continue;
    if (k > 0) return { from: members[k - 1].valEnd, to: m.valEnd }; // the previous comma goes too
    const next = skipSpace(data, m.valEnd);
    if (next < data.length && data[next] === 0x2c) return { from: m.keyStart, to: skipSpace(data, next + 1) };
    return { from: m.keyStart, to: m.valEnd };
  }
  return null;
}
