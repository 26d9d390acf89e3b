// SpendOps API keys: `aso_k_{id}.{secret}`. Only an HMAC-SHA-256 of the full key under a server secret is stored.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const KEY_PREFIX = 'aso_k_';

const ID_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32, ULID-like
const ID_LEN = 16; // 80 random bits
const SECRET_BYTES = 32; // 256 random bits
const MAX_ID_LEN = 64;
const MIN_SECRET = 16;
const MAX_SECRET = 256;
const MAX_KEY_LEN = KEY_PREFIX.length + MAX_ID_LEN + 1 + MAX_SECRET;

const ID_CHARS = /^[0-9A-Za-z]+$/;
const SECRET_CHARS = /^[0-9A-Za-z\-_+/=]+$/;

/** A new key id (16 Crockford characters). */
export function generateKeyId(): string {
  const b = randomBytes(ID_LEN);
  let id = '';
  for (const byte of b) id += ID_ALPHABET[byte & 31];
  return id;
}

/** A full key for `id` with a fresh 256-bit secret (base64url, no padding). */
export function generateKey(id: string = generateKeyId()): { id: string; key: string } {
  return { id, key: `${KEY_PREFIX}${id}.${randomBytes(SECRET_BYTES).toString('base64url')}` };
}

/**
 * The id of a key, or null when the string is not a key. Shape only: the prefix, an id of [0-9A-Za-z] (1-64), a
 * dot, and a secret of 16-256 base64 characters (standard or URL alphabet, optional padding).
 */
export function parseKeyId(key: string): string | null {
  if (key.length > MAX_KEY_LEN || !key.startsWith(KEY_PREFIX)) return null;
  const dot = key.indexOf('.', KEY_PREFIX.length);
  const idLen = dot - KEY_PREFIX.length;
  if (dot < 0 || idLen < 1 || idLen > MAX_ID_LEN) return null;
  const id = key.slice(KEY_PREFIX.length, dot);
  const secret = key.slice(dot + 1);
  if (secret.length < MIN_SECRET || secret.length > MAX_SECRET) return null;
  if (!ID_CHARS.test(id) || !SECRET_CHARS.test(secret)) return null;
  return id;
}

/** The server secret from its hex form (at least 32 bytes). */
export function serverSecretFromHex(hex: string): Buffer {
  const s = hex.trim();
  if (!/^([0-9a-fA-F]{2}){32,}$/.test(s)) throw new Error('server secret: want at least 64 hex characters');
  return Buffer.from(s, 'hex');
}

/** HMAC-SHA-256 of the full key under the server secret: the only form of a key that is stored. */
export function hashKey(serverSecret: Buffer, key: string): Buffer {
  return createHmac('sha256', serverSecret).update(key, 'utf8').digest();
}

/** The stored (hex) form of a key's hash. */
export function hashKeyHex(serverSecret: Buffer, key: string): string {
  return hashKey(serverSecret, key).toString('hex');
}

/** Compares two hashes in constant time (false on different lengths). */
export function hashesEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
