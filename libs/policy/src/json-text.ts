// Whether a body is a JSON object the way Python's json.loads(bytes) reads it (most providers' front ends): a
// UTF-8 BOM is skipped; UTF-16 and UTF-32 (with or without BOM) are transcoded. Content-Type is not consulted.

export class BadJsonText extends Error {}

export type JsonText = { isObject: false } | { isObject: true; text: Buffer };

function firstNonSpace(b: Uint8Array, from: number): number {
  for (let i = from; i < b.length; i++) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return c;
  }
  return 0;
}

/** RFC 4627 section 3 as Python's json applies it: BOMs first, then the zero bytes among the first four. */
export function detectJsonEncoding(b: Uint8Array): string {
  const at = (i: number) => b[i];
  if (b.length >= 4 && at(0) === 0 && at(1) === 0 && at(2) === 0xfe && at(3) === 0xff) return 'utf-32-be';
  if (b.length >= 4 && at(0) === 0xff && at(1) === 0xfe && at(2) === 0 && at(3) === 0) return 'utf-32-le';
  if (b.length >= 2 && at(0) === 0xfe && at(1) === 0xff) return 'utf-16-be';
  if (b.length >= 2 && at(0) === 0xff && at(1) === 0xfe) return 'utf-16-le';
  if (b.length >= 3 && at(0) === 0xef && at(1) === 0xbb && at(2) === 0xbf) return 'utf-8-sig';
  if (b.length >= 4 && at(0) === 0) return at(1) !== 0 ? 'utf-16-be' : 'utf-32-be';
  if (b.length >= 4 && at(1) === 0) return at(2) !== 0 || at(3) !== 0 ? 'utf-16-le' : 'utf-32-le';
  if (b.length === 2 && at(0) === 0) return 'utf-16-be';
  if (b.length === 2 && at(1) === 0) return 'utf-16-le';
  return 'utf-8';
}

function codeUnits(b: Uint8Array, enc: string, max: number): number[] {
  const size = enc.startsWith('utf-32') ? 4 : 2;
  if (max < 0 && b.length % size !== 0) throw new BadJsonText();
  const be = enc.endsWith('-be');
  let n = Math.floor(b.length / size);
  if (max >= 0 && n > max) n = max;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let u = 0;
    for (let j = 0; j < size; j++) {
      const byte = b[i * size + j];
      u = be ? u * 256 + byte : u + byte * 2 ** (8 * j);
    }
    out[i] = u;
  }
  return out;
}

/** The body as UTF-8 text when it is (after JSON whitespace) a JSON object. Throws BadJsonText when it starts like one but cannot be transcoded. */
export function jsonObjectText(b: Buffer): JsonText {
  const enc = detectJsonEncoding(b);
  if (enc === 'utf-8')
    return firstNonSpace(b, 0) === 0x7b ? { isObject: true, text: b } : { isObject: false };
  if (enc === 'utf-8-sig') {
    return firstNonSpace(b, 3) === 0x7b ? { isObject: true, text: b.subarray(3) } : { isObject: false };
  }
  const head = codeUnits(b, enc, 64);
  let isObject = false;
  for (let i = 0; i < head.length; i++) {
    const u = head[i];
    if ((i === 0 && u === 0xfeff) || u === 0x20 || u === 0x09 || u === 0x0a || u === 0x0d) continue;
    isObject = u === 0x7b;
    break;
  }
  if (!isObject) return { isObject: false };
  const all = codeUnits(b, enc, -1);
  let text = '';
  if (enc.startsWith('utf-16')) {
    // Lone surrogates become U+FFFD, as Go's utf16.Decode does.
    for (let i = 0; i < all.length; i++) {
      const u = all[i];
      if (u >= 0xd800 && u <= 0xdbff && i + 1 < all.length && all[i + 1] >= 0xdc00 && all[i + 1] <= 0xdfff) {
        text += String.fromCharCode(u, all[++i]);
      } else if (u >= 0xd800 && u <= 0xdfff) text += '\ufffd';
      else text += String.fromCharCode(u);
    }
  } else {
    for (const u of all) {
      if (u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff)) throw new BadJsonText();
      text += String.fromCodePoint(u);
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a BOM survives transcoding as U+FEFF
  return { isObject: true, text: Buffer.from(text, 'utf8') };
}
