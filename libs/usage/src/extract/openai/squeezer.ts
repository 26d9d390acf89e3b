// Keeps a bounded, still-valid copy of a JSON body as it streams in. Usage objects are small, but the bodies
// around them are not (base64 images, embedding vectors, long texts): insignificant whitespace and the
// numeric elements of arrays are dropped and every string is cut after maxString bytes (keeping the escape
// grammar intact). Whatever survives still parses, and the usage object survives whole. On the way, string
// values of output-text keys are measured in characters, and those kept whole are handed to `count`.

const TEXT_KEYS = new Set(['content', 'text', 'refusal', 'arguments', 'reasoning_content', 'reasoning']);

interface Frame {
  obj: boolean;
  /** Object: the next string is a key. */
  expectKey: boolean;
  /** Array: an element has been written. */
  wrote: boolean;
}

const isNumByte = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) ||
  (c >= 0x61 && c <= 0x7a) ||
  c === 0x2d ||
  c === 0x2b ||
  c === 0x2e ||
  c === 0x45;

export class Squeezer {
  private out: Buffer;
  private len = 0;
  /** The limit was reached: the copy is incomplete. */
  over = false;
  private stack: Frame[] = [];
  private inStr = false;
  private strIsKey = false;
  private strText = false;
  private strStart = 0;
  private strLen = 0;
  private strCut = false;
  private strChars = 0;
  private escLeft = 0;
  private afterBS = false;
  private key: number[] = [];
  private keyLong = false;
  private valKey = '';
  private inNum = false;
  private skipNum = false;
  /** Characters of output-text values, and of those too long to keep whole. */
  chars = 0;
  cutChars = 0;

  constructor(
    private readonly limit: number,
    private readonly maxString: number,
    private readonly count?: (text: string) => void,
  ) {
    // Under half of Buffer.poolSize: carved from the shared pool, not an allocation of its own per body.
    this.out = Buffer.allocUnsafe(Math.min(limit, 2048));
  }

  /** The squeezed copy so far. */
  bytes(): Buffer {
    return this.out.subarray(0, this.len);
  }

