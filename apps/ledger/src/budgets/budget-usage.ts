// What the spend projection keeps of a usage event: the fields a budget scope matches, the request's time (its
// period, also for a later re-pricing) and its current total cost.
import type { BudgetScope } from '@spendops/contracts';
import type { EntityManager } from 'typeorm';
import type { UsageRecordedData } from '../ledger.events';

export interface BudgetUsageRow {
  request_id: string;
  /** The request's start (ISO): the period a cost (and any later re-pricing of it) counts in. */
  ts: string;
  tenant_id: string;
  api_key_id: string;
  provider: string;
  model: string;
  dims: Record<string, string>;
  /** Exact decimal USD (0 when unpriced). */
  cost: string;
}

/** The row of a UsageRecorded event; the model is the EVENT's (the usage's model, else the request's). */
export function usageRowOf(data: UsageRecordedData): BudgetUsageRow {
  return {
    request_id: data.request_id,
    ts: new Date(data.started_at_ms).toISOString(),
    tenant_id: data.tenant_id,
    api_key_id: data.api_key_id,
    provider: data.provider,
    model: data.usage?.model || data.request_model,
    dims: data.dims ?? {},
    cost: data.cost?.total_cost_usd ?? '0',
  };
}

export async function loadUsageRows(
  manager: EntityManager,
  requestIds: string[],
): Promise<Map<string, BudgetUsageRow>> {
  const out = new Map<string, BudgetUsageRow>();
  if (requestIds.length === 0) return out;
  const rows: (Omit<BudgetUsageRow, 'ts'> & { ts: Date })[] = await manager.query(
    `SELECT request_id, ts, tenant_id, api_key_id, provider, model, dims, cost::text AS cost
     FROM budget_usage WHERE request_id = ANY($1::text[])`,
    [requestIds],
  );
  for (const r of rows) out.set(r.request_id, { ...r, ts: r.ts.toISOString() });
  return out;
}

/** Insert new rows and store the current cost of re-priced ones. */
export async function saveUsageRows(manager: EntityManager, rows: BudgetUsageRow[]): Promise<void> {
  if (rows.length === 0) return;
  await manager.query(
    `INSERT INTO budget_usage (request_id, ts, tenant_id, api_key_id, provider, model, dims, cost)
     SELECT r.request_id, r.ts, r.tenant_id, r.api_key_id, r.provider, r.model, r.dims, r.cost
     FROM jsonb_to_recordset($1::jsonb) AS r(request_id text, ts timestamptz, tenant_id text, api_key_id text,
       provider text, model text, dims jsonb, cost numeric)
     ON CONFLICT (request_id) DO UPDATE SET cost = EXCLUDED.cost`,
    [JSON.stringify(rows)],
  );
}

/** Exact sum of the stored usage in [start, end) within a scope (the same rule as scopeMatches). */
export async function sumUsage(
  manager: EntityManager,
  scope: BudgetScope,
  start: Date,
  end: Date,
): Promise<string> {
  const [row] = await manager.query(
    `SELECT coalesce(sum(cost), 0)::text AS spent FROM budget_usage
     WHERE ts >= $1 AND ts < $2
       AND ($3::text IS NULL OR tenant_id = $3) AND ($4::text IS NULL OR api_key_id = $4)
       AND ($5::text IS NULL OR provider = $5) AND ($6::text IS NULL OR model = $6)
       AND dims @> $7::jsonb`,
    [
      start,
      end,
      scope.tenant ?? null,
      scope.key_id ?? null,
      scope.provider ?? null,
      scope.model ?? null,
      JSON.stringify(scope.dims ?? {}),
    ],
  );
  return row.spent as string;
}
