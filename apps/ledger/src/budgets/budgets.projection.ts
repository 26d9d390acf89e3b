// The budgets projection: budgets_view from BudgetDefined/Changed/Removed, and spend per budget and period from
// UsageRecorded and UsageRepriced, in one projection so spend always agrees with the definitions it was summed
// under (same order, same checkpoint, same transaction).
//
// - A usage cost counts in every matching budget's period that contains the request's start time; a re-pricing
//   moves that period's spend by the difference (new cost − the cost counted so far), in the ORIGINAL request's
//   period.
// - A period row is created the first time it is needed, from the sum of the usage already projected in that
//   period and scope. So a budget defined mid-period counts the WHOLE current period, usage before its creation
//   included (a budget says "this month's spend may not pass X", whenever it was written down).
// - A threshold reached appends BudgetThresholdCrossed (stream `budget:{id}`) in this transaction, with an event
//   id derived from (budget, period start, threshold): a restart, a rebuild or a second ledger appends nothing
//   new, and a threshold fires at most once per period even if spend dips below and rises again.
// - A definition or change re-checks the current period (at the event's time): a lowered amount fires the
//   thresholds now reached. A change of scope or period recomputes the spend from the usage rows.
// - After the commit, the current state of each enforcing budget the batch touched is published as
//   budget.spend.v1 with the request ids it settled (not with a bus: the CLI's rebuild).
import { Logger } from '@nestjs/common';
import {
  BudgetEventTypes,
  Topics,
  type BudgetChangedData,
  type BudgetDefinedData,
  type BudgetRecord,
  type BudgetRemovedData,
  type BudgetSpendV1,
  type BudgetThresholdCrossedData,
} from '@spendops/contracts';
import type { EventStore, NewEvent, Projection, StoredEvent } from '@spendops/event-store';
import type { MessageBus } from '@spendops/messaging';
import { Decimal } from '@spendops/money';
import type { EntityManager } from 'typeorm';
import {
  LedgerEventTypes,
  deterministicEventId,
  type UsageRecordedData,
  type UsageRepricedData,
} from '../ledger.events';
import { afterCommit } from './after-commit';
import {
  budgetStreamId,
  formatUsd,
  periodAt,
  scopeMatches,
  thresholdLevel,
  thresholdsReached,
  type Period,
} from '@spendops/budgets';
import { loadUsageRows, saveUsageRows, sumUsage, usageRowOf, type BudgetUsageRow } from './budget-usage';

export const BUDGETS_PROJECTION = 'budgets';

const BUDGET_TYPES: string[] = [BudgetEventTypes.defined, BudgetEventTypes.changed, BudgetEventTypes.removed];
const USAGE_TYPES: string[] = [LedgerEventTypes.usageRecorded, LedgerEventTypes.usageRepriced];
/** Fields whose change moves which usage counts where: the spend is summed again. */
const SPEND_FIELDS = ['scope', 'period', 'time_zone', 'start_day', 'from', 'to'] as const;

/** The id of the one BudgetThresholdCrossed of a budget, period and threshold. */
export function crossingEventId(budgetId: string, periodStart: Date, threshold: number): string {
  return deterministicEventId(
    BudgetEventTypes.thresholdCrossed,
    budgetId,
    periodStart.toISOString(),
    String(threshold),
  );
}

interface SpendRow {
  budgetId: string;
  period: Period;
  spent: Decimal;
  dirty: boolean;
}

/** One batch's working state: budgets, period rows and what to write, append and publish at the end. */
class Batch {
  readonly spend = new Map<string, SpendRow>();
  readonly crossings = new Map<string, NewEvent<BudgetThresholdCrossedData>>();
  /** Budgets to publish (enforcing now, or enforcing before this batch changed/removed them). */
  readonly publish = new Set<string>();
  readonly removed = new Map<string, BudgetRecord>();
  readonly settled = new Map<string, string[]>();
  /** Per budget, the periods computed so far in this batch (most usage of a batch shares one period). */
  private readonly periods = new Map<string, Period[]>();
  private readonly levels = new Map<string, { threshold: number; level: Decimal }[]>();

  constructor(
    readonly manager: EntityManager,
    readonly budgets: Map<string, BudgetRecord>,
  ) {}

  periodOf(record: BudgetRecord, at: Date): Period | null {
    const t = at.getTime();
    const known = this.periods.get(record.id) ?? [];
    for (const p of known) if (t >= p.start.getTime() && t < p.end.getTime()) return p;
    const period = periodAt(record, at);
    if (period) this.periods.set(record.id, [...known, period]);
    return period;
  }

