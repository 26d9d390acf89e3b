// Incremental Server-Sent Events parser with bounded memory (WHATWG event-stream grammar): lines end in CRLF,
// LF or CR (possibly split across chunks); `field: value` with one optional space after the colon; lines
// starting with `:` are comments; a blank line dispatches; several `data` lines join with "\n".

/** Default cap on one event's data, in bytes (4 MiB). */
export const DEFAULT_MAX_EVENT_BYTES = 4 << 20;

/** Slack kept on a single line beyond the data cap (room for the field name). */
const LINE_SLACK = 64;

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;

export interface SseEvent {
  /** The `event` field; '' when the event had none. */
  event: string;
  /** The `data` lines joined with "\n" (only the first `maxEventBytes` bytes when oversized). */
  data: string;
  /** The `id` field when the event carried one. */
  id?: string;
  /** The data exceeded the cap; `data` is incomplete and should not be parsed as JSON. */
  oversized?: boolean;
}

export interface SseScannerOptions {
  /** Cap on the bytes kept for one event's data; DEFAULT_MAX_EVENT_BYTES when absent or <= 0. */
  maxEventBytes?: number;
}

export class SseScanner {
  private readonly max: number;
  private line: Buffer[] = [];
  private lineLen = 0;
  private lineOver = false;
  private data: Buffer[] = [];
  private dataLen = 0;
  private hasData = false;
  private oversized = false;
  private name = '';
  private id: string | undefined;
  /** The previous chunk ended in CR: a leading LF of the next chunk completes a CRLF. */
  private lastCR = false;
  private out: SseEvent[] = [];

  constructor(options: SseScannerOptions = {}) {
    const max = options.maxEventBytes ?? 0;
    this.max = max > 0 ? max : DEFAULT_MAX_EVENT_BYTES;
  }

  /** Feed bytes as they arrive; returns the events completed by them. */
  push(chunk: Buffer): SseEvent[] {
    let p = chunk;
    if (p.length === 0) return [];
    if (this.lastCR && p[0] === LF) p = p.subarray(1);
    this.lastCR = false;
    while (p.length > 0) {
      let i = lineEnd(p);
      if (i < 0) {
        this.appendLine(p);
        break;
      }
      this.appendLine(p.subarray(0, i));
      if (p[i] === CR) {
        if (i + 1 < p.length) {
          if (p[i + 1] === LF) i++;
        } else {
          this.lastCR = true;
        }
      }
      p = p.subarray(i + 1);
      this.endLine();
    }
    return this.takeEvents();
  }

  /**
   * End of stream: dispatch a final event that was not followed by a blank line. Browsers drop such an event;
   * a cut stream's partial last event is reported so that callers may decide.
   */
  end(): SseEvent[] {
    if (this.lineLen > 0 || this.lineOver) this.endLine();
    this.dispatch();
    return this.takeEvents();
  }

  private takeEvents(): SseEvent[] {
    if (this.out.length === 0) return [];
    const events = this.out;
    this.out = [];
    return events;
  }

  private appendLine(b: Buffer): void {
    if (this.lineOver || b.length === 0) return;
    const limit = this.max + LINE_SLACK;
    if (this.lineLen + b.length > limit) {
      const room = limit - this.lineLen;
      // Copy: the caller's chunk may be reused once push returns.
      this.line.push(Buffer.from(b.subarray(0, room)));
      this.lineLen += room;
      this.lineOver = true;
      return;
    }
    this.line.push(Buffer.from(b));
    this.lineLen += b.length;
  }

  private endLine(): void {
    const line = this.line.length === 1 ? this.line[0] : Buffer.concat(this.line, this.lineLen);
    const over = this.lineOver;
    this.line = [];
    this.lineLen = 0;
    this.lineOver = false;
    if (line.length === 0 && !over) {
      this.dispatch();
      return;
    }
    if (line[0] === COLON) return;
    let field: Buffer = line;
    let value: Buffer = Buffer.alloc(0);
    const colon = line.indexOf(COLON);
    if (colon >= 0) {
      field = line.subarray(0, colon);
      value = line.subarray(colon + 1);
      if (value.length > 0 && value[0] === SPACE) value = value.subarray(1);
    }
    switch (field.toString('latin1')) {
      case 'data':
        this.appendData(value, over);
        break;
      case 'event':
        this.name = value.toString('utf8');
        break;
      case 'id':
        // WHATWG: an id containing NUL is ignored.
        if (!value.includes(0)) this.id = value.toString('utf8');
        break;
    }
  }

  private appendData(value: Buffer, lineOver: boolean): void {
    if (this.hasData) this.pushData(Buffer.from('\n'));
    this.hasData = true;
    if (lineOver) this.oversized = true;
    const room = this.max - this.dataLen;
    if (room < value.length) {
      if (room > 0) this.pushData(value.subarray(0, room));
      this.oversized = true;
    } else {
      this.pushData(value);
    }
  }

  private pushData(b: Buffer): void {
    if (this.dataLen >= this.max) return;
    const room = this.max - this.dataLen;
    const part = b.length > room ? b.subarray(0, room) : b;
    this.data.push(part);
    this.dataLen += part.length;
  }

  private dispatch(): void {
    if (this.hasData) {
      const event: SseEvent = {
        event: this.name,
        data: Buffer.concat(this.data, this.dataLen).toString('utf8'),
      };
      if (this.id !== undefined) event.id = this.id;
      if (this.oversized) event.oversized = true;
      this.out.push(event);
    }
    this.data = [];
    this.dataLen = 0;
    this.name = '';
    this.id = undefined;
    this.hasData = false;
    this.oversized = false;
  }
}

/** Index of the first CR or LF in `p`, or -1. */
function lineEnd(p: Buffer): number {
  const lf = p.indexOf(LF);
  const cr = p.indexOf(CR);
  if (cr < 0) return lf;
  if (lf < 0) return cr;
  return cr < lf ? cr : lf;
}