  private emit(c: number): void {
    if (this.over) return;
    if (this.len + 1 > this.limit) {
      this.over = true;
      return;
    }
    if (this.len === this.out.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.limit, this.out.length * 2));
      this.out.copy(grown, 0, 0, this.len);
      this.out = grown;
    }
    this.out[this.len++] = c;
  }

  private top(): Frame | undefined {
    return this.stack[this.stack.length - 1];
  }

  private beginValue(): void {
    this.valKey = '';
    const f = this.top();
    if (!f) return;
    if (f.obj) {
      if (!this.keyLong) this.valKey = Buffer.from(this.key).toString('latin1');
    } else {
      if (f.wrote) this.emit(0x2c);
      f.wrote = true;
    }
  }

  write(p: Buffer): void {
    for (let i = 0; i < p.length; i++) {
      if (this.over) return;
      const c = p[i];
      if (this.inStr) {
        if (!this.strIsKey && !this.afterBS && this.escLeft === 0 && c !== 0x22 && c !== 0x5c) {
          i = this.plainRun(p, i) - 1;
          continue;
        }
        this.strByte(c);
        continue;
      }
      if (this.inNum) {
        if (isNumByte(c)) {
          if (!this.skipNum) this.emit(c);
          continue;
        }
        this.inNum = false;
        this.skipNum = false;
      }
      switch (c) {
        case 0x20:
        case 0x09:
        case 0x0a:
        case 0x0d:
          break;
        case 0x22: {
          const f = this.top();
          this.strIsKey = f !== undefined && f.obj && f.expectKey;
          if (!this.strIsKey) this.beginValue();
          this.strText = !this.strIsKey && TEXT_KEYS.has(this.valKey);
          this.inStr = true;
          this.strLen = 0;
          this.strCut = false;
          this.strChars = 0;
          this.escLeft = 0;
          this.afterBS = false;
          this.strStart = this.len;
          if (this.strIsKey) {
            this.key = [];
            this.keyLong = false;
          }
          this.emit(c);
          break;
        }
        case 0x7b:
        case 0x5b:
          this.beginValue();
          this.stack.push({ obj: c === 0x7b, expectKey: c === 0x7b, wrote: false });
          this.emit(c);
          break;
        case 0x7d:
        case 0x5d:
          this.stack.pop();
          this.emit(c);
          break;
        case 0x3a:
          this.emit(c);
          break;
        case 0x2c: {
          const f = this.top();
          if (f?.obj) {
            f.expectKey = true;
            this.emit(c);
          }
          // In arrays the comma is written by the next kept element.
          break;
        }
        default: {
          const f = this.top();
          const elided = f !== undefined && !f.obj && (c === 0x2d || (c >= 0x30 && c <= 0x39));
          if (!elided) {
            this.beginValue();
            this.emit(c);
          }
          this.inNum = true;
          this.skipNum = elided;
        }
      }
    }
  }

  /**
   * A run of a value string's plain bytes (no quote, no backslash, not inside an escape) from `from`, taken at
   * once: what strByte does byte by byte (count characters, keep bytes up to the cut), without the per-byte
   * calls; long texts are most of a body. Returns where the run ends.
   */
  private plainRun(p: Buffer, from: number): number {
    let end = from;
    let chars = 0;
    for (; end < p.length; end++) {
      const b = p[end];
      if (b === 0x22 || b === 0x5c) break;
      if ((b & 0xc0) !== 0x80) chars++;
    }
    if (!this.strCut) {
      // Bytes within maxString are kept, then continuation bytes up to the next character start: the cut.
      let keep = from + Math.max(0, this.maxString - this.strLen);
      if (keep > end) keep = end;
      while (keep < end && (p[keep] & 0xc0) === 0x80) keep++;
      if (keep < end) this.strCut = true;
      this.emitRange(p, from, keep);
    }
    this.strChars += chars;
    this.strLen += end - from;
    return end;
  }

  /** emit() of each byte of p[from, to). */
  private emitRange(p: Buffer, from: number, to: number): void {
    if (this.over || from >= to) return;
    let n = to - from;
    if (this.len + n > this.limit) {
      n = this.limit - this.len;
      this.over = true;
    }
    if (this.len + n > this.out.length) {
      let size = this.out.length;
      while (this.len + n > size) size = Math.min(this.limit, size * 2);
      const grown = Buffer.allocUnsafe(size);
      this.out.copy(grown, 0, 0, this.len);
      this.out = grown;
    }
    p.copy(this.out, this.len, from, from + n);
    this.len += n;
  }

  private strByte(c: number): void {
    const wasEsc = this.afterBS || this.escLeft > 0;
    if (this.afterBS) {
      this.afterBS = false;
      if (c === 0x75) this.escLeft = 4;
    } else if (this.escLeft > 0) {
      this.escLeft--;
    } else if (c === 0x5c) {
      this.afterBS = true;
      this.strChars++;
    } else if (c === 0x22) {
      this.endString();
      return;
    } else if (c < 0x80 || c >= 0xc0) {
      this.strChars++;
    }
    this.strLen++;
    if (this.strIsKey) {
      if (this.key.length < 64) this.key.push(c);
      else this.keyLong = true;
    }
    if (this.strCut) return;
    // Cut only between whole characters and outside escapes, so the kept prefix stays a valid JSON string.
    if (this.strLen > this.maxString && !wasEsc && c !== 0x5c && (c < 0x80 || c >= 0xc0)) {
      this.strCut = true;
      return;
    }
    this.emit(c);
  }

  private endString(): void {
    this.inStr = false;
    this.emit(0x22);
    if (this.strIsKey) {
      const f = this.top();
      if (f) f.expectKey = false;
      return;
    }
    if (!this.strText) return;
    this.chars += this.strChars;
    if (this.strCut || this.over) {
      this.cutChars += this.strChars;
      return;
    }
    if (this.count) {
      try {
        const text: unknown = JSON.parse(this.out.toString('utf8', this.strStart, this.len));
        if (typeof text === 'string') this.count(text);
      } catch {
        // not a valid string: nothing to count
      }
    }
  }
}
