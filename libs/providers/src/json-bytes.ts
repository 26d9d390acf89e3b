// Byte-level walking of JSON text that is already known to be valid, so that a body can be edited by splicing
// without re-serialising it (key order, whitespace and number spellings survive).

export interface JsonMember {
  /** The decoded key (escapes matter: "stre\u0061m" is the key stream). */
  key: string;
  keyStart: number;
  valStart: number;
  valEnd: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

export function skipSpace(b: Uint8Array, i: number): number {
  while (i < b.length && isJsonSpace(b[i])) i++;
  return i;
}

/** Index just past the string starting at b[i] ('"'). */
export function skipString(b: Uint8Array, i: number): number {
  for (i++; i < b.length; i++) {
    if (b[i] === BACKSLASH) i++;
    else if (b[i] === QUOTE) return i + 1;
  }
  return i;
}

/** Index just past the value starting at b[i]; nesting by a counter (deep bodies cannot exhaust the stack). */
export function skipValue(b: Uint8Array, i: number): number {
  let depth = 0;
  while (i < b.length) {
    const c = b[i];
    if (c === QUOTE) {
      i = skipString(b, i);
      if (depth === 0) return i;
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    } else if (depth === 0) {
      while (i < b.length && !isJsonSpace(b[i]) && b[i] !== 0x2c && b[i] !== 0x7d && b[i] !== 0x5d) i++;
      return i;
    }
    i++;
  }
  return i;
}

function decodeKey(b: Buffer, start: number, end: number): string {
  const raw = b.subarray(start, end);
  if (!raw.includes(BACKSLASH)) return raw.subarray(1, raw.length - 1).toString('utf8');
  try {
    return JSON.parse(raw.toString('utf8')) as string;
  } catch {
    return '';
  }
}

/** Members of the (valid) object starting at b[start] ('{'). */
export function objectMembers(b: Buffer, start: number): JsonMember[] {
  const members: JsonMember[] = [];
  let i = skipSpace(b, start + 1);
  if (b[i] === 0x7d) return members;
  for (;;) {
    const keyStart = i;
    const keyEnd = skipString(b, keyStart);
    const key = decodeKey(b, keyStart, keyEnd);
    i = skipSpace(b, keyEnd);
    i = skipSpace(b, i + 1); // ':'
    const valStart = i;
    const valEnd = skipValue(b, valStart);
    members.push({ key, keyStart, valStart, valEnd });
    i = skipSpace(b, valEnd);
    if (i >= b.length || b[i] === 0x7d) return members;
    i = skipSpace(b, i + 1); // ','
  }
}

/** Whether the bytes are one valid JSON text. */
export function isValidJson(b: Buffer): boolean {
  try {
    JSON.parse(b.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

export function splice(b: Buffer, from: number, to: number, insert: string): Buffer {
  return Buffer.concat([b.subarray(0, from), Buffer.from(insert, 'utf8'), b.subarray(to)]);
}
