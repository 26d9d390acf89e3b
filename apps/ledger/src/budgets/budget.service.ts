// Budgets: the write side appends BudgetDefined/BudgetChanged/BudgetRemoved to the stream `budget:{id}` (the
// stream is the source of truth); the read side serves views from budgets_view and budget_spend (the budgets
// projection). A command returns once the projection has applied its event, so a list right after a create
// shows it (read your writes, also with several ledger processes).
import { Injectable } from '@nestjs/common';
import {
  BudgetEventTypes,
  type BudgetChangedData,
  type BudgetDefinedData,
  type BudgetRecord,
  type BudgetRemovedData,
  type BudgetSpendV1,
  type BudgetView,
  type BudgetsCreateReply,
} from '@spendops/contracts';
import { EventStore, ProjectionRunner, type StoredEvent } from '@spendops/event-store';
import { DataSource, type EntityManager } from 'typeorm';
import { deterministicEventId } from '../ledger.events';
import { BudgetNotFoundError, BudgetValidationError } from './budget.errors';
import { budgetView, specOf } from './budget-view';
import { BUDGETS_PROJECTION, currentPeriod, spendMessage } from './budgets.projection';
import {
  applyBudgetPatch,
  budgetStreamId,
  changedFields,
  isBudgetId,
  newBudgetId,
  newWebhookSecret,
  validateBudgetSpec,
} from '@spendops/budgets';

const DEFINITION_TYPES: string[] = [
  BudgetEventTypes.defined,
  BudgetEventTypes.changed,
  BudgetEventTypes.removed,
];
/** How long a command waits for the projection to apply its event before answering anyway. */
const READ_YOUR_WRITES_MS = 5000;
/** Concurrent changes of one budget: the loser's event id is taken, it re-reads and tries again. */
const MAX_ATTEMPTS = 5;

interface StreamState {
  /** The current definition, null when never defined or removed. */
  record: BudgetRecord | null;
  /** Definition events so far (the next one's sequence number). */
  count: number;
}

@Injectable()
export class BudgetService {
  constructor(
    private readonly store: EventStore,
    private readonly dataSource: DataSource,
    private readonly runner: ProjectionRunner,
  ) {}

  async create(input: unknown, actor: string, id?: string): Promise<BudgetsCreateReply> {
    const checked = validateBudgetSpec(input);
    if (!checked.ok) throw new BudgetValidationError(checked.errors);
    if (id !== undefined && !isBudgetId(id))
      throw new BudgetValidationError([
        { field: 'id', message: 'must be bud_ followed by 16 lowercase hex digits' },
      ]);
    const budgetId = id ?? newBudgetId();
    const secret = newWebhookSecret();
    for (let attempt = 1; ; attempt++) {
      const state = await this.streamState(budgetId);
      if (state.record)
        throw new BudgetValidationError([{ field: 'id', message: `a budget with id ${budgetId} exists` }]);
      const now = new Date().toISOString();
      const record: BudgetRecord = { id: budgetId, ...checked.spec, created_at: now, updated_at: now };
      const data: BudgetDefinedData = { budget: record, actor };
      const appended = await this.dataSource.transaction(async (manager) => {
        const ok = await this.appendDefinition(
          manager,
          budgetId,
          state.count,
          BudgetEventTypes.defined,
          data,
        );
        if (ok)
          await manager.query(
            `INSERT INTO budget_secrets (budget_id, webhook_secret) VALUES ($1, $2)
             ON CONFLICT (budget_id) DO UPDATE SET webhook_secret = EXCLUDED.webhook_secret`,
            [budgetId, secret],
          );
        return ok;
      });
      if (appended) {
        await this.awaitProjection(appended);
        return { budget: await this.viewOf(record), webhook_secret: secret };
      }
      if (attempt >= MAX_ATTEMPTS) throw new Error(`budget ${budgetId}: concurrent changes, try again`);
    }
  }

  async update(id: string, patch: unknown, actor: string): Promise<BudgetView> {
    for (let attempt = 1; ; attempt++) {
      const state = await this.streamState(id);
      if (!state.record) throw new BudgetNotFoundError(id);
      const before = specOf(state.record);
      const checked = applyBudgetPatch(before, patch);
      if (!checked.ok) throw new BudgetValidationError(checked.errors);
      const changed = changedFields(before, checked.spec);
      if (changed.length === 0) return this.viewOf(state.record);
      const record: BudgetRecord = {
        id,
        ...checked.spec,
        created_at: state.record.created_at,
        updated_at: new Date().toISOString(),
      };
      const data: BudgetChangedData = { budget: record, changed, actor };
      const appended = await this.appendDefinition(
        this.dataSource.manager,
        id,
        state.count,
        BudgetEventTypes.changed,
        data,
      );
      if (appended) {
        await this.awaitProjection(appended);
        return this.viewOf(record);
      }
      if (attempt >= MAX_ATTEMPTS) throw new Error(`budget ${id}: concurrent changes, try again`);
    }
  }

