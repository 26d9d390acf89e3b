// Small pieces the native-dialect extractors (Anthropic, Gemini) share: deciding between a JSON body and an
// SSE stream, and holding a capped body.
export type WireMode = 'unknown' | 'json' | 'sse' | 'ignore';

/** Trusts an explicit Content-Type; otherwise ('unknown') the body's first byte decides. */
export function contentMode(ct: string): WireMode {
  const mt = ct.split(';')[0].trim().toLowerCase();
  if (mt === 'text/event-stream') return 'sse';
  if (mt === 'application/json' || mt.endsWith('+json')) return 'json';
  return 'unknown';
}

const isBlank = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;

/**
 * Decides the mode of a body without a usable Content-Type from its first non-blank byte: one of jsonOpeners
 * means JSON, anything else SSE. Returns the rest without leading blanks; 'unknown' while all blank.
 */
export function sniff(p: Buffer, jsonOpeners: string): [WireMode, Buffer] {
  let i = 0;
  while (i < p.length && isBlank(p[i])) i++;
  if (i === p.length) return ['unknown', Buffer.alloc(0)];
  const rest = p.subarray(i);
  return [jsonOpeners.includes(String.fromCharCode(rest[0])) ? 'json' : 'sse', rest];
}

/** Holds a body up to max bytes; a body over the cap is abandoned, never buffered further. */
export class CappedBody {
  private parts: Buffer[] = [];
  private size = 0;
  over = false;

  constructor(readonly max: number) {}

  write(p: Buffer): void {
    if (this.over) return;
    if (this.size + p.length > this.max) {
      this.parts = [];
      this.over = true;
      return;
    }
    this.parts.push(Buffer.from(p));
    this.size += p.length;
  }

  /** The body held so far ('' when over the cap). */
  text(): string {
    return this.over ? '' : Buffer.concat(this.parts, this.size).toString('utf8');
  }
}
