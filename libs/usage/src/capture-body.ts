// Turns a captured body copy (base64 head, and tail past the cap) back into bytes.
import type { CapturedBody } from '@spendops/contracts';

export interface BodyBytes {
  head: Buffer;
  /** The last bytes when the body was longer than the cap (the middle is missing). */
  tail: Buffer | null;
}

export function bodyBytes(b: CapturedBody | undefined): BodyBytes {
  if (!b) return { head: Buffer.alloc(0), tail: null };
  const head = Buffer.from(b.head ?? '', 'base64');
  const tail = b.truncated && b.tail ? Buffer.from(b.tail, 'base64') : null;
  return { head, tail };
}

/** Where the first whole SSE event starts in a tail cut at an arbitrary byte: after its first blank line. */
export function firstEventStart(tail: Buffer): number {
  const s = tail.toString('latin1');
  const m = /\r\n\r\n|\n\n|\r\r/.exec(s);
  return m ? m.index + m[0].length : tail.length;
}

/** The last JSON object that follows `"key":` in text (balanced braces, strings respected), or undefined. */
export function lastObjectAfterKey(text: string, key: string): string | undefined {
  const needle = `"${key}"`;
  for (let at = text.lastIndexOf(needle); at >= 0; at = text.lastIndexOf(needle, at - 1)) {
    let i = at + needle.length;
    while (i < text.length && /\s/.test(text[i])) i++;
    if (text[i] !== ':') continue;
    i++;
    while (i < text.length && /\s/.test(text[i])) i++;
    if (text[i] !== '{') continue;
    const end = balancedEnd(text, i);
    if (end > 0) return text.slice(i, end);
  }
  return undefined;
}

function balancedEnd(s: string, start: number): number {
  let depth = 0;
  let inStr = false;
  let esc = false;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (inStr) {
      if (esc) esc = false;
      else if (c === '\\') esc = true;
      else if (c === '"') inStr = false;
    } else if (c === '"') inStr = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i + 1;
  }
  return -1;
}