  /** Each threshold's spend level (amount × t / 100), computed once per budget and batch. */
  levelsOf(record: BudgetRecord): { threshold: number; level: Decimal }[] {
    let levels = this.levels.get(record.id);
    if (!levels) {
      levels = record.thresholds.map((threshold) => ({
        threshold,
        level: thresholdLevel(record.amount_usd, threshold),
      }));
      this.levels.set(record.id, levels);
    }
    return levels;
  }

  /** A budget's definition changed: its periods and levels may too. */
  forget(budgetId: string): void {
    this.periods.delete(budgetId);
    this.levels.delete(budgetId);
  }
}

const keyOf = (budgetId: string, start: Date) => `${budgetId}|${start.getTime()}`;

export class BudgetsProjection implements Projection {
  readonly name = BUDGETS_PROJECTION;
  readonly types = [...BUDGET_TYPES, ...USAGE_TYPES];
  readonly batchSize = 500;
  private readonly logger = new Logger('BudgetsProjection');

  constructor(
    private readonly store: EventStore,
    private readonly bus: MessageBus | null,
  ) {}

  async handle(events: StoredEvent[], manager: EntityManager): Promise<void> {
    const batch = new Batch(manager, await this.loadBudgets(manager));
    let usage: StoredEvent[] = [];
    for (const event of events) {
      if (USAGE_TYPES.includes(event.type)) {
        usage.push(event);
        continue;
      }
      await this.applyUsage(batch, usage);
      usage = [];
      await this.applyBudgetEvent(batch, event);
    }
    await this.applyUsage(batch, usage);
    const messages = this.bus && batch.publish.size > 0 ? await this.spendMessages(batch) : [];
    await this.writeSpend(batch);
    if (batch.crossings.size > 0) await this.store.append([...batch.crossings.values()], manager);
    if (messages.length > 0) afterCommit(manager, () => this.publish(messages));
  }

  // DELETE, not TRUNCATE: a rebuild runs while serving (readers keep the old rows until it commits).
  async reset(manager: EntityManager): Promise<void> {
    for (const table of ['budgets_view', 'budget_spend', 'budget_usage'])
      await manager.query(`DELETE FROM ${table}`);
  }

  private async loadBudgets(manager: EntityManager): Promise<Map<string, BudgetRecord>> {
    const rows: { budget_id: string; record: BudgetRecord }[] = await manager.query(
      'SELECT budget_id, record FROM budgets_view',
    );
    return new Map(rows.map((r) => [r.budget_id, r.record]));
  }

  // ---- usage ----

  /** A run of usage events between budget events (the budget set is fixed within it). */
  private async applyUsage(batch: Batch, events: StoredEvent[]): Promise<void> {
    if (events.length === 0) return;
    const { manager } = batch;
    const repricedIds = events
      .filter((e) => e.type === LedgerEventTypes.usageRepriced)
      .map((e) => (e.data as UsageRepricedData).request_id);
    const rows = await loadUsageRows(manager, repricedIds);
    // Each cost change in order: the request's row, the change, the event.
    const changes: { row: BudgetUsageRow; delta: Decimal; event: StoredEvent; recorded: boolean }[] = [];
    const touched = new Map<string, BudgetUsageRow>();
    for (const event of events) {
      if (event.type === LedgerEventTypes.usageRecorded) {
        const row = usageRowOf(event.data as UsageRecordedData);
        if (rows.has(row.request_id)) continue; // recorded once per request id; never counted twice
        rows.set(row.request_id, row);
        touched.set(row.request_id, row);
        changes.push({ row, delta: new Decimal(row.cost), event, recorded: true });
      } else {
        const data = event.data as UsageRepricedData;
        const row = rows.get(data.request_id);
        if (!row) continue; // a re-pricing always follows its recording; nothing to move otherwise
        const cost = data.cost?.total_cost_usd ?? '0';
        const delta = new Decimal(cost).minus(row.cost);
        row.cost = cost;
        touched.set(row.request_id, row);
        changes.push({ row, delta, event, recorded: false });
      }
    }
    // Period rows first (summed from the usage stored before this run), then the changes in order.
    const matches = changes.map(({ row }) => this.matchingPeriods(batch, row));
    await this.ensureRows(batch, matches.flat());
    changes.forEach(({ row, delta, event, recorded }, i) => {
      for (const { budgetId, period } of matches[i]) {
        const record = batch.budgets.get(budgetId)!;
        const spend = batch.spend.get(keyOf(budgetId, period.start))!;
        const before = spend.spent;
        spend.spent = before.plus(delta);
        spend.dirty = true;
        // thresholdsCrossed, with the levels computed once
        if (delta.greaterThan(0))
          for (const { threshold, level } of batch.levelsOf(record))
            if (before.lessThan(level) && spend.spent.greaterThanOrEqualTo(level))
              this.cross(batch, record, period, threshold, spend.spent, event, row.request_id);
        if (record.enforce) {
          batch.publish.add(budgetId);
          if (recorded) {
            const settled = batch.settled.get(budgetId) ?? [];
            settled.push(row.request_id);
            batch.settled.set(budgetId, settled);
          }
        }
      }
    });
    await saveUsageRows(manager, [...touched.values()]);
  }

