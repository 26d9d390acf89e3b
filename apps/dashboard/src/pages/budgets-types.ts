// The budget shapes of the admin API (GET /api/v1/budgets, /api/v1/budgets/{id}/alerts; interface.md "Budgets").

export interface BudgetScope {
  tenant?: string;
  key_id?: string;
  provider?: string;
  model?: string;
  dims?: Record<string, string>;
}

export interface Budget {
  id: string;
  name: string;
  scope: BudgetScope;
  period: 'day' | 'week' | 'month' | 'fiscal_month' | 'custom';
  time_zone: string;
  start_day?: number;
  amount_usd: string;
  thresholds: number[];
  enforce: boolean;
  owner?: string;
  webhook_url?: string;
  slack_webhook_url?: string;
  email?: string[];
  period_start: string;
  period_end: string;
  spent_usd: string;
  percent_used: string;
  forecast_usd: string;
  exhausted: boolean;
}

export interface BudgetAlertDelivery {
  channel: 'webhook' | 'slack' | 'email' | 'bus';
  target: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_error?: string;
  delivered_at?: string;
}

export interface BudgetAlert {
  threshold: number;
  crossed_at: string;
  spent_usd: string;
  period_start: string;
  deliveries: BudgetAlertDelivery[];
}

const PERIOD_NAMES: Record<Budget['period'], string> = {
  day: 'Daily',
  week: 'Weekly',
  month: 'Monthly',
  fiscal_month: 'Fiscal month',
  custom: 'Custom range',
};

export function periodName(b: Budget): string {
  const start = b.period === 'fiscal_month' && b.start_day ? ` from day ${b.start_day}` : '';
  return `${PERIOD_NAMES[b.period] ?? b.period}${start}`;
}

export function scopeText(s: BudgetScope): string {
  const parts = [
    s.tenant && `tenant ${s.tenant}`,
    s.key_id && `key ${s.key_id}`,
    s.provider && `provider ${s.provider}`,
    s.model && `model ${s.model}`,
    ...Object.entries(s.dims ?? {}).map(([k, v]) => `${k}=${v}`),
  ].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'All spend';
}

/** Where 0..100 % of the amount and each threshold sit on a bar whose end is the largest of them (≥ 100 %). */
export function barScale(
  percentUsed: number,
  thresholds: number[],
): { max: number; at: (pct: number) => number } {
  const max = Math.max(100, ...thresholds, Number.isFinite(percentUsed) ? percentUsed : 0);
  return { max, at: (pct: number) => Math.min(100, Math.max(0, (pct / max) * 100)) };
}
