// The budget guard over its replica, price sheet and peers, on an injected clock: scope, reservation, settlement,
// period rollover, timeouts, fail-open/closed, and the headroom share between proxies.
import type {
  AdmissionInput,
  BudgetScope,
  BudgetSpendV1,
  KeyRecord,
  PriceSheetV1,
  ProxyHeartbeatV1,
} from '@spendops/contracts';
import { BudgetGuard } from './budget.guard';
import { BudgetReplica } from './budget-replica';
import { PriceSheetHolder } from './price-sheet.holder';
import { ProxyPeers } from './proxy-peers';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const DAY_END = '2026-12-02T00:00:00.000Z';

/** $1 per million input tokens, $10 per million output tokens on `cheap`; the rest unpriced here. */
const SHEET: PriceSheetV1 = {
  version: 'v1+ov0',
  generated_at: '2026-12-01T00:00:00.000Z',
  provider_aliases: {},
  providers: {
    openai: {
      models: { cheap: ['0.000001', '0.00001', '0'] },
      prefixes: [],
      patterns: [],
      name_prefixes: [],
      fallback: ['0.000001', '0.00001', '0'],
    },
  },
  overrides: [],
  fallback: ['0.000001', '0.00001', '0'],
};

function key(id = 'key_a', tenant = 'acme'): KeyRecord {
  return { id, tenant_id: tenant } as unknown as KeyRecord;
}

/** A request whose maximum cost is `maxTokens` × $10/M plus its body bytes × $1/M. */
function req(id: string, maxTokens: number, over: Partial<AdmissionInput> = {}): AdmissionInput {
  return {
    request_id: id,
    key: key(),
    provider: 'openai',
    model: 'cheap',
    endpoint: 'v1/chat/completions',
    dims: { team: 'search' },
    stream: false,
    body: Buffer.from(JSON.stringify({ model: 'cheap', max_tokens: maxTokens })),
    ...over,
  };
}
const costOf = (r: AdmissionInput) =>
  r.body!.length * 1e-6 + 10e-6 * Number(/"max_tokens":(\d+)/.exec(String(r.body))![1]);

function spend(over: Partial<BudgetSpendV1> = {}): BudgetSpendV1 {
  return {
    budget_id: 'bud_0000000000000001',
    scope: {},
    enforce: true,
    amount_usd: '1.00',
    period_start: '2026-12-01T00:00:00.000Z',
    period_end: DAY_END,
    spent_usd: '0',
    position: '10',
    settled_request_ids: [],
    ...over,
  };
}

