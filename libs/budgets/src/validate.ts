// Validation of a budget definition (API bodies, CLI flags, the config file, and the ledger before it stores
// one). Every error names its field (`amount_usd`, `scope.dims.team`, `thresholds[2]`), and defaults are filled:
// time_zone UTC, thresholds [50, 75, 90, 100], enforce false, a week's start_day 1 (Monday).
//
// amount_usd: an exact decimal string (a JSON number is accepted when it prints exactly), greater than zero,
// at most 15 integer and 10 fractional digits. custom from/to: ISO-8601 instants with a zone designator
// (`2026-01-01T00:00:00Z`, `...+02:00`), stored normalised to UTC (`toISOString`).
// Webhook URLs must be https; plain http only to a loopback host (local receivers, tests).
import {
  BUDGET_PERIODS,
  type BudgetPeriodKind,
  type BudgetScope,
  type BudgetSpec,
} from '@spendops/contracts';
import { canonicalTimeZone, isKnownTimeZone } from './zoned-time';

export interface FieldError {
  field: string;
  message: string;
}

export type BudgetValidation<T> = { ok: true; spec: T } | { ok: false; errors: FieldError[] };

export const DEFAULT_THRESHOLDS: readonly number[] = [50, 75, 90, 100];
export const MAX_THRESHOLD = 1000;
export const AMOUNT_PATTERN = /^\d{1,15}(\.\d{1,10})?$/;

