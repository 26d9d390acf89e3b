// Deterministic ids and numbers from a request's seed, so a direct call and a proxied call with the same seed
// get byte-identical replies.

/** FNV-1a, 32 bits: spreads a seed into the numbers a reply is built from. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** `n` hex digits derived from the seed. */
export function hexId(seed: string, salt: string, n: number): string {
  let out = '';
  for (let i = 0; out.length < n; i++) out += hash32(`${seed}|${salt}|${i}`).toString(16).padStart(8, '0');
  return out.slice(0, n);
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** An `n`-character base62 id derived from the seed. */
export function alnumId(seed: string, salt: string, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += BASE62[hash32(`${seed}|${salt}|${i}`) % 62];
  return out;
}

/** A value in [-1, 1] with three decimals (embedding components). */
export function unitValue(key: string): number {
  return ((hash32(key) % 2001) - 1000) / 1000;
}

/** The scripted assistant text, streamed word by word. */
export const REPLY_WORDS = ['Hello', ' from', ' the', ' scripted', ' upstream', '.'];
export const REPLY_TEXT = REPLY_WORDS.join('');

/** The JSON arguments the scripted model calls tools with, and how streams split them. */
export const TOOL_ARGS = '{"city":"Paris"}';
export const TOOL_ARG_PARTS = ['{"', 'city', '":"', 'Paris', '"}'];
