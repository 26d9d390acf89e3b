// The config file's `budgets:` list: each entry a budget definition with the admin API's field names (name, scope,
// period, time_zone, start_day, from, to, amount_usd, thresholds, enforce, owner, webhook_url, slack_webhook_url,
// email). Checked with the budget rules every other entry point uses (libs/budgets); an invalid entry fails start
// naming it (`budgets[1].amount_usd: ...`). `spendops serve` applies them as the actor `config` under an id derived
// from the name, so a restart updates the same budgets instead of adding new ones.
import type { BudgetSpec } from '@spendops/contracts';
import { validateBudgetSpec } from '@spendops/budgets';
import { ConfigError } from './config';

export function parseBudgetsConfig(value: unknown): BudgetSpec[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigError('budgets: must be a list');
  const names = new Map<string, number>();
  return value.map((entry, i) => {
    const field = `budgets[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw new ConfigError(`${field}: must be a mapping`);
    const checked = validateBudgetSpec(entry);
    if (!checked.ok) {
      const [first] = checked.errors;
      throw new ConfigError(`${field}.${first.field}: ${first.message}`);
    }
    const earlier = names.get(checked.spec.name);
    if (earlier !== undefined)
      throw new ConfigError(
        `${field}.name: "${checked.spec.name}" is already the name of budgets[${earlier}]`,
      );
    names.set(checked.spec.name, i);
    return checked.spec;
  });
}
