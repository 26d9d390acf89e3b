// The budget rules class-validator cannot say on one field: required fields of a new budget, dimension values,
// thresholds ascending and unique, a custom period's range, the start day of a week, notification URLs. Each
// problem names its field (`thresholds[2]`, `scope.dims.team`). A PATCH is checked on the fields it gives; the
// ledger checks the merged definition again.
import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import type { BudgetFieldsDto } from './budget.dto';

export interface FieldProblem {
  field: string;
  message: string;
}

const REQUIRED_ON_CREATE = ['name', 'period', 'amount_usd'] as const;
const MAX_THRESHOLD = 1000;

/** https anywhere; plain http only to this machine (tests, a local relay). */
export function notificationUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol === 'https:') return null;
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol === 'http:' && loopback) return null;
  return 'must be an https:// URL (http:// only to 127.0.0.1 or localhost)';
}

export function budgetProblems(body: BudgetFieldsDto, creating: boolean): FieldProblem[] {
  const out: FieldProblem[] = [];
  const add = (field: string, message: string) => out.push({ field, message });
  if (creating) for (const f of REQUIRED_ON_CREATE) if (body[f] === undefined) add(f, 'is required');

  for (const [key, value] of Object.entries(body.scope?.dims ?? {})) {
    if (key === '' || key.length > 200) add('scope.dims', 'dimension keys must be 1 to 200 characters');
    else if (typeof value !== 'string' || value === '' || value.length > 200)
      add(`scope.dims.${key}`, 'must be a string of 1 to 200 characters');
  }

  const t = body.thresholds;
  if (t) {
    if (t.length === 0) add('thresholds', 'give at least one threshold');
    t.forEach((v, i) => {
      if (!(v > 0 && v <= MAX_THRESHOLD))
        add(`thresholds[${i}]`, `must be above 0 and at most ${MAX_THRESHOLD}`);
      else if (i > 0 && !(v > t[i - 1])) add(`thresholds[${i}]`, 'thresholds must be ascending and unique');
    });
  }

  if (body.period === 'week' && body.start_day !== undefined && body.start_day > 7)
    add('start_day', 'for a week, 1 (Monday) to 7 (Sunday)');
  if (
    body.period !== undefined &&
    !['week', 'fiscal_month'].includes(body.period) &&
    body.start_day !== undefined
  )
    add('start_day', 'applies to week and fiscal_month periods only');
  if (body.period === 'custom') {
    if (creating && body.from === undefined) add('from', 'is required for a custom period');
    if (creating && body.to === undefined) add('to', 'is required for a custom period');
  } else if (body.period !== undefined) {
    if (body.from !== undefined) add('from', 'applies to a custom period only');
    if (body.to !== undefined) add('to', 'applies to a custom period only');
  }
  if (body.from !== undefined && body.to !== undefined && !(Date.parse(body.from) < Date.parse(body.to)))
    add('to', 'must be after from');

  for (const field of ['webhook_url', 'slack_webhook_url'] as const) {
    const value = body[field];
    const problem = value === undefined ? null : notificationUrlProblem(value);
    if (problem) add(field, problem);
  }
  return out;
}

/** 400 naming the first field at fault, every problem in the message. */
export function problemsError(problems: FieldProblem[]): ApiError {
  return new ApiError(
    HttpStatus.BAD_REQUEST,
    problems.map((p) => `${p.field}: ${p.message}`).join('; '),
    problems[0]?.field,
  );
}

export function assertBudgetFields(body: BudgetFieldsDto, creating: boolean): void {
  const problems = budgetProblems(body, creating);
  if (problems.length > 0) throw problemsError(problems);
}
