// The proxy's in-memory copy of the enforcing budgets (fed by `budget.spend.v1` and the ledger's snapshot) and
// of this proxy's reservations: the maximum cost of each admitted request in a budget's scope, held until the
// ledger reports the request's real cost inside the budget's spend (`settled_request_ids`) or a timeout.
import type { AdmissionInput, BudgetScope, BudgetSpendV1 } from '@spendops/contracts';
import { requestInScope } from './scope';

export interface BudgetRow {
  id: string;
  scope: BudgetScope;
  amountUsd: string;
  amount: number;
  /** Spend of the current period as the ledger last reported it (0 once the period is over). */
  spent: number;
  periodStart: number;
  /** Infinity after a rollover until the ledger reports the new period. */
  periodEnd: number;
  position: bigint;
  /** This proxy's reservations held against the current period. */
  reserved: number;
  reservations: number;
}

interface Reservation {
  cost: number;
  /** The budgets whose `reserved` this reservation is counted in. */
  budgets: Set<string>;
  createdAt: number;
  finishedAt?: number;
}

export interface BudgetReplicaOptions {
  /** How long a finished request's reservation is held waiting for the ledger (default 10 min). */
  settleTimeoutMs?: number;
  /** A request not reported finished after this long is treated as finished (default 1 h). */
  maxInFlightMs?: number;
  now?: () => number;
}

const time = (iso: string): number => {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : 0;
};

export class BudgetReplica {
  private readonly rows = new Map<string, BudgetRow>();
  private readonly held = new Map<string, Reservation>();
  private readonly settleTimeoutMs: number;
  private readonly maxInFlightMs: number;
  private readonly now: () => number;
  private loaded = false;
  /** Called after this proxy's reservations changed (its heartbeat tells the other proxies soon after). */
  onReservationsChanged: () => void = () => undefined;

