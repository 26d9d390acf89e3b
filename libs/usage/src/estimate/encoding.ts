// Which tokenizer estimates a model's tokens: o200k/cl100k BPE for OpenAI model families (offline, loaded on
// first use), chars/4 otherwise.
import type { TokenCounter } from '../extract/report';
import { runeCount } from '../extract/text-tally';

export type Encoding = 'o200k_base' | 'cl100k_base' | 'chars/4';

const FAMILY: [string, Encoding][] = [
  ['gpt-4o', 'o200k_base'],
  ['chatgpt-4o', 'o200k_base'],
  ['gpt-4.1', 'o200k_base'],
  ['gpt-4.5', 'o200k_base'],
  ['gpt-5', 'o200k_base'],
  ['gpt-oss', 'o200k_base'], // o200k_harmony: o200k plus chat special tokens
  ['gpt-image', 'o200k_base'],
  ['gpt-realtime', 'o200k_base'],
  ['gpt-audio', 'o200k_base'],
  ['o1', 'o200k_base'],
  ['o3', 'o200k_base'],
  ['o4', 'o200k_base'],
  ['codex-mini', 'o200k_base'],
  ['computer-use-preview', 'o200k_base'],
  ['omni-moderation', 'o200k_base'],
  ['gpt-4', 'cl100k_base'],
  ['gpt-3.5', 'cl100k_base'],
  ['gpt-35', 'cl100k_base'], // Azure's spelling
  ['text-embedding-3', 'cl100k_base'],
  ['text-embedding-ada-002', 'cl100k_base'],
  ['davinci-002', 'cl100k_base'],
  ['babbage-002', 'cl100k_base'],
];

/** openrouter's `openai/gpt-4o:online`, fine-tunes `ft:gpt-4o-mini:acme::x` → the base name. */
function normalizeModel(model: string): string {
  let m = model.trim().toLowerCase();
  const slash = m.lastIndexOf('/');
  if (slash >= 0) m = m.slice(slash + 1);
  if (m.startsWith('ft:')) m = m.slice(3);
  const colon = m.indexOf(':');
  return colon >= 0 ? m.slice(0, colon) : m;
}

/** The family prefix must end at a non-alphanumeric boundary: `o1x` and `gpt-4all` are not OpenAI families. */
function hasFamilyPrefix(m: string, prefix: string): boolean {
  if (!m.startsWith(prefix)) return false;
  if (m.length === prefix.length) return true;
  return !/[a-z0-9]/.test(m[prefix.length]);
}

export function encodingFor(provider: string, model: string): Encoding {
  const m = normalizeModel(model);
  for (const [prefix, enc] of FAMILY) if (hasFamilyPrefix(m, prefix)) return enc;
  const p = provider.toLowerCase();
  return p === 'openai' || p.includes('azure') ? 'o200k_base' : 'chars/4';
}

export const charsToTokens = (chars: number): number => Math.ceil(chars / 4);

export interface EncodingCounter extends TokenCounter {
  readonly encoding: Encoding;
}

type CountFn = (text: string) => number;
const loaded: Partial<Record<Encoding, CountFn>> = {};
/** How many BPE vocabularies were loaded (they cost ~0.4 s and tens of MB each, so only on first use). */
export const vocabulariesLoaded = (): number => Object.keys(loaded).length;

function bpe(enc: 'o200k_base' | 'cl100k_base'): CountFn {
  let fn = loaded[enc];
  if (!fn) {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const mod = (
      enc === 'o200k_base'
        ? require('gpt-tokenizer/encoding/o200k_base')
        : require('gpt-tokenizer/encoding/cl100k_base')
    ) as { countTokens: (t: string, o?: { disallowedSpecial?: Set<string> }) => number };
    /* eslint-enable @typescript-eslint/no-require-imports */
    // Special-token text in a prompt is ordinary text to count, not a reason to fail.
    const none = new Set<string>();
    fn = (t) => mod.countTokens(t, { disallowedSpecial: none });
    loaded[enc] = fn;
  }
  return fn;
}

/**
 * Text is tokenized in pieces of at most this many characters: BPE cost grows with the square of a
 * pre-token's length, and text without spaces (CJK, base64) is one pre-token (144 KB took 14 s whole, 30 ms
 * in 2 K pieces). Cuts between ASCII words leave the count unchanged; others drift by at most a token.
 */
export const CHUNK = 2 << 10;

/**
 * Where to cut long text for the tokenizer: the last space between ASCII letters in the second half of the
 * chunk (BPE never merges across it), else a code point boundary.
 */
export function splitPoint(text: string, max: number): number {
  if (text.length <= max) return text.length;
  const letter = (c: string | undefined) => c !== undefined && /[A-Za-z]/.test(c);
  for (let i = max; i > max / 2; i--) {
    if (text[i] === ' ' && letter(text[i - 1]) && letter(text[i + 1])) return i;
  }
  const c = text.charCodeAt(max);
  return c >= 0xdc00 && c <= 0xdfff ? max - 1 : max;
}

export function counterFor(provider: string, model: string): EncodingCounter {
  return counterForEncoding(encodingFor(provider, model));
}

export function counterForEncoding(encoding: Encoding): EncodingCounter {
  if (encoding === 'chars/4') return { encoding, count: (t) => charsToTokens(runeCount(t)) };
  return {
    encoding,
    count(text: string): number {
      const fn = bpe(encoding);
      let n = 0;
      while (text.length > 0) {
        const cut = splitPoint(text, CHUNK);
        const part = text.slice(0, cut);
        try {
          n += fn(part);
        } catch {
          n += charsToTokens(runeCount(part));
        }
        text = text.slice(cut);
      }
      return n;
    },
  };
}
