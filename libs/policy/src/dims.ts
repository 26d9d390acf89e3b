// The X-ASO-Dims header: grammar, limits, allowed keys, pinned and default dimensions. Every rule and text is
// written down in docs/dimensions.md of the reference.
import type { KeyPolicy } from '@spendops/contracts';
import { type PolicyDenial, dimsDenial } from './denial';
import { JsonScanner, JsonSyntaxError } from './json-scanner';
import { compileDims } from './compiled-policy';
import { plainDimsPairs } from './dims-plain';
import {
  codePointLength,
  decodeLatin1Header,
  isGraphicText,
  isWellFormed,
  quoteShort,
  trimSpace,
} from './text';

export const DIMS_HEADER = 'X-ASO-Dims';

export const MSG_DIMS_REQUIRED = 'Dimensions are required (X-ASO-Dims header)';
export const MSG_KEY_TOO_LONG = 'Dimension key too long';
export const MSG_VALUE_TOO_LONG = 'Dimension value too long';
const INVALID = 'Invalid X-ASO-Dims: ';

export type Dims = Record<string, string>;
export type DimsPolicy = Pick<
  KeyPolicy,
  | 'dims_required'
  | 'dims_allowed'
  | 'max_dims'
  | 'max_key_len'
  | 'max_value_len'
  | 'dims_pinned'
  | 'dims_default'
>;
export type DimsResult = { ok: true; dims: Dims } | { ok: false; denial: PolicyDenial };

const invalid = (why: string): DimsResult => ({ ok: false, denial: dimsDenial(INVALID + why) });
const fail = (message: string): DimsResult => ({ ok: false, denial: dimsDenial(message) });
const tooMany = (max: number) => fail(`Too many dimension pairs (max ${max})`);

/** Thrown inside the JSON walk to stop at a dimension error. */
class DimsStop extends Error {
  constructor(readonly result: DimsResult) {
    super('dims');
  }
}

type Pair = [key: string, value: string];

/**
 * Parses the raw `X-ASO-Dims` values of one request as Node delivers them (latin1: one char per byte; the
 * bytes must be UTF-8) and applies the key's dimensions policy.
 */
export function parseDimsHeader(rawValues: readonly string[], p: DimsPolicy): DimsResult {
  const decoded: string[] = [];
  for (const raw of rawValues) {
    const v = decodeLatin1Header(raw);
    if (v === null)
      return rawValues.length > 1 ? invalid('header sent more than once') : invalid('not valid UTF-8');
    decoded.push(v);
  }
  return parseDims(decoded, p);
}

/**
 * Parses the `X-ASO-Dims` values of one request (already decoded text) and applies the key's dimensions
 * policy: limits, allowed keys, pinned and default dimensions. Returns the dimensions to record (request,
 * defaults and pinned merged) or a 400 denial.
 */
export function parseDims(values: readonly string[], p: DimsPolicy): DimsResult {
  const c = compileDims(p);
  if (values.length > 1) return invalid('header sent more than once');
  let pairs: Pair[] = [];
  if (values.length === 1) {
    const parsed = parseDimsValue(values[0], c.maxPairs);
    if (!Array.isArray(parsed)) return parsed;
    pairs = parsed;
  }
  if (pairs.length === 0 && c.required) return fail(MSG_DIMS_REQUIRED);
  for (const [k, v] of pairs) {
    if (k.length > c.maxKeyLen) return fail(MSG_KEY_TOO_LONG);
    if (!c.anyKey && !c.allowedSet.has(k) && !c.pinned.has(k) && !c.defaults.has(k)) {
      return fail(`Dimension key ${quoteShort(k)} not allowed`);
    }
    if (codePointLength(v) > c.maxValueLen) return fail(MSG_VALUE_TOO_LONG);
    const pin = c.pinned.get(k);
    if (pin !== undefined && pin !== v) {
      return fail(`Dimension ${quoteShort(k)} is pinned by API key policy and cannot be changed`);
    }
  }
  // Built by assignment: spreading the defaults and then adding keys is ~300x slower in V8.
  const out: Dims = {};
  for (const [k, v] of c.defaults) setDim(out, k, v);
  for (const [k, v] of pairs) setDim(out, k, v);
  for (const [k, v] of c.pinned) setDim(out, k, v);
  return { ok: true, dims: out };
}

