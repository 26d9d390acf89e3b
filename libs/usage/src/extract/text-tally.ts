// Tallies output text for the estimate reported when the provider gives no usage. Text is held only until
// counted, in batches cut at whitespace (tokenizers merge across delta boundaries).
import type { TokenCounter } from './report';

const FLUSH_AT = 16 << 10;

/** Unicode code points in s (what the reference counts as characters). */
export function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff || i + 1 >= s.length) n++;
    else {
      const d = s.charCodeAt(i + 1);
      n++;
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}

export class TextTally {
  private chars = 0;
  private tokens = 0;
  private buf = '';

  constructor(private readonly counter?: TokenCounter) {}

  add(s: string): void {
    if (!s) return;
    this.chars += runeCount(s);
    if (!this.counter) return;
    this.buf += s;
    if (this.buf.length >= FLUSH_AT) this.flush(false);
  }

  private flush(final: boolean): void {
    let cut = this.buf.length;
    if (!final) {
      const i = Math.max(this.buf.lastIndexOf(' '), this.buf.lastIndexOf('\n'), this.buf.lastIndexOf('\t'));
      if (i >= this.buf.length / 2) cut = i + 1;
    }
    if (cut > 0 && this.counter) this.tokens += this.counter.count(this.buf.slice(0, cut));
    this.buf = final ? '' : this.buf.slice(cut);
  }

  outputChars(): number {
    return this.chars;
  }

  /** The Counter's count, or chars/4 rounded up without one. Call once, at the end. */
  estimate(): number {
    if (!this.counter) return Math.ceil(this.chars / 4);
    this.flush(true);
    return this.tokens;
  }
}
