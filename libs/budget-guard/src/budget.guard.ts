// The budget admission guard: a request in the scope of an enforcing budget is admitted only if its maximum cost
// fits in this proxy's share of the budget's headroom (amount − spend, split between the live proxies), and is
// then reserved until the ledger reports its real cost. docs/budgets-enforcement.md states the bound.
import { Inject, Injectable } from '@nestjs/common';
import type { AdmissionGuard, AdmissionInput, AdmissionResult } from '@spendops/contracts';
import { BudgetReplica, type BudgetRow } from './budget-replica';
import { BUDGET_GUARD_OPTIONS, type BudgetGuardOptions, withDefaults } from './budget-guard.options';
import { estimateTokens } from './estimate';
import { PriceSheetHolder } from './price-sheet.holder';
import { ProxyPeers } from './proxy-peers';

@Injectable()
export class BudgetGuard implements AdmissionGuard {
  private readonly options: Required<BudgetGuardOptions>;

  constructor(
    private readonly replica: BudgetReplica,
    private readonly prices: PriceSheetHolder,
    private readonly peers: ProxyPeers,
    @Inject(BUDGET_GUARD_OPTIONS) options: BudgetGuardOptions,
  ) {
    this.options = withDefaults(options);
  }

  /** Whether both the budgets and the price sheet are loaded. */
  get synced(): boolean {
    return this.replica.synced && this.prices.current !== null;
  }

  admit(input: AdmissionInput): AdmissionResult {
    if (!this.synced) {
      if (!this.options.failClosed) return { ok: true };
      return deny('budget state is not loaded yet; retry shortly');
    }
    const rows = this.replica.inScope(input);
    if (rows.length === 0) return { ok: true };
    const cost = this.maxCost(input);
    const proxies = this.peers.liveCount();
    for (const row of rows) {
      if (!this.fits(row, cost, proxies)) {
        return deny(`budget ${row.id} exceeded: spend and requests in flight reached its $${row.amountUsd}`);
      }
    }
    this.replica.reserve(input.request_id, cost, rows);
    return { ok: true };
  }

  release(requestId: string): void {
    this.replica.finish(requestId);
  }

  /** The request's maximum cost in USD: prompt estimate × input price + output cap × output price + fee. */
  maxCost(input: AdmissionInput): number {
    const [inPrice, outPrice, fee] = this.prices.current!.priceFor(
      input.key.tenant_id,
      input.provider,
      input.model,
    );
    const t = estimateTokens(input.body, this.options);
    return t.prompt * inPrice + t.output * outPrice + fee;
  }

  /**
   * This proxy may hold at most headroom / live proxies, and never more than the headroom the others' last
   * reported reservations leave (which matters while the proxies disagree on who is alive).
   */
  private fits(row: BudgetRow, cost: number, proxies: number): boolean {
    const headroom = row.amount - row.spent;
    if (headroom <= 0) return false;
    const limit = Math.min(headroom / proxies, headroom - this.peers.othersReserved(row.id));
    return row.reserved + cost <= limit;
  }
}

function deny(message: string): AdmissionResult {
  return { ok: false, status: 429, type: 'budget_exceeded', message };
}