  private matchingPeriods(batch: Batch, row: BudgetUsageRow): { budgetId: string; period: Period }[] {
    const out: { budgetId: string; period: Period }[] = [];
    const at = new Date(row.ts);
    for (const [budgetId, record] of batch.budgets) {
      if (!scopeMatches(record.scope, row)) continue;
      const period = batch.periodOf(record, at);
      if (period) out.push({ budgetId, period });
    }
    return out;
  }

  /** Load (or sum from the stored usage) the period rows not yet in the batch. */
  private async ensureRows(batch: Batch, wanted: { budgetId: string; period: Period }[]): Promise<void> {
    const missing = new Map<string, { budgetId: string; period: Period }>();
    for (const w of wanted) {
      const key = keyOf(w.budgetId, w.period.start);
      if (!batch.spend.has(key)) missing.set(key, w);
    }
    if (missing.size === 0) return;
    const list = [...missing.values()];
    const stored: { budget_id: string; period_start: Date; spent_usd: string }[] = await batch.manager.query(
      `SELECT s.budget_id, s.period_start, s.spent_usd::text AS spent_usd
       FROM budget_spend s JOIN unnest($1::text[], $2::timestamptz[]) AS k(budget_id, period_start)
         ON s.budget_id = k.budget_id AND s.period_start = k.period_start`,
      [list.map((w) => w.budgetId), list.map((w) => w.period.start.toISOString())],
    );
    for (const r of stored) {
      const key = keyOf(r.budget_id, r.period_start);
      const w = missing.get(key)!;
      batch.spend.set(key, {
        budgetId: w.budgetId,
        period: w.period,
        spent: new Decimal(r.spent_usd),
        dirty: false,
      });
      missing.delete(key);
    }
    for (const [key, w] of missing) {
      const record = batch.budgets.get(w.budgetId)!;
      const spent = await sumUsage(batch.manager, record.scope, w.period.start, w.period.end);
      batch.spend.set(key, {
        budgetId: w.budgetId,
        period: w.period,
        spent: new Decimal(spent),
        dirty: true,
      });
    }
  }

  private cross(
    batch: Batch,
    record: BudgetRecord,
    period: Period,
    threshold: number,
    spent: Decimal,
    cause: StoredEvent,
    requestId: string,
  ): void {
    const eventId = crossingEventId(record.id, period.start, threshold);
    if (batch.crossings.has(eventId)) return;
    batch.crossings.set(eventId, {
      event_id: eventId,
      stream_id: budgetStreamId(record.id),
      type: BudgetEventTypes.thresholdCrossed,
      data: {
        budget_id: record.id,
        name: record.name,
        threshold,
        period_start: period.start.toISOString(),
        period_end: period.end.toISOString(),
        spent_usd: formatUsd(spent),
        amount_usd: record.amount_usd,
        crossed_at: new Date(cause.recorded_at).toISOString(),
        request_id: requestId,
      },
      metadata: { source: BUDGETS_PROJECTION, cause_event_id: cause.event_id },
    });
  }

  // ---- budget definitions ----

  private async applyBudgetEvent(batch: Batch, event: StoredEvent): Promise<void> {
    const { manager } = batch;
    if (event.type === BudgetEventTypes.removed) {
      const { budget_id: id } = event.data as BudgetRemovedData;
      const record = batch.budgets.get(id);
      if (!record) return;
      forgetRows(batch, id);
      await manager.query('DELETE FROM budgets_view WHERE budget_id = $1', [id]);
      await manager.query('DELETE FROM budget_spend WHERE budget_id = $1', [id]);
      batch.budgets.delete(id);
      if (record.enforce) {
        batch.publish.add(id);
        batch.removed.set(id, record);
      }
      return;
    }
    const { budget } = event.data as BudgetDefinedData | BudgetChangedData;
    const previous = batch.budgets.get(budget.id);
    const defined = event.type === BudgetEventTypes.defined;
    const resum =
      defined ||
      !previous ||
      SPEND_FIELDS.some((k) => JSON.stringify(previous[k]) !== JSON.stringify(budget[k]));
    if (resum) {
      forgetRows(batch, budget.id);
      await manager.query('DELETE FROM budget_spend WHERE budget_id = $1', [budget.id]);
    }
    batch.budgets.set(budget.id, budget);
    batch.forget(budget.id);
    await manager.query(
      `INSERT INTO budgets_view (budget_id, record, enforce, created_at) VALUES ($1, $2::jsonb, $3, $4)
       ON CONFLICT (budget_id) DO UPDATE SET record = EXCLUDED.record, enforce = EXCLUDED.enforce`,
      [budget.id, JSON.stringify(budget), budget.enforce, budget.created_at],
    );
    if (budget.enforce || previous?.enforce) batch.publish.add(budget.id);
    batch.removed.delete(budget.id);
    // The current period at the time of the definition: the whole of it counts, and what it already reached fires.
    const period = periodAt(budget, new Date(event.recorded_at));
    if (!period) return;
    await this.ensureRows(batch, [{ budgetId: budget.id, period }]);
    const spend = batch.spend.get(keyOf(budget.id, period.start))!;
    for (const threshold of thresholdsReached(budget.thresholds, budget.amount_usd, spend.spent))
      this.cross(batch, budget, period, threshold, spend.spent, event, '');
  }

