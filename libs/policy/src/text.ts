// Text helpers that reproduce the reference's Unicode rules (Go's unicode.IsSpace, unicode.IsGraphic,
// strconv.Quote), so error texts and accepted values match it exactly.
import { isUtf8 } from 'node:buffer';

const EDGE_SPACE = /^\p{White_Space}+|\p{White_Space}+$/gu;
const ONLY_GRAPHIC = /^[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]*$/u;
const PRINTABLE = /[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;

/** Trims Unicode White_Space (space, tab, no-break space, NEL, …) from both ends. */
export function trimSpace(s: string): string {
  if (s.length === 0) return s;
  const a = s.charCodeAt(0);
  const z = s.charCodeAt(s.length - 1);
  if (a > 0x20 && a < 0x7f && z > 0x20 && z < 0x7f) return s; // the common case: no regex
  return s.replace(EDGE_SPACE, '');
}

/** Whether `s` has Unicode White_Space at either end. */
export function hasEdgeSpace(s: string): boolean {
  return trimSpace(s) !== s;
}

/**
 * Whether every character is graphic (letter, mark, number, punctuation, symbol, space separator). Control,
 * format (zero-width, bidi), private-use, unassigned characters and lone surrogates are refused.
 */
export function isGraphicText(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
    if (c >= 0x80) return ONLY_GRAPHIC.test(s);
  }
  return true;
}

/** Length in Unicode code points. */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff || i + 1 >= s.length) n++;
    else {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
      n++;
    }
  }
  return n;
}

/** Decodes a header value as Node delivers it (each byte one latin1 char) as UTF-8; null when not UTF-8. */
export function decodeLatin1Header(raw: string): string | null {
  let ascii = true;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c > 0xff) return null; // not a wire value
    if (c >= 0x80) ascii = false;
  }
  if (ascii) return raw;
  const bytes = Buffer.from(raw, 'latin1');
  return isUtf8(bytes) ? bytes.toString('utf8') : null;
}

/** Whether a JS string is well-formed UTF-16 (no lone surrogates), i.e. encodes to valid UTF-8. */
export function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d < 0xdc00 || d > 0xdfff) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** Go's strconv.Quote: a double-quoted string with Go escapes for non-printable characters. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (r < 0x80 ? r >= 0x20 && r < 0x7f : PRINTABLE.test(ch)) out += ch;
    else if (r === 7) out += '\\a';
    else if (r === 8) out += '\\b';
    else if (r === 0xc) out += '\\f';
    else if (r === 0xa) out += '\\n';
    else if (r === 0xd) out += '\\r';
    else if (r === 9) out += '\\t';
    else if (r === 0xb) out += '\\v';
    else if (r < 0x20 || r === 0x7f) out += '\\x' + hex(r, 2);
    else if (r >= 0xd800 && r <= 0xdfff) out += '\\ufffd';
    else if (r < 0x10000) out += '\\u' + hex(r, 4);
    else out += '\\U' + hex(r, 8);
  }
  return out + '"';
}

/** Quotes `s` for an error message, cut to 40 UTF-8 bytes so a hostile value is not echoed back whole. */
export function quoteShort(s: string): string {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= 40) return goQuote(s);
  let cut = 40;
  while (cut > 0 && (b[cut] & 0xc0) === 0x80) cut--;
  return goQuote(b.subarray(0, cut).toString('utf8')) + '…';
}

/** Go's strings.EqualFold against an ASCII lower-case name (ſ folds to s and the Kelvin sign to k). */
export function foldEqualsAscii(s: string, name: string): boolean {
  let j = 0;
  for (const ch of s) {
    if (j >= name.length) return false;
    let r = ch.codePointAt(0)!;
    if (r >= 0x41 && r <= 0x5a) r += 0x20;
    else if (r === 0x17f) r = 0x73;
    else if (r === 0x212a) r = 0x6b;
    if (r !== name.charCodeAt(j)) return false;
    j++;
  }
  return j === name.length;
}