describe('BudgetGuard', () => {
  let now: number;
  let replica: BudgetReplica;
  let prices: PriceSheetHolder;
  let peers: ProxyPeers;
  let guard: BudgetGuard;

  const make = (failClosed = false) => {
    now = T0;
    replica = new BudgetReplica({ now: () => now, settleTimeoutMs: 600_000, maxInFlightMs: 3_600_000 });
    prices = new PriceSheetHolder();
    peers = new ProxyPeers('me', () => now);
    guard = new BudgetGuard(replica, prices, peers, { failClosed });
  };
  const sync = (...budgets: BudgetSpendV1[]) => {
    prices.install(SHEET);
    replica.load(budgets);
  };

  beforeEach(() => make());

  describe('before the budgets and prices are loaded', () => {
    it('fails open by default', () => {
      expect(guard.admit(req('r1', 10))).toEqual({ ok: true });
      expect(replica.reservationCount).toBe(0);
    });

    it('fails closed when configured, with 429 budget_exceeded, until both are loaded', () => {
      make(true);
      expect(guard.admit(req('r1', 10))).toMatchObject({ ok: false, status: 429, type: 'budget_exceeded' });
      replica.load([]);
      expect(guard.admit(req('r1', 10)).ok).toBe(false); // no price sheet yet
      prices.install(SHEET);
      expect(guard.admit(req('r1', 10)).ok).toBe(true);
    });
  });

  describe('scope', () => {
    it.each<[string, BudgetScope, boolean]>([
      ['empty scope: every request', {}, true],
      ['tenant', { tenant: 'acme' }, true],
      ['other tenant', { tenant: 'other' }, false],
      ['key', { key_id: 'key_a' }, true],
      ['other key', { key_id: 'key_b' }, false],
      ['provider', { provider: 'openai' }, true],
      ['other provider', { provider: 'anthropic' }, false],
      ['model', { model: 'cheap' }, true],
      ['other model', { model: 'gpt-4o' }, false],
      ['dims all match', { dims: { team: 'search' } }, true],
      ['a dim differs', { dims: { team: 'ads' } }, false],
      ['a dim is missing', { dims: { team: 'search', env: 'prod' } }, false],
      ['combination', { tenant: 'acme', provider: 'openai', dims: { team: 'search' } }, true],
    ])('%s', (_name, scope, inScope) => {
      sync(spend({ scope, spent_usd: '1.00' })); // used up: a request in scope is denied
      expect(guard.admit(req('r1', 10)).ok).toBe(!inScope);
    });

    it('ignores budgets that are not enforcing or removed', () => {
      sync(spend({ spent_usd: '5', enforce: false }), spend({ budget_id: 'bud_2', spent_usd: '5' }));
      expect(guard.admit(req('r1', 10)).ok).toBe(false);
      replica.apply(spend({ budget_id: 'bud_2', removed: true, position: '11' }));
      expect(guard.admit(req('r2', 10)).ok).toBe(true);
      expect(replica.reservationCount).toBe(0);
    });
  });

  describe('reservations', () => {
    it('denies when spent + reservations + this request would pass the amount', () => {
      sync(spend({ amount_usd: '0.10', spent_usd: '0.05' }));
      const a = req('a', 2000); // ≈ $0.02
      expect(guard.admit(a)).toEqual({ ok: true });
      expect(guard.admit(req('b', 2000)).ok).toBe(true);
      const denied = guard.admit(req('c', 1000));
      expect(denied).toMatchObject({ ok: false, status: 429, type: 'budget_exceeded' });
      expect(denied.ok === false && denied.message).toMatch(/bud_0000000000000001.*\$0\.10/);
      expect(replica.row('bud_0000000000000001')!.reserved).toBeCloseTo(2 * costOf(a), 12);
      // A smaller request still fits in what is left.
      expect(guard.admit(req('d', 100)).ok).toBe(true);
    });

    it('reserves the request against every enforcing budget in scope; the tighter one decides', () => {
      sync(
        spend({ budget_id: 'bud_wide', amount_usd: '100' }),
        spend({ budget_id: 'bud_team', scope: { dims: { team: 'search' } }, amount_usd: '0.03' }),
      );
      expect(guard.admit(req('a', 2000)).ok).toBe(true);
      expect(guard.admit(req('b', 2000)).ok).toBe(false);
      expect(guard.admit(req('c', 2000, { dims: { team: 'ads' } })).ok).toBe(true);
      expect(replica.reservedByBudget()).toEqual({
        bud_wide: expect.any(Number),
        bud_team: expect.any(Number),
      });
    });

    it('keeps the reservation after the request ends, until the ledger settles it in the spend', () => {
      sync(spend({ amount_usd: '0.03' }));
      expect(guard.admit(req('a', 2000)).ok).toBe(true);
      guard.release('a');
      expect(guard.admit(req('b', 2000)).ok).toBe(false); // still held: the real cost is not in the spend yet
      replica.apply(
        spend({ amount_usd: '0.03', spent_usd: '0.001', position: '11', settled_request_ids: ['a'] }),
      );
      expect(replica.reservationCount).toBe(0);
      expect(guard.admit(req('b', 2000)).ok).toBe(true);
    });

    it('drops the settled reservations of a stale message but keeps the newer spend', () => {
      sync(spend({ amount_usd: '0.03', position: '20', spent_usd: '0.01' }));
      guard.admit(req('a', 1000));
      replica.apply(
        spend({ amount_usd: '0.03', position: '15', spent_usd: '0.002', settled_request_ids: ['a'] }),
      );
      expect(replica.reservationCount).toBe(0);
      expect(replica.row('bud_0000000000000001')!.spent).toBe(0.01);
    });

    it('lets a finished reservation go after the settle timeout, an unfinished one only after the in-flight limit', () => {
      sync(spend({ amount_usd: '1' }));
      guard.admit(req('done', 100));
      guard.admit(req('streaming', 100));
      guard.release('done');
      now += 599_000;
      expect(replica.sweep()).toBe(0);
      now += 2_000;
      expect(replica.sweep()).toBe(1);
      expect(replica.reservationCount).toBe(1);
      now = T0 + 3_600_000 + 600_000;
      expect(replica.sweep()).toBe(1);
      expect(replica.row('bud_0000000000000001')!.reserved).toBe(0);
    });

    it('counts the per-request fee and the price sheet’s fallback for an unknown model', () => {
      prices.install({ ...SHEET, version: 'v2+ov0', fallback: ['0', '0', '0.5'] });
      replica.load([spend({ amount_usd: '0.60' })]);
      expect(guard.admit(req('a', 0, { provider: 'unknown-provider', model: 'x' })).ok).toBe(true);
      expect(guard.admit(req('b', 0, { provider: 'unknown-provider', model: 'x' })).ok).toBe(false);
    });
  });

  describe('period rollover', () => {
    it('starts the new period at zero when the old one ends, without a message', () => {
      sync(spend({ spent_usd: '1.00' }));
      expect(guard.admit(req('a', 10)).ok).toBe(false);
      now = Date.parse(DAY_END);
      expect(guard.admit(req('b', 10)).ok).toBe(true);
      expect(replica.row('bud_0000000000000001')!.spent).toBe(0);
    });

    it('does not count the old period’s reservations in the new one, nor a late message about the old period', () => {
      sync(spend({ amount_usd: '0.03' }));
      guard.admit(req('old', 2000));
      now = Date.parse(DAY_END) + 1;
      expect(guard.admit(req('new', 2000)).ok).toBe(true);
      expect(replica.reservationCount).toBe(1);
      replica.apply(
        spend({ amount_usd: '0.03', spent_usd: '0.025', position: '12', settled_request_ids: ['old'] }),
      );
      expect(replica.row('bud_0000000000000001')!.spent).toBe(0);
      expect(replica.row('bud_0000000000000001')!.reserved).toBeGreaterThan(0);
      // The ledger's first message about the new period replaces the row.
      replica.apply(
        spend({
          amount_usd: '0.03',
          period_start: DAY_END,
          period_end: '2026-12-03T00:00:00.000Z',
          spent_usd: '0.02',
          position: '13',
          settled_request_ids: ['new'],
        }),
      );
      expect(replica.row('bud_0000000000000001')).toMatchObject({ spent: 0.02, reserved: 0 });
      expect(guard.admit(req('next', 2000)).ok).toBe(false);
    });
  });

  describe('several proxies', () => {
    const beat = (id: string, reserved: Record<string, number> = {}, extra: Partial<ProxyHeartbeatV1> = {}) =>
      peers.heard({ proxy_id: id, sent_at: '', interval_ms: 1000, reserved, ...extra });

    it('admits only up to this proxy’s share of the headroom, rebalanced as proxies come and go', () => {
      sync(spend({ amount_usd: '0.05', spent_usd: '0.01' })); // headroom $0.04
      beat('other');
      expect(peers.liveCount()).toBe(2);
      expect(guard.admit(req('a', 1500)).ok).toBe(true); // ≈ $0.015 of a $0.02 share
      expect(guard.admit(req('b', 1500)).ok).toBe(false);
      now += 3_001; // three missed heartbeats: gone
      expect(peers.liveCount()).toBe(1);
      expect(guard.admit(req('b', 1500)).ok).toBe(true);
      beat('other');
      beat('third');
      expect(guard.admit(req('c', 100)).ok).toBe(false);
      beat('third', {}, { leaving: true });
      expect(peers.liveCount()).toBe(2);
      expect(beat('me')).toBe(false);
    });

    it('never takes what the others report holding, even when it believes it is alone in its share', () => {
      sync(spend({ amount_usd: '0.05' }));
      beat('other', { bud_0000000000000001: 0.035 });
      // Share = $0.025, but the other holds $0.035: only $0.015 is left.
      expect(guard.admit(req('a', 1600)).ok).toBe(false);
      expect(guard.admit(req('b', 1400)).ok).toBe(true);
    });
  });
});
