// Checks a key policy before it is stored (auth service, CLI): every problem is reported at once.
import type { KeyPolicy } from '@spendops/contracts';
import { isDimKey, isDimValue } from './dims';
import {
  HARD_MAX_DIMS,
  HARD_MAX_KEY_LEN,
  HARD_MAX_PRESET_DIMS,
  HARD_MAX_VALUE_LEN,
  dimsLimitsOf,
} from './policy-defaults';
import { codePointLength, goQuote, hasEdgeSpace } from './text';

const MAX_PATTERN_LEN = 256;

export function isProviderName(s: string): boolean {
  return /^[a-z0-9-]{1,64}$/.test(s);
}

/** Why a model pattern is malformed, or null when it is `*`, `provider:exact` or `provider:prefix*`. */
export function patternProblem(pat: string): string | null {
  if (pat === '*') return null;
  if (Buffer.byteLength(pat, 'utf8') > MAX_PATTERN_LEN) return `longer than ${MAX_PATTERN_LEN} bytes`;
  const colon = pat.indexOf(':');
  if (colon < 0) return 'want "*", "provider:model" or "provider:prefix*"';
  const prov = pat.slice(0, colon);
  const model = pat.slice(colon + 1);
  if (!isProviderName(prov)) return `provider ${goQuote(prov)} must be a provider name ([a-z0-9-], 1-64)`;
  if (model === '') return 'empty model (use "provider:*" for all of a provider\'s models)';
  const star = model.indexOf('*');
  if (star >= 0 && star !== model.length - 1) return '"*" is allowed only at the end';
  if (hasEdgeSpace(model)) return 'surrounding spaces in the model';
  if (!isDimValue(model)) return 'control or invisible character in the model';
  return null;
}

/** The problems of a policy (empty when it may be stored), one human-readable line each. */
export function validatePolicy(p: KeyPolicy): string[] {
  const errs: string[] = [];
  (p.providers ?? []).forEach((name, i) => {
    if (name !== '*' && !isProviderName(name)) {
      errs.push(`providers[${i}]: ${goQuote(name)} is not "*" or a provider name ([a-z0-9-], 1-64)`);
    }
  });
  (p.models ?? []).forEach((pat, i) => {
    const why = patternProblem(pat);
    if (why) errs.push(`models[${i}]: ${goQuote(pat)}: ${why}`);
  });
  const limit = (name: string, v: number, hard: number) => {
    if (!Number.isInteger(v) || v < 0 || v > hard)
      errs.push(`${name}: ${v} is outside 0..${hard} (0 means the default)`);
  };
  limit('max_dims', p.max_dims, HARD_MAX_DIMS);
  limit('max_key_len', p.max_key_len, HARD_MAX_KEY_LEN);
  limit('max_value_len', p.max_value_len, HARD_MAX_VALUE_LEN);
  const l = dimsLimitsOf(p);
  const key = (field: string, k: string) => {
    if (!isDimKey(k)) {
      errs.push(
        `${field}: key ${goQuote(k)} must be letters, digits, '_', '.' or '-', starting with a letter or digit`,
      );
    } else if (k.toLowerCase() !== k) errs.push(`${field}: key ${goQuote(k)} must be lower-case`);
    else if (k.length > l.maxKeyLen)
      errs.push(`${field}: key ${goQuote(k)} is longer than ${l.maxKeyLen} characters`);
  };
  (p.dims_allowed ?? []).forEach((a, i) => {
    if (a !== '*') key(`dims_allowed[${i}]`, a);
  });
  const preset = (field: string, m: Record<string, string>) => {
    for (const k of Object.keys(m).sort()) {
      key(field, k);
      const v = m[k];
      if (typeof v !== 'string' || v === '' || hasEdgeSpace(v)) {
        errs.push(`${field}[${goQuote(k)}]: value must be non-empty with no surrounding spaces`);
      } else if (!isDimValue(v))
        errs.push(`${field}[${goQuote(k)}]: value has a control or invisible character`);
      else if (codePointLength(v) > l.maxValueLen) {
        errs.push(`${field}[${goQuote(k)}]: value is longer than ${l.maxValueLen} characters`);
      }
    }
  };
  const pinned = p.dims_pinned ?? {};
  const defaults = p.dims_default ?? {};
  preset('dims_pinned', pinned);
  preset('dims_default', defaults);
  for (const k of Object.keys(pinned).sort()) {
    if (Object.hasOwn(defaults, k)) errs.push(`dims: key ${goQuote(k)} is both pinned and defaulted`);
  }
  const n = Object.keys(pinned).length + Object.keys(defaults).length;
  if (n > HARD_MAX_PRESET_DIMS)
    errs.push(`dims: ${n} pinned and default dimensions, at most ${HARD_MAX_PRESET_DIMS}`);
  errs.push(...rateLimitsProblems(p.rate_limits));
  return errs;
}

