// A JSON scanner that walks text without building values: the policy only needs a few top-level keys, and a
// full JSON.parse of every request body would cost more than the rest of the proxy's work. It validates what it
// skips, so "parses as JSON" means what it says. Callers pass valid UTF-8 (bodies are checked once up front).
import { foldEqualsAscii } from './text';

/** Python's json (most provider front ends) fails near 1000 levels; deeper bodies are treated as invalid. */
const MAX_JSON_DEPTH = 1000;

/** A syntax error; policy errors (duplicates, non-strings) are other Error subclasses. */
export class JsonSyntaxError extends Error {
  constructor() {
    super('invalid JSON');
  }
}

const SYNTAX = new JsonSyntaxError();

/** A scanned string: its raw bytes are b[start, end) and `esc` says whether they hold escapes. */
export interface RawString {
  start: number;
  end: number;
  esc: boolean;
}

/** The open containers of the value being skipped ('{' or '['); skip never re-enters, so one array serves. */
const SKIP_STACK = new Uint8Array(MAX_JSON_DEPTH + 2);

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

export class JsonScanner {
  i = 0;
  constructor(readonly b: Uint8Array) {}

  ws(): void {
    const b = this.b;
    let i = this.i;
    while (i < b.length) {
      const c = b[i];
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      i++;
    }
    this.i = i;
  }

  /** The next non-whitespace byte, or 0 at the end. */
  peek(): number {
    this.ws();
    return this.i < this.b.length ? this.b[this.i] : 0;
  }

  /** Scans a string starting at its opening quote. */
  str(): RawString {
    const start = this.i + 1;
    const end = this.strEnd();
    return { start, end, esc: this.strEscaped };
  }

  /** Whether the string scanned last held escapes. */
  private strEscaped = false;

  /** Scans a string starting at its opening quote; returns the index of its closing quote (no allocation). */
  private strEnd(): number {
    const b = this.b;
    if (this.i >= b.length || b[this.i] !== 0x22) throw SYNTAX;
    const start = this.i + 1;
    let esc = false;
    // indexOf over the latin1 view finds the closing quote far faster than a JS loop; the next backslash and
    // the next control byte are searched once and remembered, so a body is searched for them about once.
    const text = this.latin1();
    let j = start;
    for (;;) {
      const q = text.indexOf('"', j);
      if (q < 0) throw SYNTAX;
      const bs = this.nextBackslash(text, j);
      const stop = bs < q ? bs : q;
      if (this.controlBefore(j, stop)) throw SYNTAX; // a raw control character inside the string
      if (stop === q) {
        this.i = q + 1;
        this.strEscaped = esc;
        return q;
      }
      esc = true;
      const n = b[bs + 1];
      if (
        n === 0x22 ||
        n === 0x5c ||
        n === 0x2f ||
        n === 0x62 ||
        n === 0x66 ||
        n === 0x6e ||
        n === 0x72 ||
        n === 0x74
      ) {
        j = bs + 2;
      } else if (n === 0x75) {
        if (
          bs + 6 > b.length ||
          !isHex(b[bs + 2]) ||
          !isHex(b[bs + 3]) ||
          !isHex(b[bs + 4]) ||
          !isHex(b[bs + 5])
        ) {
          throw SYNTAX;
        }
        j = bs + 6;
      } else {
        throw SYNTAX;
      }
    }
  }

  // The first backslash at or after `bsFrom` is at `bsAt` (text.length when none): valid for j in [bsFrom, bsAt].
  private bsFrom = 1;
  private bsAt = 0;
  // No control byte in [cleanFrom, cleanTo); when ctlAt >= 0 there is one at ctlAt (=== cleanTo).
  private cleanFrom = 0;
  private cleanTo = 0;
  private ctlAt = -1;
  private words: AlignedWords | null = null;

  private nextBackslash(text: string, j: number): number {
    if (j < this.bsFrom || j > this.bsAt) {
      const at = text.indexOf('\\', j);
      this.bsFrom = j;
      this.bsAt = at < 0 ? text.length : at;
    }
    return this.bsAt;
  }

  /** Whether a control byte lies in [j, stop). Reads only a little past `stop`, and each byte about once. */
  private controlBefore(j: number, stop: number): boolean {
    if (j < this.cleanFrom || j > this.cleanTo) {
      this.cleanFrom = this.cleanTo = j;
      this.ctlAt = -1;
    }
    if (stop <= this.cleanTo) return false;
    if (this.ctlAt < 0) {
      // Read ahead as far as already read clean (at least 64 bytes): neighbouring strings share one search,
      // and a whole body is searched in a few calls.
      const ahead = Math.max(64, this.cleanTo - this.cleanFrom);
      const limit = Math.min(this.b.length, Math.max(stop, this.cleanTo + ahead));
      this.words ??= alignedWords(this.b);
      const at = firstControlByte(this.b, this.cleanTo, limit, this.words);
      if (at < limit) this.ctlAt = at;
      this.cleanTo = at < limit ? at : limit;
    }
    return this.ctlAt >= 0 && this.ctlAt < stop;
  }