  constructor(options: BudgetReplicaOptions = {}) {
    this.settleTimeoutMs = options.settleTimeoutMs ?? 10 * 60_000;
    this.maxInFlightMs = options.maxInFlightMs ?? 60 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Whether the ledger's snapshot has been loaded. */
  get synced(): boolean {
    return this.loaded;
  }

  get size(): number {
    return this.rows.size;
  }

  /** Reservations held (finished or not). */
  get reservationCount(): number {
    return this.held.size;
  }

  row(id: string): BudgetRow | undefined {
    const row = this.rows.get(id);
    if (row) this.roll(row);
    return row;
  }

  /**
   * Applies the ledger's state of one budget. The settled requests' reservations are dropped whatever the
   * message's age (their cost is in the ledger's spend from that position on); the row is replaced unless the
   * held one came from a later position; a message about an earlier period keeps the current period's spend.
   */
  apply(m: BudgetSpendV1): void {
    for (const id of m.settled_request_ids ?? []) this.settle(id, m.budget_id);
    const position = safeBigInt(m.position);
    const held = this.rows.get(m.budget_id);
    if (held && position < held.position) return;
    if (m.removed || !m.enforce) {
      if (held) this.drop(held);
      return;
    }
    const amount = Number(m.amount_usd);
    const start = time(m.period_start);
    const row: BudgetRow = held ?? {
      id: m.budget_id,
      scope: m.scope,
      amountUsd: m.amount_usd,
      amount,
      spent: 0,
      periodStart: start,
      periodEnd: time(m.period_end),
      position,
      reserved: 0,
      reservations: 0,
    };
    row.scope = m.scope ?? {};
    row.amountUsd = m.amount_usd;
    row.amount = Number.isFinite(amount) ? amount : 0;
    row.position = position;
    if (!held || start >= row.periodStart) {
      if (held && start > row.periodStart) this.newPeriod(row, start);
      row.periodStart = start;
      row.periodEnd = time(m.period_end);
      row.spent = Number(m.spent_usd) || 0;
    }
    this.rows.set(row.id, row);
    this.roll(row);
  }

  /**
   * Loads the ledger's snapshot (marking the replica synced). A held budget the snapshot lacks is dropped
   * unless a message newer than everything in the snapshot brought it.
   */
  load(snapshot: readonly BudgetSpendV1[]): void {
    let newest = 0n;
    const ids = new Set<string>();
    for (const m of snapshot) {
      this.apply(m);
      ids.add(m.budget_id);
      const p = safeBigInt(m.position);
      if (p > newest) newest = p;
    }
    for (const row of [...this.rows.values()]) if (!ids.has(row.id) && row.position <= newest) this.drop(row);
    this.loaded = true;
  }

  /** The enforcing budgets whose scope holds this request, each rolled into its current period. */
  inScope(input: AdmissionInput): BudgetRow[] {
    const out: BudgetRow[] = [];
    for (const row of this.rows.values()) {
      if (!requestInScope(row.scope, input)) continue;
      this.roll(row);
      out.push(row);
    }
    return out;
  }

  reserve(requestId: string, cost: number, rows: readonly BudgetRow[]): void {
    if (rows.length === 0) return;
    const r: Reservation = { cost, budgets: new Set(), createdAt: this.now() };
    for (const row of rows) {
      r.budgets.add(row.id);
      row.reserved += cost;
      row.reservations++;
    }
    this.held.set(requestId, r);
    this.onReservationsChanged();
  }

  /** The request is over: its reservation waits for the ledger's settlement from now on, up to the timeout. */
  finish(requestId: string): void {
    const r = this.held.get(requestId);
    if (r && r.finishedAt === undefined) r.finishedAt = this.now();
  }

  /** The ledger counted the request in this budget's spend. */
  settle(requestId: string, budgetId: string): void {
    const r = this.held.get(requestId);
    if (!r) return;
    this.unhold(r, budgetId);
    if (r.budgets.size === 0) this.held.delete(requestId);
  }

  /** Drops reservations past their timeout; returns how many. */
  sweep(): number {
    const now = this.now();
    let dropped = 0;
    for (const [id, r] of this.held) {
      const finished = r.finishedAt ?? r.createdAt + this.maxInFlightMs;
      if (now - finished < this.settleTimeoutMs) continue;
      for (const budget of [...r.budgets]) this.unhold(r, budget);
      this.held.delete(id);
      dropped++;
    }
    return dropped;
  }

  /** USD this proxy holds per budget (budgets with reservations only): what its heartbeat reports. */
  reservedByBudget(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const row of this.rows.values()) if (row.reservations > 0) out[row.id] = row.reserved;
    return out;
  }

  /** A new period starts at zero as soon as the old one ends, without waiting for the ledger. */
  private roll(row: BudgetRow): void {
    if (this.now() < row.periodEnd) return;
    const start = row.periodEnd;
    row.periodStart = start;
    row.periodEnd = Infinity;
    row.spent = 0;
    this.newPeriod(row, start);
  }

  /** Reservations made before the period starting at `start` belong to the old period (the ledger's rule). */
  private newPeriod(row: BudgetRow, start: number): void {
    for (const [id, r] of this.held) {
      if (r.createdAt >= start || !r.budgets.has(row.id)) continue;
      this.unhold(r, row.id);
      if (r.budgets.size === 0) this.held.delete(id);
    }
  }

  private unhold(r: Reservation, budgetId: string): void {
    if (!r.budgets.delete(budgetId)) return;
    const row = this.rows.get(budgetId);
    if (!row) return;
    row.reservations--;
    // Sums of floats drift: an emptied budget holds exactly nothing.
    row.reserved = row.reservations > 0 ? Math.max(0, row.reserved - r.cost) : 0;
    this.onReservationsChanged();
  }

  private drop(row: BudgetRow): void {
    for (const [id, r] of this.held) {
      if (!r.budgets.delete(row.id)) continue;
      if (r.budgets.size === 0) this.held.delete(id);
    }
    this.rows.delete(row.id);
  }
}

function safeBigInt(v: string | undefined): bigint {
  try {
    return BigInt(v ?? '0');
  } catch {
    return 0n;
  }
}