  /** Removes the budget; returns it as it was. */
  async remove(id: string, actor: string): Promise<BudgetView> {
    for (let attempt = 1; ; attempt++) {
      const state = await this.streamState(id);
      if (!state.record) throw new BudgetNotFoundError(id);
      const view = await this.viewOf(state.record);
      const data: BudgetRemovedData = { budget_id: id, actor };
      const appended = await this.appendDefinition(
        this.dataSource.manager,
        id,
        state.count,
        BudgetEventTypes.removed,
        data,
      );
      if (appended) {
        await this.awaitProjection(appended);
        return view;
      }
      if (attempt >= MAX_ATTEMPTS) throw new Error(`budget ${id}: concurrent changes, try again`);
    }
  }

  async get(id: string): Promise<BudgetView> {
    const { record } = await this.streamState(id);
    if (!record) throw new BudgetNotFoundError(id);
    return this.viewOf(record);
  }

  /** Every budget, oldest first; with `tenant`, those whose scope names that tenant. */
  async list(tenant?: string): Promise<BudgetView[]> {
    const rows: { record: BudgetRecord }[] = await this.dataSource.query(
      `SELECT record FROM budgets_view WHERE $1::text IS NULL OR record->'scope'->>'tenant' = $1
       ORDER BY created_at, budget_id`,
      [tenant ?? null],
    );
    const now = new Date();
    const spent = await this.currentSpend(
      rows.map((r) => r.record),
      now,
    );
    return rows.map((r) => budgetView(r.record, spent.get(r.record.id) ?? '0', now));
  }

  /** Every enforcing budget's current state (a proxy's replica at start). */
  async spendSnapshot(): Promise<BudgetSpendV1[]> {
    const rows: { record: BudgetRecord; spend_position: string }[] = await this.dataSource.query(
      `SELECT record, spend_position::text AS spend_position FROM budgets_view WHERE enforce
       ORDER BY created_at, budget_id`,
    );
    const now = new Date();
    const spent = await this.currentSpend(
      rows.map((r) => r.record),
      now,
    );
    return rows.map((r) =>
      spendMessage(
        r.record,
        currentPeriod(r.record, now),
        budgetView(r.record, spent.get(r.record.id) ?? '0', now).spent_usd,
        r.spend_position,
        [],
      ),
    );
  }

  private async viewOf(record: BudgetRecord): Promise<BudgetView> {
    const now = new Date();
    const spent = await this.currentSpend([record], now);
    return budgetView(record, spent.get(record.id) ?? '0', now);
  }

  /** Spend of each budget's current period (absent: nothing counted in it). */
  private async currentSpend(records: BudgetRecord[], now: Date): Promise<Map<string, string>> {
    if (records.length === 0) return new Map();
    const rows: { budget_id: string; spent_usd: string }[] = await this.dataSource.query(
      `SELECT s.budget_id, s.spent_usd::text AS spent_usd
       FROM budget_spend s JOIN unnest($1::text[], $2::timestamptz[]) AS k(budget_id, period_start)
         ON s.budget_id = k.budget_id AND s.period_start = k.period_start`,
      [records.map((r) => r.id), records.map((r) => currentPeriod(r, now).start.toISOString())],
    );
    return new Map(rows.map((r) => [r.budget_id, r.spent_usd]));
  }

  private async streamState(id: string): Promise<StreamState> {
    let record: BudgetRecord | null = null;
    let count = 0;
    if (!isBudgetId(id)) return { record, count };
    for (const e of await this.store.readStream(budgetStreamId(id))) {
      if (!DEFINITION_TYPES.includes(e.type)) continue;
      count++;
      record = e.type === BudgetEventTypes.removed ? null : (e.data as BudgetDefinedData).budget;
    }
    return { record, count };
  }

  /**
   * Append the stream's definition event number `seq`. Its id is derived from (budget, seq): of two concurrent
   * writers that read the same stream, one appends and the other gets null (and re-reads).
   */
  private async appendDefinition(
    manager: EntityManager,
    id: string,
    seq: number,
    type: string,
    data: BudgetDefinedData | BudgetChangedData | BudgetRemovedData,
  ): Promise<string | null> {
    const eventId = deterministicEventId('BudgetDefinition', id, String(seq));
    const [appended] = await this.store.append(
      [{ event_id: eventId, stream_id: budgetStreamId(id), type, data, metadata: { actor: data.actor } }],
      manager,
    );
    return appended ?? null;
  }

  /** Wait until the budgets projection has applied the event (helping it along in this process). */
  private async awaitProjection(eventId: string): Promise<void> {
    const [event]: Pick<StoredEvent, 'transaction_id' | 'global_position'>[] = await this.dataSource.query(
      `SELECT transaction_id::text AS transaction_id, global_position::text AS global_position
       FROM events WHERE event_id = $1`,
      [eventId],
    );
    if (!event) return;
    const deadline = Date.now() + READ_YOUR_WRITES_MS;
    while (Date.now() < deadline) {
      if (this.runner.names().includes(BUDGETS_PROJECTION))
        await this.runner.catchUpOne(BUDGETS_PROJECTION).catch(() => 0);
      const [row] = await this.dataSource.query(
        `SELECT (transaction_id, global_position) >= ($2::xid8, $3::bigint) AS done
         FROM projection_checkpoints WHERE name = $1`,
        [BUDGETS_PROJECTION, event.transaction_id, event.global_position],
      );
      if (row?.done === true) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
