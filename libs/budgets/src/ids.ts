// Budget identifiers: `bud_` + 16 lowercase hex characters; the event stream of a budget is `budget:{id}`.
import { createHash, randomBytes } from 'node:crypto';

export const BUDGET_ID_PATTERN = /^bud_[0-9a-f]{16}$/;

export function newBudgetId(): string {
  return `bud_${randomBytes(8).toString('hex')}`;
}

/** A stable id for a budget named in the config file, so applying the file again updates the same budget. */
export function budgetIdFromName(name: string): string {
  return `bud_${createHash('sha256').update(`spendops.budget\u0000${name}`).digest('hex').slice(0, 16)}`;
}

export function isBudgetId(value: unknown): value is string {
  return typeof value === 'string' && BUDGET_ID_PATTERN.test(value);
}

export function budgetStreamId(id: string): string {
  return `budget:${id}`;
}

/** A fresh webhook signing secret: 32 random bytes, hex. */
export function newWebhookSecret(): string {
  return randomBytes(32).toString('hex');
}
