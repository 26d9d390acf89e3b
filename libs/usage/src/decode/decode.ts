// Decompresses a copy of a response body per its Content-Encoding (gzip, x-gzip, deflate as zlib or raw, br,
// zstd, stacked up to four layers). Never throws: a corrupt or truncated body yields what decoded before the
// damage plus an error value, and the output is capped so that a compression bomb costs bounded memory.
import * as zlib from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';

/** Default cap on decoded bytes (64 MiB). */
export const DEFAULT_MAX_DECODED_BYTES = 64 << 20;
/** More stacked codings than this is refused (a real server sends one, rarely two). */
const MAX_LAYERS = 4;
/** RFC 9659: a zstd window over 8 MiB need not be supported; refusing it bounds the decoder's memory. */
const ZSTD_MAX_WINDOW = 8 << 20;

export type Coding = 'gzip' | 'x-gzip' | 'deflate' | 'br' | 'zstd';
export type DecodeError = 'unsupported' | 'corrupt' | 'too_large';

export interface DecodeResult {
  /** Decoded bytes: all of them, or those before the damage, at most the cap. */
  data: Buffer;
  /** Set when the body could not be decoded whole. */
  error?: DecodeError;
  /** Short reason for logs (never content). */
  detail?: string;
}

/** Parses a Content-Encoding value into the codings in the order they were applied. */
export function parseContentEncoding(
  value: string,
): { ok: true; layers: Coding[] } | { ok: false; detail: string } {
  const layers: Coding[] = [];
  for (const raw of value.split(',')) {
    const f = raw.trim().toLowerCase();
    if (f === '' || f === 'identity') continue;
    if (f === 'gzip' || f === 'x-gzip' || f === 'deflate' || f === 'br' || f === 'zstd') layers.push(f);
    else return { ok: false, detail: `unsupported content encoding "${f}"` };
  }
  if (layers.length > MAX_LAYERS) return { ok: false, detail: `${layers.length} stacked codings` };
  return { ok: true, layers };
}

/** Decodes `body` per `contentEncoding` ('' or identity: returned as is, capped). */
export function decodeBody(
  body: Buffer,
  contentEncoding: string,
  maxOut = DEFAULT_MAX_DECODED_BYTES,
): DecodeResult {
  const parsed = parseContentEncoding(contentEncoding);
  if (!parsed.ok) return { data: Buffer.alloc(0), error: 'unsupported', detail: parsed.detail };
  if (maxOut <= 0) maxOut = DEFAULT_MAX_DECODED_BYTES;
  let data = body;
  // The last coding applied is the first to undo.
  for (let i = parsed.layers.length - 1; i >= 0; i--) {
    const coding = parsed.layers[i];
    if (data.length === 0) return { data };
    const r = decodeLayer(coding, data, maxOut);
    if (r.error) {
      // What an inner layer yielded before its damage is still decoded by the outer ones, for what it holds.
      let partial = r.data;
      for (let j = i - 1; j >= 0 && partial.length > 0; j--) {
        partial = decodeLayer(parsed.layers[j], partial, maxOut).data;
      }
      return { data: partial, error: r.error, detail: `${parsed.layers.join(', ')}: ${r.detail ?? r.error}` };
    }
    data = r.data;
  }
  if (data.length > maxOut) {
    return { data: data.subarray(0, maxOut), error: 'too_large', detail: 'decoded size exceeds limit' };
  }
  return { data };
}