/** Every field of a budget definition (BudgetSpec), in the API's order. */
export const BUDGET_SPEC_FIELDS = [
  'name',
  'scope',
  'period',
  'time_zone',
  'start_day',
  'from',
  'to',
  'amount_usd',
  'thresholds',
  'enforce',
  'owner',
  'webhook_url',
  'slack_webhook_url',
  'email',
] as const;
const SPEC_FIELDS = new Set<string>(BUDGET_SPEC_FIELDS);
const SCOPE_FIELDS = new Set(['tenant', 'key_id', 'provider', 'model', 'dims']);
/** Fields a patch may clear with null. */
const CLEARABLE = new Set(['owner', 'webhook_url', 'slack_webhook_url', 'email', 'start_day', 'from', 'to']);
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;
const EMAIL =
  /^[^\s@<>()[\]\\,;:"]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$/;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
const MAX_TEXT = 200;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function text(v: unknown, field: string, errors: FieldError[], max = MAX_TEXT): string | undefined {
  if (typeof v !== 'string' || v.trim() === '') {
    errors.push({ field, message: 'must be a non-empty string' });
    return undefined;
  }
  if (v.length > max) {
    errors.push({ field, message: `must be at most ${max} characters` });
    return undefined;
  }
  return v;
}

function validateScope(v: unknown, errors: FieldError[]): BudgetScope | undefined {
  if (!isObject(v)) {
    errors.push({ field: 'scope', message: 'must be an object (tenant, key_id, provider, model, dims)' });
    return undefined;
  }
  const scope: BudgetScope = {};
  for (const [key, value] of Object.entries(v)) {
    const field = `scope.${key}`;
    if (!SCOPE_FIELDS.has(key)) {
      errors.push({ field, message: 'unknown scope field (tenant, key_id, provider, model, dims)' });
      continue;
    }
    if (value === undefined) continue;
    if (key === 'dims') {
      if (!isObject(value)) {
        errors.push({ field, message: 'must be an object of dimension name to value' });
        continue;
      }
      const dims: Record<string, string> = {};
      for (const [dim, dimValue] of Object.entries(value)) {
        if (dim.trim() === '') errors.push({ field, message: 'dimension names must not be empty' });
        const ok = text(dimValue, `${field}.${dim}`, errors);
        if (ok !== undefined) dims[dim] = ok;
      }
      if (Object.keys(dims).length > 0) scope.dims = dims;
      continue;
    }
    const ok = text(value, field, errors);
    if (ok !== undefined) scope[key as Exclude<keyof BudgetScope, 'dims'>] = ok;
  }
  return scope;
}

function validateAmount(v: unknown, errors: FieldError[]): string | undefined {
  const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
  if (typeof s !== 'string' || !AMOUNT_PATTERN.test(s.trim())) {
    errors.push({
      field: 'amount_usd',
      message: 'must be a positive decimal string such as "100.00" (at most 10 decimal places)',
    });
    return undefined;
  }
  const trimmed = s.trim();
  if (!/[1-9]/.test(trimmed)) {
    errors.push({ field: 'amount_usd', message: 'must be greater than zero' });
    return undefined;
  }
  return trimmed;
}

function validateThresholds(v: unknown, errors: FieldError[]): number[] | undefined {
  if (!Array.isArray(v) || v.length === 0) {
    errors.push({ field: 'thresholds', message: 'must be a non-empty array of percentages' });
    return undefined;
  }
  if (v.length > 20) {
    errors.push({ field: 'thresholds', message: 'at most 20 thresholds' });
    return undefined;
  }
  const before = errors.length;
  v.forEach((t, i) => {
    const field = `thresholds[${i}]`;
    if (typeof t !== 'number' || !Number.isFinite(t))
      errors.push({ field, message: 'must be a number (a percentage)' });
    else if (t <= 0 || t > MAX_THRESHOLD)
      errors.push({ field, message: `must be greater than 0 and at most ${MAX_THRESHOLD}` });
    else if (i > 0 && typeof v[i - 1] === 'number' && t <= v[i - 1])
      errors.push({
        field,
        message: t === v[i - 1] ? 'duplicate threshold' : 'thresholds must be ascending',
      });
  });
  return errors.length === before ? (v as number[]) : undefined;
}

function validateUrl(v: unknown, field: string, errors: FieldError[]): string | undefined {
  const s = text(v, field, errors, 2000);
  if (s === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    errors.push({ field, message: 'must be an absolute https URL' });
    return undefined;
  }
  if (url.protocol === 'https:') return s;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return s;
  errors.push({ field, message: 'must be an https URL (http only to a loopback host)' });
  return undefined;
}

function validateEmails(v: unknown, errors: FieldError[]): string[] | undefined {
  if (!Array.isArray(v)) {
    errors.push({ field: 'email', message: 'must be an array of email addresses' });
    return undefined;
  }
  if (v.length > 20) {
    errors.push({ field: 'email', message: 'at most 20 addresses' });
    return undefined;
  }
  const before = errors.length;
  v.forEach((e, i) => {
    if (typeof e !== 'string' || e.length > 254 || !EMAIL.test(e))
      errors.push({ field: `email[${i}]`, message: 'must be an email address such as finops@example.com' });
  });
  return errors.length === before ? (v as string[]) : undefined;
}

function validateInstant(v: unknown, field: string, errors: FieldError[]): string | undefined {
  // The calendar date must exist (Date.parse rolls 2026-02-30 over to March 2).
  const ms = typeof v === 'string' && INSTANT.test(v) ? Date.parse(v) : NaN;
  const [y, m, d] = typeof v === 'string' ? v.slice(0, 10).split('-').map(Number) : [];
  const real = new Date(Date.UTC(y, m - 1, d));
  if (
    Number.isNaN(ms) ||
    real.getUTCFullYear() !== y ||
    real.getUTCMonth() !== m - 1 ||
    real.getUTCDate() !== d
  ) {
    errors.push({ field, message: 'must be an ISO-8601 time with a zone, such as 2026-01-01T00:00:00Z' });
    return undefined;
  }
  return new Date(ms).toISOString();
}

/** Field-by-field checks of whatever is present; the result holds only the valid fields. */
function checkFields(input: Record<string, unknown>, errors: FieldError[], partial: boolean) {
  const out: Partial<BudgetSpec> & Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (!SPEC_FIELDS.has(key)) {
      errors.push({ field: key, message: 'unknown field' });
      continue;
    }
    if (value === undefined) continue;
    if (value === null) {
      if (partial && CLEARABLE.has(key)) out[key] = null;
      else errors.push({ field: key, message: 'must not be null' });
      continue;
    }
    switch (key) {
      case 'name':
        out.name = text(value, 'name', errors);
        break;
      case 'scope':
        out.scope = validateScope(value, errors);
        break;
      case 'period':
        if (typeof value === 'string' && (BUDGET_PERIODS as readonly string[]).includes(value))
          out.period = value as BudgetPeriodKind;
        else errors.push({ field: 'period', message: `must be one of ${BUDGET_PERIODS.join(', ')}` });
        break;
      case 'time_zone':
        if (typeof value === 'string' && isKnownTimeZone(value)) out.time_zone = canonicalTimeZone(value);
        else
          errors.push({
            field: 'time_zone',
            message: 'must be an IANA time zone such as UTC or Europe/Paris',
          });
        break;
      case 'start_day':
        if (typeof value === 'number' && Number.isInteger(value)) out.start_day = value;
        else errors.push({ field: 'start_day', message: 'must be an integer' });
        break;
      case 'from':
      case 'to':
        out[key] = validateInstant(value, key, errors);
        break;
      case 'amount_usd':
        out.amount_usd = validateAmount(value, errors);
        break;
      case 'thresholds':
        out.thresholds = validateThresholds(value, errors);
        break;
      case 'enforce':
        if (typeof value === 'boolean') out.enforce = value;
        else errors.push({ field: 'enforce', message: 'must be true or false' });
        break;
      case 'owner':
        out.owner = text(value, 'owner', errors);
        break;
      case 'webhook_url':
      case 'slack_webhook_url':
        out[key] = validateUrl(value, key, errors);
        break;
      case 'email':
        out.email = validateEmails(value, errors);
        break;
    }
  }
  return out;
}

