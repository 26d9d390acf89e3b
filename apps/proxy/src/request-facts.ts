// The few top-level fields of a JSON request body the proxy needs before forwarding, read without decoding the
// rest (a chat body can be megabytes of messages).

export interface RequestFacts {
  model: string;
  stream: boolean;
}

/** application/json or any +json type (or, unparsable, anything mentioning json). */
export function isJsonContentType(ct: string | undefined): boolean {
  if (!ct) return false;
  const mt = ct.split(';')[0].trim().toLowerCase();
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+$/.test(mt))
    return ct.toLowerCase().includes('json');
  return mt === 'application/json' || mt.endsWith('+json');
}

/**
 * Top-level "model" and "stream" of a JSON object. Anything that is not a well-formed object yields no facts: the
 * body is still forwarded untouched, and the policy decides on its own parse.
 */
export function scanRequestFacts(b: Buffer): RequestFacts {
  const none: RequestFacts = { model: '', stream: false };
  const facts: RequestFacts = { model: '', stream: false };
  let i = ws(b, 0);
  if (b[i] !== 0x7b) return none;
  i = ws(b, i + 1);
  if (b[i] === 0x7d) return facts;
  for (;;) {
    if (b[i] !== 0x22) return none;
    const keyEnd = skipString(b, i);
    if (keyEnd < 0) return none;
    const key = keyOf(b, i, keyEnd);
    if (key === null) return none;
    i = ws(b, keyEnd);
    if (b[i] !== 0x3a) return none;
    i = ws(b, i + 1);
    const valStart = i;
    const valEnd = skipValue(b, i);
    if (valEnd < 0) return none;
    if (key === 'model' && b[valStart] === 0x22) facts.model = decodeString(b, valStart, valEnd) ?? '';
    else if (key === 'stream') facts.stream = isTrue(b, valStart, valEnd);
    i = ws(b, valEnd);
    if (b[i] === 0x2c) {
      i = ws(b, i + 1);
      continue;
    }
    return b[i] === 0x7d ? facts : none;
  }
}

function ws(b: Buffer, i: number): number {
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d)) i++;
  return i;
}

function skipString(b: Buffer, i: number): number {
  for (i++; i < b.length; i++) {
    if (b[i] === 0x5c) i++;
    else if (b[i] === 0x22) return i + 1;
  }
  return -1;
}

/**
 * A key as far as the scan cares: 'model', 'stream', or '' for any other; null for a malformed escape. Only an
 * escaped key is decoded (without escapes the bytes are the name: no string is made for every key of the body).
 */
function keyOf(b: Buffer, start: number, end: number): 'model' | 'stream' | '' | null {
  for (let i = start + 1; i < end - 1; i++) {
    if (b[i] === 0x5c) {
      const key = decodeString(b, start, end);
      return key === null ? null : key === 'model' || key === 'stream' ? key : '';
    }
  }
  if (bytesAre(b, start + 1, end - 1, MODEL)) return 'model';
  if (bytesAre(b, start + 1, end - 1, STREAM)) return 'stream';
  return '';
}

const MODEL = Buffer.from('model');
const STREAM = Buffer.from('stream');
const TRUE = Buffer.from('true');

function bytesAre(b: Buffer, start: number, end: number, want: Buffer): boolean {
  if (end - start !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (b[start + i] !== want[i]) return false;
  return true;
}

function isTrue(b: Buffer, start: number, end: number): boolean {
  return bytesAre(b, start, end, TRUE);
}

function decodeString(b: Buffer, start: number, end: number): string | null {
  const raw = b.subarray(start, end);
  if (!raw.includes(0x5c)) return raw.subarray(1, raw.length - 1).toString('utf8');
  try {
    return JSON.parse(raw.toString('utf8')) as string;
  } catch {
    return null;
  }
}

function skipValue(b: Buffer, i: number): number {
  if (i >= b.length) return -1;
  const c = b[i];
  if (c === 0x22) return skipString(b, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    while (i < b.length) {
      const d = b[i];
      if (d === 0x22) {
        i = skipString(b, i);
        if (i < 0) return -1;
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return -1;
  }
  const start = i;
  while (i < b.length) {
    const d = b[i];
    if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x09 || d === 0x0a || d === 0x0d) break;
    i++;
  }
  return i > start ? i : -1;
}

/** The model named by a Gemini-native URL: `/v1beta/models/{model}:generateContent` → `{model}`. */
export function modelFromGeminiPath(endpoint: string): string {
  const m = /\/models\/([^/:]+):[A-Za-z]+$/.exec(endpoint);
  if (!m) return '';
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}