/** out[k] = v as an own data property, even for a key named `__proto__`. */
function setDim(out: Dims, k: string, v: string): void {
  if (k === '__proto__')
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}

/** Splits one header value into pairs (syntax only), stopping as soon as more than `maxPairs` are seen. */
function parseDimsValue(raw: string, maxPairs: number): Pair[] | DimsResult {
  const plain = plainDimsPairs(raw, maxPairs);
  if (plain !== null) return plain;
  if (!isWellFormed(raw)) return invalid('not valid UTF-8');
  const v = trimSpace(raw);
  if (v === '') return [];
  if (v[0] === '{') return parseDimsJson(v, maxPairs);
  const pairs: Pair[] = [];
  for (const rawElem of v.split(',')) {
    const elem = trimSpace(rawElem);
    if (elem === '') continue; // empty list elements are ignored (RFC 9110, 5.6.1)
    if (pairs.length === maxPairs) return tooMany(maxPairs);
    const eq = elem.indexOf('=');
    if (eq < 0) return invalid(`${quoteShort(elem)} has no "=" (want key=value)`);
    const k = trimSpace(elem.slice(0, eq));
    const val = trimSpace(elem.slice(eq + 1));
    if (val.includes('=')) return invalid(`value of ${quoteShort(k)} contains "=" (use the JSON form)`);
    if (val.includes('"')) return invalid(`value of ${quoteShort(k)} contains '"' (use the JSON form)`);
    const err = addPair(pairs, k, val);
    if (err) return err;
  }
  return pairs;
}

function parseDimsJson(v: string, maxPairs: number): Pair[] | DimsResult {
  const s = new JsonScanner(Buffer.from(v, 'utf8'));
  const pairs: Pair[] = [];
  try {
    s.object((key) => {
      if (pairs.length === maxPairs) throw new DimsStop(tooMany(maxPairs));
      const k = s.text(key);
      if (s.peek() !== 0x22) {
        s.skip(0);
        throw new DimsStop(invalid(`value of ${quoteShort(k)} must be a string`));
      }
      const value = s.text(s.str());
      const err = addPair(pairs, trimSpace(k), trimSpace(value));
      if (err) throw new DimsStop(err);
    });
  } catch (e) {
    if (e instanceof DimsStop) return e.result;
    if (e instanceof JsonSyntaxError) return invalid('malformed JSON object');
    throw e;
  }
  if (!s.end()) return invalid('malformed JSON object');
  return pairs;
}

/** Checks one trimmed key and value and appends them, lower-casing the key. */
function addPair(pairs: Pair[], rawKey: string, v: string): DimsResult | undefined {
  if (rawKey === '') return invalid('empty dimension key');
  if (!isDimKey(rawKey)) {
    return invalid(
      `dimension key ${quoteShort(rawKey)} must be letters, digits, '_', '.' or '-', starting with a letter or digit`,
    );
  }
  const k = rawKey.toLowerCase();
  if (v === '') return invalid(`empty value for dimension ${quoteShort(k)}`);
  if (!isGraphicText(v))
    return invalid(`value of dimension ${quoteShort(k)} has a control or invisible character`);
  if (pairs.some(([pk]) => pk === k)) return invalid(`duplicate dimension key ${quoteShort(k)}`);
  pairs.push([k, v]);
  return undefined;
}

/** `[A-Za-z0-9][A-Za-z0-9_.-]*`. */
export function isDimKey(k: string): boolean {
  if (k === '') return false;
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    const alnum = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
    if (!alnum && !(i > 0 && (c === 0x5f || c === 0x2e || c === 0x2d))) return false;
  }
  return true;
}

/** Whether every character of a dimension value is allowed (graphic). */
export function isDimValue(v: string): boolean {
  return isWellFormed(v) && isGraphicText(v);
}

/**
 * Writes dims in the canonical X-ASO-Dims form: keys sorted, the simple form when every value can be written in
 * it, else the JSON form. Parsing the result gives back the same dims.
 */
export function formatDims(dims: Dims): string {
  const keys = Object.keys(dims).sort();
  const simple = keys.every((k) => !/[,="]/.test(dims[k]) && trimSpace(dims[k]) === dims[k]);
  if (simple) return keys.map((k) => `${k}=${dims[k]}`).join(',');
  return '{' + keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(dims[k])}`).join(',') + '}';
}
