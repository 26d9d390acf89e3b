// Routing keys of the one topic exchange: the message name and its version.
export const Topics = {
  usageCaptured: 'usage.captured.v1',
  usageExtracted: 'usage.extracted.v1',
  usagePriced: 'usage.priced.v1',
  usageRecorded: 'usage.recorded.v1',
  usageIngest: 'usage.ingest.v1',
  requestDenied: 'request.denied.v1',
  keyChanged: 'auth.key.changed.v1',
  /** Pricing → ledger: a stored event's new cost (appended as `UsageRepriced`). */
  usageRepriced: 'usage.repriced.v1',
  /** Ledger → anyone: a budget threshold crossed (`BudgetAlertV1`). */
  budgetAlert: 'budget.alert.v1',
  /** Ledger → proxies: an enforcing budget's spend (`BudgetSpendV1`). */
  budgetSpend: 'budget.spend.v1',
  /** Pricing → proxies: the reservation price sheet (`PriceSheetV1`), at start and on every price change. */
  priceSheet: 'pricing.price-sheet.v1',
  /** Proxy → proxies: alive, and its reservations per budget (`ProxyHeartbeatV1`). */
  proxyHeartbeat: 'proxy.heartbeat.v1',
} as const;
export type Topic = (typeof Topics)[keyof typeof Topics];

// Request/reply commands (RPC over the bus).
export const Commands = {
  keysCreate: 'auth.keys.create',
  keysList: 'auth.keys.list',
  keysGet: 'auth.keys.get',
  keysRevoke: 'auth.keys.revoke',
  keysActivate: 'auth.keys.activate',
  keysRotate: 'auth.keys.rotate',
  keysUpdatePolicy: 'auth.keys.update-policy',
  keysSnapshot: 'auth.keys.snapshot',
  keysResolve: 'auth.keys.resolve',
  keysAuditList: 'auth.audit.list',
  pricingModelsList: 'pricing.models.list',
  pricingModelGet: 'pricing.model.get',
  pricingUnpricedList: 'pricing.unpriced.list',
  pricingOverridesList: 'pricing.overrides.list',
  pricingOverridesAdd: 'pricing.overrides.add',
  pricingOverridesDelete: 'pricing.overrides.delete',
  pricingReprice: 'pricing.reprice',
  /** Starts a re-pricing run and answers at once with it (`RepriceRunView`, status running). */
  pricingRepriceStart: 'pricing.reprice.start',
  /** One re-pricing run (`{ id }` → `RepriceRunView`). */
  pricingRepriceRunGet: 'pricing.reprice-runs.get',
  /** Recent re-pricing runs, newest first (`{ limit }` → `RepriceRunsListResponse`). */
  pricingRepriceRunsList: 'pricing.reprice-runs.list',
  /** Budgets (handled by the ledger). */
  budgetsCreate: 'ledger.budgets.create',
  budgetsList: 'ledger.budgets.list',
  budgetsGet: 'ledger.budgets.get',
  budgetsUpdate: 'ledger.budgets.update',
  budgetsDelete: 'ledger.budgets.delete',
  budgetsAlerts: 'ledger.budgets.alerts',
  /** Every enforcing budget's current `BudgetSpendV1` (a proxy's replica at start). */
  budgetsSpendSnapshot: 'ledger.budgets.spend-snapshot',
  /** The current `PriceSheetV1` (a proxy's budget guard at start). */
  pricingPriceSheet: 'pricing.price-sheet.get',
} as const;
export type Command = (typeof Commands)[keyof typeof Commands];

/** Error text prefix of every proxy error body: `{"error":"AISpendOps: <message>"}`. */
export const ERROR_PREFIX = 'AISpendOps: ';
