// A JSON parser that keeps every number as its source text, so that token counts never pass through a float
// and reported costs stay exactly as the provider wrote them (4.1400000000000003e-05 stays that). Strings are
// decoded by JSON.parse itself. Malformed input gives undefined, never a throw.

/** A JSON number as written in the source. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

export type JsonValue = string | boolean | null | JsonNumber | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

const MAX_DEPTH = 512;
/** Characters a JSON string holds as they are: anything but a quote, a backslash or a control character. */
// eslint-disable-next-line no-control-regex -- control characters are not allowed raw in a JSON string
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;

class Parser {
  i = 0;
  constructor(private readonly s: string) {}

  ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else break;
    }
  }

  value(depth: number): JsonValue {
    if (depth > MAX_DEPTH) throw new SyntaxError('too deep');
    this.ws();
    const c = this.s[this.i];
    switch (c) {
      case '{':
        return this.object(depth);
      case '[':
        return this.array(depth);
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        return this.number();
    }
  }

  literal<T extends JsonValue>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.i)) throw new SyntaxError('bad literal');
    this.i += word.length;
    return v;
  }

  number(): JsonNumber {
    const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    m.lastIndex = this.i;
    const r = m.exec(this.s);
    if (!r || r[0] === '' || r[0] === '-') throw new SyntaxError('bad number');
    this.i += r[0].length;
    return new JsonNumber(r[0]);
  }

  string(): string {
    const s = this.s;
    const start = this.i;
    let j = start + 1;
    let escaped = false;
    for (;;) {
      // The regex engine skips a run of plain characters far faster than a charCodeAt loop (long texts).
      PLAIN_RUN.lastIndex = j;
      PLAIN_RUN.test(s);
      j = PLAIN_RUN.lastIndex;
      if (j >= s.length) throw new SyntaxError('unterminated string');
      const c = s.charCodeAt(j);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        j += 2;
        continue;
      }
      if (c < 0x20) throw new SyntaxError('control character in string');
      j++;
    }
    this.i = j + 1;
    return escaped ? (JSON.parse(s.slice(start, j + 1)) as string) : s.slice(start + 1, j);
  }

  array(depth: number): JsonValue[] {
    this.i++;
    const out: JsonValue[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') throw new SyntaxError('expected , or ]');
    }
  }

  object(depth: number): JsonObject {
    this.i++;
    const out = Object.create(null) as JsonObject;
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') throw new SyntaxError('expected key');
      const key = this.string();
      this.ws();
      if (this.s[this.i++] !== ':') throw new SyntaxError('expected :');
      out[key] = this.value(depth + 1);
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') throw new SyntaxError('expected , or }');
    }
  }
}

/** Parses one JSON text exactly; undefined when malformed (or trailing garbage follows). */
export function parseExact(text: string): JsonValue | undefined {
  try {
    const p = new Parser(text);
    const v = p.value(0);
    p.ws();
    return p.i === text.length ? v : undefined;
  } catch {
    return undefined;
  }
}

export function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !(v instanceof JsonNumber) && !Array.isArray(v);
}

export function asString(v: JsonValue | undefined): string {
  return typeof v === 'string' ? v : '';
}

export function asArray(v: JsonValue | undefined): JsonValue[] {
  return Array.isArray(v) ? v : [];
}

/** The plain-JSON form (numbers as JS numbers) for storing a raw usage object. */
export function toPlain(v: JsonValue): unknown {
  if (v instanceof JsonNumber) return Number(v.text);
  if (Array.isArray(v)) return v.map(toPlain);
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toPlain(x);
    return out;
  }
  return v;
}

/** Whether the trimmed text starts with `{` (a JSON object, for what follows to decide). */
export function looksLikeObject(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    return c === 0x7b;
  }
  return false;
}

/** Compact JSON text of an exactly parsed value, numbers as written. */
export function stringifyExact(v: JsonValue): string {
  if (v instanceof JsonNumber) return v.text;
  if (Array.isArray(v)) return `[${v.map(stringifyExact).join(',')}]`;
  if (isObject(v)) {
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}:${stringifyExact(x)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