  private latin1View: string | null = null;
  private latin1(): string {
    if (this.latin1View === null) {
      const b = this.b;
      this.latin1View = Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
    }
    return this.latin1View;
  }

  /** Decodes a scanned string. Lone surrogates become U+FFFD, as in Go's encoding/json. */
  text(s: RawString): string {
    const b = this.b;
    if (!s.esc) {
      // Short ASCII (model names, keys): a slice of the latin1 view, without a Buffer and a decode.
      if (s.end - s.start <= 64 && this.latin1View !== null) {
        let ascii = true;
        for (let k = s.start; k < s.end; k++) if (b[k] >= 0x80) ascii = false;
        if (ascii) return this.latin1View.slice(s.start, s.end);
      }
      return Buffer.from(b.buffer, b.byteOffset + s.start, s.end - s.start).toString('utf8');
    }
    let out = '';
    let run = s.start;
    const flush = (to: number) => {
      if (to > run) out += Buffer.from(b.buffer, b.byteOffset + run, to - run).toString('utf8');
    };
    let i = s.start;
    while (i < s.end) {
      if (b[i] !== 0x5c) {
        i++;
        continue;
      }
      flush(i);
      const n = b[i + 1];
      if (n === 0x75) {
        let r = hex4(b, i + 2);
        i += 6;
        if (r >= 0xd800 && r <= 0xdfff) {
          if (r <= 0xdbff && i + 6 <= s.end && b[i] === 0x5c && b[i + 1] === 0x75) {
            const r2 = hex4(b, i + 2);
            if (r2 >= 0xdc00 && r2 <= 0xdfff) {
              out += String.fromCharCode(r, r2);
              i += 6;
              run = i;
              continue;
            }
          }
          r = 0xfffd;
        }
        out += String.fromCharCode(r);
      } else {
        out +=
          n === 0x62
            ? '\b'
            : n === 0x66
              ? '\f'
              : n === 0x6e
                ? '\n'
                : n === 0x72
                  ? '\r'
                  : n === 0x74
                    ? '\t'
                    : String.fromCharCode(n);
        i += 2;
      }
      run = i;
    }
    flush(s.end);
    return out;
  }

