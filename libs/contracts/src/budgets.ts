// Budgets: the shapes shared by the ledger (which owns budgets and evaluates them), the admin API and CLI
// (which manage them), the alert notifier, and the proxies (which enforce them from a replica).
// interface.md "Budgets (admin API)" is the wire contract; every money value is an exact decimal string.

export const BUDGET_PERIODS = ['day', 'week', 'month', 'fiscal_month', 'custom'] as const;
export type BudgetPeriodKind = (typeof BUDGET_PERIODS)[number];

/** Every field optional; all given must match (dims: every listed key has that value). */
export interface BudgetScope {
  tenant?: string;
  key_id?: string;
  provider?: string;
  model?: string;
  dims?: Record<string, string>;
}

/** The user-supplied definition (the body of `POST /api/v1/budgets`, after validation and defaults). */
export interface BudgetSpec {
  name: string;
  scope: BudgetScope;
  period: BudgetPeriodKind;
  /** IANA zone the period boundaries are computed in (default `UTC`). */
  time_zone: string;
  /** `fiscal_month`: day of month 1..28 the period starts on. `week`: ISO weekday 1 (Mon)..7 (default 1). */
  start_day?: number;
  /** `custom`: the range, ISO-8601 instants, `from` inclusive, `to` exclusive. */
  from?: string;
  to?: string;
  amount_usd: string;
  /** Percent thresholds, ascending, unique, > 0 (default [50, 75, 90, 100]). */
  thresholds: number[];
  enforce: boolean;
  /** Who is notified: free text shown in the UI and alerts (e.g. `finops@corp.example`). */
  owner?: string;
  /** Generic signed JSON webhook. */
  webhook_url?: string;
  /** Slack incoming-webhook URL (Slack message format, unsigned: Slack verifies by URL). */
  slack_webhook_url?: string;
  /** SMTP recipients. */
  email?: string[];
}

export interface BudgetRecord extends BudgetSpec {
  id: string;
  created_at: string;
  updated_at: string;
}

/** A budget as the API shows it: the definition plus its current period's state. */
export interface BudgetView extends BudgetRecord {
  period_start: string;
  period_end: string;
  spent_usd: string;
  /** spent / amount × 100, two decimals. */
  percent_used: string;
  /** Month-end (period-end) projection from the run rate so far, decimal string. */
  forecast_usd: string;
  /** Enforcing and used up (spend alone, reservations are per proxy). */
  exhausted: boolean;
}

/** Event types the ledger stores in the event store (stream = `budget:{id}`). */
export const BudgetEventTypes = {
  defined: 'BudgetDefined',
  changed: 'BudgetChanged',
  removed: 'BudgetRemoved',
  thresholdCrossed: 'BudgetThresholdCrossed',
} as const;

export interface BudgetDefinedData {
  budget: BudgetRecord;
  actor: string;
}
export interface BudgetChangedData {
  budget: BudgetRecord;
  /** The field names that changed. */
  changed: string[];
  actor: string;
}
export interface BudgetRemovedData {
  budget_id: string;
  actor: string;
}
/** Appended exactly once per budget, period and threshold (event id derived from those three). */
export interface BudgetThresholdCrossedData {
  budget_id: string;
  name: string;
  threshold: number;
  period_start: string;
  period_end: string;
  spent_usd: string;
  amount_usd: string;
  crossed_at: string;
  /** The usage event whose cost crossed it. */
  request_id: string;
}

/** One alert as `GET /api/v1/budgets/{id}/alerts` lists it, with its deliveries. */
export interface BudgetAlertView {
  threshold: number;
  crossed_at: string;
  spent_usd: string;
  period_start: string;
  deliveries: BudgetAlertDelivery[];
}

export interface BudgetAlertDelivery {
  channel: 'webhook' | 'slack' | 'email' | 'bus';
  /** The target without secrets (URL without query, or address). */
  target: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_error?: string;
  delivered_at?: string;
}

/** `budget.alert.v1` on the bus for queue integrations: the webhook body. */
export interface BudgetAlertV1 {
  budget_id: string;
  name: string;
  threshold: number;
  spent_usd: string;
  amount_usd: string;
  period_start: string;
  crossed_at: string;
}

/**
 * `budget.spend.v1` — ledger → proxies: an enforcing budget's state after a projection batch changed it (or it
 * was defined/changed/removed). The proxy's budget replica replaces its row with this and drops the reservations
 * of `settled_request_ids` (their real cost is now inside `spent_usd`).
 */
export interface BudgetSpendV1 {
  budget_id: string;
  scope: BudgetScope;
  enforce: boolean;
  amount_usd: string;
  period_start: string;
  period_end: string;
  spent_usd: string;
  /** Event-store position of the last event counted. Older messages (lower position) are ignored. */
  position: string;
  settled_request_ids: string[];
  removed?: boolean;
}

/** Webhook signature header: `sha256=<hex HMAC-SHA-256 of the raw body under webhook_secret>`. */
export const BUDGET_SIGNATURE_HEADER = 'X-SpendOps-Signature';

// --- Budget commands (Commands.budgets*, served by the ledger; the admin API, CLI and config loader call them) ---

/** Error names of the budget commands: not found → 404; invalid → 400, message `<field>: <problem>[; ...]`. */
export const BudgetErrors = {
  notFound: 'BudgetNotFoundError',
  invalid: 'BudgetValidationError',
} as const;

/** `Commands.budgetsCreate`. `spec` is the user's definition (the ledger validates it and applies defaults). */
export interface BudgetsCreateRequest {
  spec: unknown;
  actor: string;
  /** A caller-chosen id (`bud_` + 16 hex): the config file derives it from the name, so a restart re-uses it. */
  id?: string;
}
/** `webhook_secret` is in this reply only (the signing key of the budget's webhook). */
export interface BudgetsCreateReply {
  budget: BudgetView;
  webhook_secret: string;
}
/** `Commands.budgetsList` (oldest first); `tenant`: only the budgets whose `scope.tenant` is it. */
export interface BudgetsListRequest {
  tenant?: string;
}
export interface BudgetsListReply {
  budgets: BudgetView[];
}
/** `Commands.budgetsGet` */
export interface BudgetsGetRequest {
  id: string;
}
export interface BudgetReply {
  budget: BudgetView;
}
/** `Commands.budgetsUpdate`: the given fields replace the stored ones (a given scope replaces the whole scope). */
export interface BudgetsUpdateRequest {
  id: string;
  patch: unknown;
  actor: string;
}
/** `Commands.budgetsDelete` → `BudgetReply` (the budget as it was). */
export interface BudgetsDeleteRequest {
  id: string;
  actor: string;
}
/** `Commands.budgetsAlerts` (newest first). */
export interface BudgetsAlertsRequest {
  budget_id: string;
}
export interface BudgetsAlertsReply {
  alerts: BudgetAlertView[];
}
