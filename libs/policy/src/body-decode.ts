// Undoes a request's Content-Encoding so a restricted key's model can be checked: gzip, deflate (zlib or raw),
// br, zstd, up to three layers, with a cap on the decoded size.
import * as zlib from 'node:zlib';
import { Decompress } from 'fzstd';
import { type PolicyDenial, uncheckable } from './denial';

export const DEFAULT_MAX_DECODED_BYTES = 32 << 20;

class TooLarge extends Error {}
class Unsupported extends Error {}

export type DecodeResult = { ok: true; body: Buffer } | { ok: false; denial: PolicyDenial };

/** The encodings of a Content-Encoding value list in the order they were applied ('identity' dropped). */
export function contentEncodings(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== '' && e !== 'identity');
}

export function decodeBody(
  body: Buffer,
  contentEncoding: string | undefined,
  maxDecoded: number,
): DecodeResult {
  const encs = contentEncodings(contentEncoding);
  if (encs.length === 0) return { ok: true, body };
  if (encs.length > 3) return { ok: false, denial: uncheckable(415, 'too many Content-Encoding layers') };
  let b = body;
  for (let i = encs.length - 1; i >= 0; i--) {
    try {
      b = decodeOne(encs[i], b, maxDecoded);
    } catch (e) {
      if (e instanceof Unsupported) {
        return { ok: false, denial: uncheckable(415, `Content-Encoding "${encs[i]}" is not supported`) };
      }
      if (e instanceof TooLarge || (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        return { ok: false, denial: uncheckable(413, `body decompresses to more than ${maxDecoded} bytes`) };
      }
      return { ok: false, denial: uncheckable(400, `invalid ${encs[i]} data`) };
    }
  }
  return { ok: true, body: b };
}

function decodeOne(enc: string, b: Buffer, limit: number): Buffer {
  const opts = { maxOutputLength: Math.max(1, limit) };
  switch (enc) {
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(b, opts);
    case 'deflate':
      // RFC 9110 says zlib; some clients send raw deflate.
      try {
        return zlib.inflateSync(b, opts);
      } catch (e) {
        if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw e;
        return zlib.inflateRawSync(b, opts);
      }
    case 'br':
      return zlib.brotliDecompressSync(b, opts);
    case 'zstd':
      return zstdDecode(b, limit);
    default:
      throw new Unsupported(enc);
  }
}

function zstdDecode(b: Buffer, limit: number): Buffer {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const d = new Decompress((chunk) => {
    total += chunk.length;
    if (total > limit) throw new TooLarge();
    chunks.push(chunk);
  });
  d.push(b, true);
  return Buffer.concat(chunks);
}