  /** Whether a scanned key equals `name` (ASCII lower-case) under Unicode case folding, after unescaping. */
  keyIs(s: RawString, name: string): boolean {
    const b = this.b;
    if (!s.esc && s.end - s.start === name.length) {
      let same = true;
      for (let k = 0; k < name.length; k++) {
        const c = b[s.start + k];
        if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== name.charCodeAt(k)) {
          same = false;
          break;
        }
      }
      if (same) return true;
    }
    if (!s.esc && s.end - s.start < name.length) return false; // folding never shortens below the ASCII length
    if (!s.esc) {
      let ascii = true;
      for (let k = s.start; k < s.end; k++) if (b[k] >= 0x80) ascii = false;
      if (ascii) return false;
    }
    return foldEqualsAscii(this.text(s), name);
  }

  /** Scans over one value of any type, iteratively (one loop instead of a call per nested value). */
  skip(depth: number): void {
    const b = this.b;
    const n = b.length;
    const open = SKIP_STACK;
    let level = 0;
    let i = this.i;
    for (;;) {
      // At a value nested `level` deep inside the skipped one.
      if (depth + level > MAX_JSON_DEPTH) throw SYNTAX;
      while (i < n && isWs(b[i])) i++;
      const c = i < n ? b[i] : 0;
      if (c === 0x7b || c === 0x5b) {
        i++;
        while (i < n && isWs(b[i])) i++;
        if (i < n && b[i] === (c === 0x7b ? 0x7d : 0x5d)) {
          i++;
        } else {
          open[level++] = c;
          if (c === 0x7b) i = this.keyColon(i);
          continue;
        }
      } else {
        this.i = i;
        if (c === 0x22) this.strEnd();
        else if (c === 0x74) this.lit('true');
        else if (c === 0x66) this.lit('false');
        else if (c === 0x6e) this.lit('null');
        else this.num();
        i = this.i;
      }
      // After a value: a comma leads to the next one, a closing bracket ends its container.
      for (;;) {
        if (level === 0) {
          this.i = i;
          return;
        }
        while (i < n && isWs(b[i])) i++;
        const d = i < n ? b[i] : 0;
        i++;
        const container = open[level - 1];
        if (d === 0x2c) {
          if (container === 0x7b) i = this.keyColon(i);
          break;
        }
        if (d !== (container === 0x7b ? 0x7d : 0x5d)) throw SYNTAX;
        level--;
      }
    }
  }

  /** Scans `"key" :` from `i` (whitespace allowed around); returns the index after the colon. */
  private keyColon(i: number): number {
    const b = this.b;
    while (i < b.length && isWs(b[i])) i++;
    if (b[i] !== 0x22) throw SYNTAX;
    this.i = i;
    this.strEnd();
    i = this.i;
    while (i < b.length && isWs(b[i])) i++;
    if (b[i] !== 0x3a) throw SYNTAX;
    return i + 1;
  }

  lit(w: string): void {
    const b = this.b;
    if (b.length - this.i < w.length) throw SYNTAX;
    for (let k = 0; k < w.length; k++) if (b[this.i + k] !== w.charCodeAt(k)) throw SYNTAX;
    this.i += w.length;
  }

  /** -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
  num(): void {
    const b = this.b;
    let i = this.i;
    const digit = (k: number) => k < b.length && b[k] >= 0x30 && b[k] <= 0x39;
    if (b[i] === 0x2d) i++;
    if (i < b.length && b[i] === 0x30) i++;
    else if (i < b.length && b[i] >= 0x31 && b[i] <= 0x39) while (digit(i)) i++;
    else throw SYNTAX;
    if (b[i] === 0x2e) {
      i++;
      if (!digit(i)) throw SYNTAX;
      while (digit(i)) i++;
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      i++;
      if (b[i] === 0x2b || b[i] === 0x2d) i++;
      if (!digit(i)) throw SYNTAX;
      while (digit(i)) i++;
    }
    this.i = i;
  }

  /**
   * Scans an object, calling `fn` for each key with the scanner at the value; `fn` must consume the value and
   * may return true to stop there (the rest of the object is then left unread). Returns whether it stopped.
   */
  object(fn: (key: RawString) => boolean | void): boolean {
    if (this.peek() !== 0x7b) throw SYNTAX;
    this.i++;
    if (this.peek() === 0x7d) {
      this.i++;
      return false;
    }
    for (;;) {
      if (this.peek() !== 0x22) throw SYNTAX;
      const key = this.str();
      if (this.peek() !== 0x3a) throw SYNTAX;
      this.i++;
      this.ws();
      if (fn(key) === true) return true;
      const d = this.peek();
      this.i++;
      if (d === 0x7d) return false;
      if (d !== 0x2c) throw SYNTAX;
    }
  }

  /** Scans an array, calling `fn` with the scanner at each element; `fn` must consume it. */
  array(fn: () => void): void {
    if (this.peek() !== 0x5b) throw SYNTAX;
    this.i++;
    if (this.peek() === 0x5d) {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      fn();
      const d = this.peek();
      this.i++;
      if (d === 0x5d) return;
      if (d !== 0x2c) throw SYNTAX;
    }
  }

  /** Whether only whitespace is left. */
  end(): boolean {
    this.ws();
    return this.i === this.b.length;
  }
}

function hex4(b: Uint8Array, at: number): number {
  let v = 0;
  for (let k = at; k < at + 4; k++) {
    const c = b[k];
    v = v * 16 + (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57);
  }
  return v;
}

/** The 4-byte-aligned words of a byte array: bytes [base, base + 4 * w.length) as little/big-endian words. */
export interface AlignedWords {
  w: Uint32Array;
  base: number;
}

export function alignedWords(b: Uint8Array): AlignedWords {
  const base = (4 - (b.byteOffset & 3)) & 3;
  const count = b.length > base ? (b.length - base) >> 2 : 0;
  return { w: new Uint32Array(b.buffer, b.byteOffset + base, count), base };
}

/**
 * The index of the first byte below 0x20 in [from, to) (`to` when none). Tests four bytes at a time (a byte
 * below 0x20 sets its high bit in (x - 0x20202020) & ~x): about twice as fast as a regex.
 */
export function firstControlByte(
  b: Uint8Array,
  from: number,
  to: number = b.length,
  words: AlignedWords = alignedWords(b),
): number {
  const n = Math.min(to, b.length);
  const { w, base } = words;
  let i = from;
  while (i < n && (i < base || ((i - base) & 3) !== 0)) {
    if (b[i] < 0x20) return i;
    i++;
  }
  const last = Math.min((n - base) >> 2, w.length);
  for (let k = (i - base) >> 2; k < last; k++) {
    const x = w[k];
    if (((x - 0x20202020) & ~x & 0x80808080) !== 0) {
      const at = base + 4 * k;
      for (let t = at; t < at + 4; t++) if (b[t] < 0x20) return t;
    }
    i = base + 4 * (k + 1);
  }
  for (; i < n; i++) if (b[i] < 0x20) return i;
  return n;
}
