// The documented defaults of a key policy (docs/dimensions.md). A zero or missing number and an empty `dims_allowed`
// mean the default, so a stored policy written before a default changed keeps meaning "the default".
import type { KeyPolicy } from '@spendops/contracts';

export const DEFAULT_ALLOWED_DIMS: readonly string[] = ['team', 'env', 'app'];
export const DEFAULT_MAX_DIMS = 8;
export const DEFAULT_MAX_KEY_LEN = 32;
export const DEFAULT_MAX_VALUE_LEN = 64;

/** Hard caps a policy may raise its limits to. */
export const HARD_MAX_DIMS = 64;
export const HARD_MAX_KEY_LEN = 128;
export const HARD_MAX_VALUE_LEN = 1024;
/** At most this many pinned and default dimensions together. */
export const HARD_MAX_PRESET_DIMS = 64;

/** The policy of a key created without one: every provider and model, optional team/env/app dimensions. */
export function defaultPolicy(): KeyPolicy {
  return {
    providers: ['*'],
    models: ['*'],
    dims_required: false,
    dims_allowed: [...DEFAULT_ALLOWED_DIMS],
    max_dims: DEFAULT_MAX_DIMS,
    max_key_len: DEFAULT_MAX_KEY_LEN,
    max_value_len: DEFAULT_MAX_VALUE_LEN,
    dims_pinned: {},
    dims_default: {},
  };
}

/** A complete policy from a partial one: missing (or undefined) fields take the defaults. */
export function withDefaults(p: Partial<KeyPolicy> | undefined): KeyPolicy {
  return { ...defaultPolicy(), ...definedFields(p ?? {}) };
}

/** The fields of `p` that are not undefined (a DTO instance declares every optional field). */
export function definedFields<T extends object>(p: T): Partial<T> {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The dimension limits of a policy with its defaults resolved. */
export interface DimsLimits {
  maxPairs: number;
  maxKeyLen: number;
  maxValueLen: number;
  anyKey: boolean;
  allowed: readonly string[];
}

export function dimsLimitsOf(
  p: Pick<KeyPolicy, 'max_dims' | 'max_key_len' | 'max_value_len' | 'dims_allowed'>,
): DimsLimits {
  const allowed = p.dims_allowed && p.dims_allowed.length > 0 ? p.dims_allowed : DEFAULT_ALLOWED_DIMS;
  return {
    maxPairs: p.max_dims > 0 ? p.max_dims : DEFAULT_MAX_DIMS,
    maxKeyLen: p.max_key_len > 0 ? p.max_key_len : DEFAULT_MAX_KEY_LEN,
    maxValueLen: p.max_value_len > 0 ? p.max_value_len : DEFAULT_MAX_VALUE_LEN,
    anyKey: allowed.includes('*'),
    allowed,
  };
}