function decodeLayer(coding: Coding, input: Buffer, maxOut: number): DecodeResult {
  if (coding === 'zstd') return decodeZstd(input, maxOut);
  const whole = runZlib(coding, input, maxOut, false);
  if (whole.ok) return { data: whole.data };
  const error: DecodeError = whole.tooLarge ? 'too_large' : 'corrupt';
  // Keep what decodes before the damage (a cut stream's head): the longest input prefix that decodes, found
  // by bisection; each attempt is bounded by the cap.
  let lo = 0;
  let hi = input.length - 1;
  let best: Buffer = Buffer.alloc(0);
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const r = runZlib(coding, input.subarray(0, mid), maxOut, true);
    if (r.ok) {
      best = r.data;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return { data: best, error, detail: whole.detail };
}

type ZlibRun = { ok: true; data: Buffer } | { ok: false; tooLarge: boolean; detail: string };

function runZlib(coding: Exclude<Coding, 'zstd'>, input: Buffer, maxOut: number, partial: boolean): ZlibRun {
  if (input.length === 0) return { ok: true, data: Buffer.alloc(0) };
  const flush = partial ? zlib.constants.Z_SYNC_FLUSH : zlib.constants.Z_FINISH;
  try {
    switch (coding) {
      case 'gzip':
      case 'x-gzip':
        return { ok: true, data: zlib.gunzipSync(input, { finishFlush: flush, maxOutputLength: maxOut }) };
      case 'deflate':
        // RFC 9110 says zlib-wrapped; some servers send raw deflate. The header tells them apart.
        if (input.length >= 2 && isZlibHeader(input[0], input[1])) {
          return { ok: true, data: zlib.inflateSync(input, { finishFlush: flush, maxOutputLength: maxOut }) };
        }
        return {
          ok: true,
          data: zlib.inflateRawSync(input, { finishFlush: flush, maxOutputLength: maxOut }),
        };
      case 'br':
        return {
          ok: true,
          data: zlib.brotliDecompressSync(input, {
            finishFlush: partial
              ? zlib.constants.BROTLI_OPERATION_FLUSH
              : zlib.constants.BROTLI_OPERATION_FINISH,
            maxOutputLength: maxOut,
          }),
        };
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    const tooLarge = err instanceof RangeError || code === 'ERR_BUFFER_TOO_LARGE';
    return {
      ok: false,
      tooLarge,
      detail: tooLarge ? 'decoded size exceeds limit' : String(code ?? 'corrupt'),
    };
  }
}

function isZlibHeader(cmf: number, flg: number): boolean {
  return (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && ((cmf << 8) | flg) % 31 === 0;
}

function decodeZstd(input: Buffer, maxOut: number): DecodeResult {
  const window = zstdWindowSize(input);
  if (window > ZSTD_MAX_WINDOW)
    return { data: Buffer.alloc(0), error: 'corrupt', detail: 'zstd window too large' };
  const chunks: Uint8Array[] = [];
  let size = 0;
  let over = false;
  const d = new ZstdDecompress((chunk) => {
    if (over) return;
    if (size + chunk.length > maxOut) {
      chunks.push(chunk.subarray(0, maxOut - size));
      size = maxOut;
      over = true;
      return;
    }
    chunks.push(chunk.slice());
    size += chunk.length;
  });
  const out = (): Buffer => Buffer.concat(chunks, size);
  try {
    const step = 16 << 10;
    for (let i = 0; i < input.length && !over; i += step) {
      const end = Math.min(i + step, input.length);
      d.push(input.subarray(i, end), end === input.length);
    }
  } catch (err) {
    return { data: out(), error: 'corrupt', detail: err instanceof Error ? err.message : 'corrupt' };
  }
  if (over) return { data: out(), error: 'too_large', detail: 'decoded size exceeds limit' };
  // A stream that ended mid-frame leaves the decoder waiting: that is a truncation.
  if (!zstdEndsOnFrame(input)) return { data: out(), error: 'corrupt', detail: 'truncated zstd stream' };
  return { data: out() };
}

/** The window size the first zstd frame asks for (0 when not a zstd frame header). */
function zstdWindowSize(b: Buffer): number {
  if (b.length < 6 || b.readUInt32LE(0) !== 0xfd2fb528) return 0;
  const fhd = b[4];
  const single = (fhd >> 5) & 1;
  if (!single) {
    const wd = b[5];
    const log = 10 + (wd >> 3);
    const base = 2 ** log;
    return base + (base / 8) * (wd & 7);
  }
  const dictBytes = [0, 1, 2, 4][fhd & 3];
  const fcsBytes = [1, 2, 4, 8][fhd >> 6];
  const at = 5 + dictBytes;
  if (b.length < at + fcsBytes) return 0;
  switch (fcsBytes) {
    case 1:
      return b[at];
    case 2:
      return b.readUInt16LE(at) + 256;
    case 4:
      return b.readUInt32LE(at);
    default:
      return Number(b.readBigUInt64LE(at));
  }
}

/** Walks the frames' block headers to tell whether the input ends exactly at a frame's end. */
function zstdEndsOnFrame(b: Buffer): boolean {
  let p = 0;
  while (p < b.length) {
    if (b.length - p < 8) return false;
    const magic = b.readUInt32LE(p);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      p += 8 + b.readUInt32LE(p + 4);
      continue;
    }
    if (magic !== 0xfd2fb528) return false;
    const fhd = b[p + 4];
    const single = (fhd >> 5) & 1;
    const checksum = (fhd >> 2) & 1;
    const dictBytes = [0, 1, 2, 4][fhd & 3];
    const fcsFlag = fhd >> 6;
    const fcsBytes = fcsFlag === 0 ? (single ? 1 : 0) : [0, 2, 4, 8][fcsFlag];
    p += 5 + (single ? 0 : 1) + dictBytes + fcsBytes;
    for (;;) {
      if (b.length - p < 3) return false;
      const h = b[p] | (b[p + 1] << 8) | (b[p + 2] << 16);
      const last = h & 1;
      const type = (h >> 1) & 3;
      const size = h >>> 3;
      p += 3 + (type === 1 ? 1 : size);
      if (p > b.length) return false;
      if (last) break;
    }
    p += checksum ? 4 : 0;
    if (p > b.length) return false;
  }
  return true;
}
