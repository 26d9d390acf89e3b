// The replica's bookkeeping on its own: snapshot reconciliation, positions, and reservation sums.
import type { BudgetSpendV1 } from '@spendops/contracts';
import { BudgetReplica } from './budget-replica';

const spend = (id: string, position: string, over: Partial<BudgetSpendV1> = {}): BudgetSpendV1 => ({
  budget_id: id,
  scope: {},
  enforce: true,
  amount_usd: '10',
  period_start: '2026-12-01T00:00:00.000Z',
  period_end: '2026-12-02T00:00:00.000Z',
  spent_usd: '1',
  position,
  settled_request_ids: [],
  ...over,
});

describe('BudgetReplica', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');

  it('drops on resync a budget the snapshot lacks, unless a message newer than the snapshot brought it', () => {
    const r = new BudgetReplica({ now: () => now });
    r.load([spend('bud_a', '5'), spend('bud_b', '6')]);
    r.apply(spend('bud_c', '50')); // defined after the snapshot below was taken
    r.load([spend('bud_a', '7')]);
    expect([r.row('bud_a'), r.row('bud_b'), r.row('bud_c')].map((x) => x?.id)).toEqual([
      'bud_a',
      undefined,
      'bud_c',
    ]);
    expect(r.synced).toBe(true);
  });

  it('ignores an older position for the row, and an unparsable position counts as 0', () => {
    const r = new BudgetReplica({ now: () => now });
    r.apply(spend('bud_a', '100', { spent_usd: '4' }));
    r.apply(spend('bud_a', '99', { spent_usd: '9' }));
    expect(r.row('bud_a')!.spent).toBe(4);
    r.apply(spend('bud_a', 'garbage', { spent_usd: '9' }));
    expect(r.row('bud_a')!.spent).toBe(4);
    r.apply(spend('bud_a', '100', { amount_usd: '20' })); // the same position again: idempotent replace
    expect(r.row('bud_a')!.amount).toBe(20);
  });

  it('keeps each budget’s reserved sum exact across reserve, settle in one budget, and removal of another', () => {
    const r = new BudgetReplica({ now: () => now });
    r.load([spend('bud_a', '1'), spend('bud_b', '1')]);
    const rows = [r.row('bud_a')!, r.row('bud_b')!];
    r.reserve('x', 0.1, rows);
    r.reserve('y', 0.2, rows);
    expect(r.reservedByBudget()).toEqual({ bud_a: expect.closeTo(0.3, 12), bud_b: expect.closeTo(0.3, 12) });
    r.settle('x', 'bud_a');
    expect(r.reservationCount).toBe(2); // x still counts in bud_b
    r.apply(spend('bud_b', '2', { removed: true }));
    expect(r.reservedByBudget()).toEqual({ bud_a: expect.closeTo(0.2, 12) });
    expect(r.reservationCount).toBe(1);
    r.apply(spend('bud_a', '3', { settled_request_ids: ['y'] }));
    expect(r.reservedByBudget()).toEqual({});
    expect(r.row('bud_a')!.reserved).toBe(0);
  });

  it('notifies a change in reservations', () => {
    const r = new BudgetReplica({ now: () => now });
    let changes = 0;
    r.onReservationsChanged = () => changes++;
    r.load([spend('bud_a', '1')]);
    r.reserve('x', 0.1, [r.row('bud_a')!]);
    r.settle('x', 'bud_a');
    r.settle('x', 'bud_a'); // already gone: no change
    expect(changes).toBe(2);
  });
});