  private async writeSpend(batch: Batch): Promise<void> {
    const rows = [...batch.spend.values()]
      .filter((r) => r.dirty && batch.budgets.has(r.budgetId))
      .map((r) => ({
        budget_id: r.budgetId,
        period_start: r.period.start.toISOString(),
        period_end: r.period.end.toISOString(),
        spent_usd: r.spent.toFixed(),
      }));
    if (rows.length === 0) return;
    for (const r of batch.spend.values()) r.dirty = false;
    await batch.manager.query(
      `INSERT INTO budget_spend (budget_id, period_start, period_end, spent_usd)
       SELECT r.budget_id, r.period_start, r.period_end, r.spent_usd
       FROM jsonb_to_recordset($1::jsonb)
         AS r(budget_id text, period_start timestamptz, period_end timestamptz, spent_usd numeric)
       ON CONFLICT (budget_id, period_start) DO UPDATE
         SET spent_usd = EXCLUDED.spent_usd, period_end = EXCLUDED.period_end`,
      [JSON.stringify(rows)],
    );
  }

  // ---- budget.spend.v1 ----

  /** The state to publish of each budget the batch touched; stamps them with a new position. */
  private async spendMessages(batch: Batch): Promise<BudgetSpendV1[]> {
    const { manager } = batch;
    const [{ position }]: { position: string }[] = await manager.query(
      "SELECT nextval('budget_spend_position')::text AS position",
    );
    const live = [...batch.publish].filter((id) => batch.budgets.has(id));
    if (live.length > 0)
      await manager.query('UPDATE budgets_view SET spend_position = $2 WHERE budget_id = ANY($1::text[])', [
        live,
        position,
      ]);
    const messages: BudgetSpendV1[] = [];
    const now = new Date();
    for (const id of batch.publish) {
      const settled = batch.settled.get(id) ?? [];
      const removed = batch.removed.get(id);
      const record = batch.budgets.get(id);
      if (removed) {
        const period = currentPeriod(removed, now);
        messages.push({
          ...spendMessage(removed, period, '0.00', position, settled),
          enforce: false,
          removed: true,
        });
      } else if (record) {
        const period = currentPeriod(record, now);
        await this.ensureRows(batch, [{ budgetId: id, period }]);
        const spent = batch.spend.get(keyOf(id, period.start))!.spent;
        messages.push(spendMessage(record, period, formatUsd(spent), position, settled));
      }
    }
    return messages;
  }

  /** Fire and forget after the commit: a lost message is replaced by the next one or the proxy's snapshot. */
  private publish(messages: BudgetSpendV1[]): void {
    for (const m of messages)
      this.bus
        ?.publish(Topics.budgetSpend, m, { messageId: `${m.budget_id}:${m.position}` })
        .catch((err: unknown) =>
          this.logger.warn(`budget.spend.v1 for ${m.budget_id} not published: ${String(err)}`),
        );
  }
}

function forgetRows(batch: Batch, budgetId: string): void {
  for (const [key, row] of batch.spend) if (row.budgetId === budgetId) batch.spend.delete(key);
}

/** The budget's period now; a custom range outside its dates reports its range (spend 0 before it starts). */
export function currentPeriod(record: BudgetRecord, now: Date): Period {
  const period = periodAt(record, now);
  if (period) return period;
  return { start: new Date(record.from ?? now), end: new Date(record.to ?? now) };
}

export function spendMessage(
  record: BudgetRecord,
  period: Period,
  spent: string,
  position: string,
  settled: string[],
): BudgetSpendV1 {
  return {
    budget_id: record.id,
    scope: record.scope,
    enforce: record.enforce,
    amount_usd: record.amount_usd,
    period_start: period.start.toISOString(),
    period_end: period.end.toISOString(),
    spent_usd: spent,
    position,
    settled_request_ids: settled,
  };
}