/** The rules that span fields, on a complete definition. */
function checkWhole(spec: BudgetSpec, errors: FieldError[]): void {
  const { period, start_day: startDay } = spec;
  if (period === 'fiscal_month') {
    if (startDay === undefined)
      errors.push({ field: 'start_day', message: 'required for a fiscal_month period (1..28)' });
    else if (startDay < 1 || startDay > 28)
      errors.push({ field: 'start_day', message: 'must be a day of the month from 1 to 28' });
  } else if (period === 'week') {
    if (startDay !== undefined && (startDay < 1 || startDay > 7))
      errors.push({ field: 'start_day', message: 'must be an ISO weekday from 1 (Monday) to 7 (Sunday)' });
  } else if (startDay !== undefined) {
    errors.push({ field: 'start_day', message: 'only for a week or fiscal_month period' });
  }
  if (period === 'custom') {
    if (!spec.from) errors.push({ field: 'from', message: 'required for a custom period' });
    if (!spec.to) errors.push({ field: 'to', message: 'required for a custom period' });
    if (spec.from && spec.to && Date.parse(spec.from) >= Date.parse(spec.to))
      errors.push({ field: 'to', message: 'must be after from' });
  } else {
    if (spec.from !== undefined) errors.push({ field: 'from', message: 'only for a custom period' });
    if (spec.to !== undefined) errors.push({ field: 'to', message: 'only for a custom period' });
  }
}

const REQUIRED: (keyof BudgetSpec)[] = ['name', 'period', 'amount_usd'];

/** A definition in the canonical key order with defaults filled and absent optionals left out. */
function complete(fields: Partial<BudgetSpec>): BudgetSpec {
  const spec: BudgetSpec = {
    name: fields.name as string,
    scope: fields.scope ?? {},
    period: fields.period as BudgetPeriodKind,
    time_zone: fields.time_zone ?? 'UTC',
    amount_usd: fields.amount_usd as string,
    thresholds: fields.thresholds ?? [...DEFAULT_THRESHOLDS],
    enforce: fields.enforce ?? false,
  };
  const startDay = fields.start_day ?? (spec.period === 'week' ? 1 : undefined);
  if (startDay !== undefined) spec.start_day = startDay;
  for (const key of ['from', 'to', 'owner', 'webhook_url', 'slack_webhook_url', 'email'] as const) {
    const value = fields[key];
    if (value !== undefined && value !== null) (spec as unknown as Record<string, unknown>)[key] = value;
  }
  return spec;
}

/**
 * Validate a whole definition (create, config file) and fill defaults. With `partial`, validate only the fields
 * given (a PATCH body: no required fields, no defaults, `null` clears an optional field); use
 * `applyBudgetPatch` to check the result as a whole.
 */
export function validateBudgetSpec(input: unknown, partial: true): BudgetValidation<BudgetPatch>;
export function validateBudgetSpec(input: unknown, partial?: false): BudgetValidation<BudgetSpec>;
export function validateBudgetSpec(
  input: unknown,
  partial = false,
): BudgetValidation<BudgetSpec> | BudgetValidation<BudgetPatch> {
  if (!isObject(input)) return { ok: false, errors: [{ field: '(body)', message: 'must be an object' }] };
  const errors: FieldError[] = [];
  const fields = checkFields(input, errors, partial);
  if (partial) return errors.length ? { ok: false, errors } : { ok: true, spec: fields as BudgetPatch };
  for (const key of REQUIRED)
    if (input[key] === undefined || input[key] === null) errors.push({ field: key, message: 'required' });
  if (errors.length) return { ok: false, errors };
  const spec = complete(fields);
  checkWhole(spec, errors);
  return errors.length ? { ok: false, errors } : { ok: true, spec };
}

/** A validated PATCH: the fields to set; `null` clears an optional field. */
export type BudgetPatch = { [K in keyof BudgetSpec]?: BudgetSpec[K] | null };

/**
 * The definition after a patch, validated as a whole. A given `scope` replaces the whole scope. Changing the
 * period drops the old period's start_day/from/to unless the patch sets them.
 */
export function applyBudgetPatch(base: BudgetSpec, patch: unknown): BudgetValidation<BudgetSpec> {
  const checked = validateBudgetSpec(patch, true);
  if (!checked.ok) return checked;
  const p = checked.spec;
  const merged: Record<string, unknown> = { ...base };
  if (p.period !== undefined && p.period !== base.period)
    for (const key of ['start_day', 'from', 'to']) delete merged[key];
  for (const [key, value] of Object.entries(p)) {
    if (value === null) delete merged[key];
    else if (value !== undefined) merged[key] = value;
  }
  return validateBudgetSpec(merged);
}

/** The names of the fields whose values differ (for BudgetChanged.changed). */
export function changedFields(before: BudgetSpec, after: BudgetSpec): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  const a = before as unknown as Record<string, unknown>;
  const b = after as unknown as Record<string, unknown>;
  return [...SPEC_FIELDS].filter((k) => keys.has(k) && JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

/** "amount_usd: must be ...; period: ..." — the message of a validation error. */
export function describeErrors(errors: FieldError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join('; ');
}
