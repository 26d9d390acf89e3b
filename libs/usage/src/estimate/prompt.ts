// Estimates a request's prompt tokens from its JSON body, whatever the dialect: chat messages, Anthropic
// system/messages, Gemini contents/systemInstruction, Responses instructions/input, legacy prompt, embeddings
// input, tools. Images and audio are not text and are skipped. Framing follows OpenAI's cookbook: 3 per
// message plus its role's tokens, 1 per name, 3 for the reply primer.
import {
  type JsonObject,
  type JsonValue,
  JsonNumber,
  isObject,
  parseExact,
  stringifyExact,
} from '../json/exact-json';
import { runeCount } from '../extract/text-tally';
import { type EncodingCounter, charsToTokens, counterFor } from './encoding';

const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_NAME = 1;
const TOKENS_REPLY_PRIME = 3;
/** Deeper bodies are estimated from their whole size (nesting makes a decode expensive). */
export const MAX_DEPTH = 128;

export function jsonDepth(b: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') deepest = Math.max(deepest, ++depth);
    else if (c === '}' || c === ']') depth--;
  }
  return deepest;
}

class Tally {
  chars = 0;
  bpe = 0;
  ids = 0;
  framing = 0;
  framed = false;
  constructor(private readonly c: EncodingCounter) {}

  text(s: string): void {
    if (!s) return;
    this.chars += runeCount(s);
    if (this.c.encoding !== 'chars/4') this.bpe += this.c.count(s);
  }

  raw(v: JsonValue | undefined): void {
    if (v !== undefined && v !== null) this.text(stringifyExact(v));
  }

  str(v: JsonValue | undefined): void {
    if (typeof v === 'string') this.text(v);
  }

  total(): number {
    const t = this.c.encoding === 'chars/4' ? charsToTokens(this.chars) : this.bpe;
    return t + this.ids + this.framing;
  }

  messages(v: JsonValue | undefined): void {
    if (Array.isArray(v)) for (const m of v) if (isObject(m)) this.message(m);
  }

  message(m: JsonObject): void {
    this.framed = true;
    this.framing += TOKENS_PER_MESSAGE;
    if (typeof m.role === 'string' && m.role) {
      this.framing += this.c.count(m.role);
      if (typeof m.name === 'string' && m.name) this.framing += TOKENS_PER_NAME;
    }
    this.item(m);
  }

  item(m: JsonObject): void {
    this.str(m.name);
    this.flex(m.content);
    this.str(m.text);
    this.str(m.refusal);
    this.str(m.arguments);
    this.flex(m.output);
    this.raw(m.input);
    for (const key of ['parts', 'tool_calls'] as const) {
      const list = m[key];
      if (Array.isArray(list)) for (const p of list) if (isObject(p)) this.item(p);
    }
    if (isObject(m.function)) this.item(m.function);
    this.raw(m.functionCall);
    this.raw(m.functionResponse);
  }

  /** A string, token ids, a list of those or of parts, or one part. */
  flex(v: JsonValue | undefined): void {
    if (typeof v === 'string') this.text(v);
    else if (v instanceof JsonNumber) this.ids += 1;
    else if (Array.isArray(v)) for (const x of v) this.flex(x);
    else if (isObject(v)) this.item(v);
  }

  /** Responses `input`: a string, or items that are messages (with framing) or parts. */
  input(v: JsonValue | undefined): void {
    if (isObject(v)) this.message(v);
    else if (Array.isArray(v)) {
      for (const e of v) {
        if (isObject(e)) this.message(e);
        else this.flex(e);
      }
    } else this.flex(v);
  }
}

/** Estimated prompt tokens and the characters of text they came from; [0, 0] for a body that is not JSON. */
export function promptTokens(
  provider: string,
  model: string,
  body: string,
): { tokens: number; chars: number } {
  if (body.trim() === '') return { tokens: 0, chars: 0 };
  if (jsonDepth(body) > MAX_DEPTH) {
    const n = runeCount(body);
    return { tokens: charsToTokens(n), chars: n };
  }
  const b = parseExact(body);
  if (!isObject(b)) return { tokens: 0, chars: 0 };
  const a = new Tally(counterFor(provider, model));
  a.messages(b.messages);
  a.messages(b.contents);
  if (isObject(b.systemInstruction)) a.item(b.systemInstruction);
  if (isObject(b.system_instruction)) a.item(b.system_instruction);
  a.flex(b.system);
  a.flex(b.instructions);
  a.flex(b.prompt);
  a.input(b.input);
  a.raw(b.tools);
  a.raw(b.functions);
  if (a.framed) a.framing += TOKENS_REPLY_PRIME;
  return { tokens: a.total(), chars: a.chars };
}