/** The largest per-minute limit a key may set (requests or tokens): a number JavaScript counts exactly. */
export const MAX_RATE_LIMIT = 1_000_000_000_000;
/** At most this many dimension keys may carry their own limits. */
export const MAX_RATE_LIMIT_DIMS = 16;
const RATE_LIMIT_FIELDS = ['requests_per_minute', 'tokens_per_minute', 'usd_per_hour'] as const;
/** Positive decimal USD, at most 6 decimals (the limiter counts micro-dollars exactly), at most 1e9. */
const USD_LIMIT = /^(0|[1-9]\d{0,8})(\.\d{1,6})?$/;

/** The problems of a key's `rate_limits` (docs/rate-limits.md), each naming the field. */
export function rateLimitsProblems(rl: unknown): string[] {
  if (rl === undefined || rl === null) return [];
  if (!isPlainObject(rl)) return ['rate_limits: must be an object'];
  const errs: string[] = [];
  const values = (field: string, v: Record<string, unknown>, allowed: readonly string[]) => {
    for (const k of Object.keys(v).sort()) {
      if (!allowed.includes(k)) errs.push(`${field}.${k}: unknown field (want ${allowed.join(', ')})`);
    }
    for (const name of ['requests_per_minute', 'tokens_per_minute'] as const) {
      const n = v[name];
      if (n === undefined) continue;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_RATE_LIMIT) {
        errs.push(
          `${field}.${name}: ${JSON.stringify(n)} must be a positive integer (at most ${MAX_RATE_LIMIT})`,
        );
      }
    }
    const usd = v.usd_per_hour;
    if (usd !== undefined && (typeof usd !== 'string' || !USD_LIMIT.test(usd) || Number(usd) <= 0)) {
      errs.push(
        `${field}.usd_per_hour: ${JSON.stringify(usd)} must be a positive decimal string of USD (e.g. "12.50", at most 6 decimals)`,
      );
    }
  };
  values('rate_limits', rl, [...RATE_LIMIT_FIELDS, 'per_dimension']);
  const per = rl.per_dimension;
  if (per === undefined || per === null) return errs;
  if (!isPlainObject(per)) return [...errs, 'rate_limits.per_dimension: must be an object of dimension keys'];
  const keys = Object.keys(per).sort();
  if (keys.length > MAX_RATE_LIMIT_DIMS) {
    errs.push(`rate_limits.per_dimension: ${keys.length} dimension keys, at most ${MAX_RATE_LIMIT_DIMS}`);
  }
  for (const k of keys) {
    const field = `rate_limits.per_dimension[${goQuote(k)}]`;
    if (!isDimKey(k) || k.toLowerCase() !== k) {
      errs.push(`${field}: key must be a lower-case dimension key (letters, digits, '_', '.', '-')`);
      continue;
    }
    const v = per[k];
    if (!isPlainObject(v)) errs.push(`${field}: must be an object of limits`);
    else values(field, v, RATE_LIMIT_FIELDS);
  }
  return errs;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
