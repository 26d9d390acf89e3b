import { forecast } from './forecast';
import { budgetIdFromName, budgetStreamId, isBudgetId, newBudgetId } from './ids';
import { scopeMatches } from './scope';
import { formatUsd, percentUsed, thresholdsCrossed, thresholdsReached } from './thresholds';

describe('thresholdsCrossed', () => {
  const t = [50, 75, 90, 100];
  // [before, after, amount, crossed]
  const cases: [string, string, string, number[]][] = [
    ['0', '49.99', '100', []],
    ['0', '50', '100', [50]],
    ['49.999999999999', '50.000000000000', '100', [50]],
    ['50', '74.99', '100', []],
    ['50', '50.01', '100', []],
    ['10', '95', '100', [50, 75, 90]],
    ['0', '1000', '100', [50, 75, 90, 100]],
    ['99.999999999', '100', '100', [100]],
    ['100', '200', '100', []],
    ['60', '40', '100', []],
    ['0.000000000001', '0.000000000002', '0.000000000003', [50]],
    ['0', '0.05', '0.10', [50]],
    ['33.33', '33.334', '66.67', []],
    ['33.33', '33.335', '66.67', [50]],
  ];
  it.each(cases)('%s → %s of %s', (before, after, amount, crossed) => {
    expect(thresholdsCrossed(t, amount, before, after)).toEqual(crossed);
  });

  it('exact to the last digit where floats are not (0.1 + 0.2 reaches 30 % of 1)', () => {
    expect(thresholdsCrossed([30], '1', '0.1', '0.3')).toEqual([30]);
    expect(thresholdsCrossed([30], '1', '0.1', '0.299999999999')).toEqual([]);
  });

  it('thresholds over 100 %', () => {
    expect(thresholdsCrossed([100, 110, 150], '10', '10.5', '15')).toEqual([110, 150]);
  });

  it('thresholdsReached lists every threshold at or under the spend', () => {
    expect(thresholdsReached(t, '80', '60')).toEqual([50, 75]);
    expect(thresholdsReached(t, '80', '0')).toEqual([]);
  });
});

describe('percentUsed and formatUsd', () => {
  it.each([
    ['0', '100', '0.00'],
    ['50', '100', '50.00'],
    ['99.999', '100', '99.99'],
    ['1', '3', '33.33'],
    ['250', '100', '250.00'],
  ])('%s of %s is %s %%', (spent, amount, pct) => expect(percentUsed(spent, amount)).toBe(pct));

  it('formats spend with at least two decimals and no lost digits', () => {
    expect(formatUsd('12.5')).toBe('12.50');
    expect(formatUsd('0')).toBe('0.00');
    expect(formatUsd('0.000123000')).toBe('0.000123');
  });
});

describe('forecast', () => {
  const start = new Date('2026-11-01T00:00:00Z');
  const end = new Date('2026-12-01T00:00:00Z'); // 30 days
  const at = (days: number) => new Date(start.getTime() + days * 86400_000);
  it.each([
    ['run rate: 10 days of 30', '100', at(10), '300.00'],
    ['half way', '12.34', at(15), '24.68'],
    ['nothing spent', '0', at(10), '0.00'],
    ['before the period', '5', at(-1), '5.00'],
    ['period over', '77.777', at(31), '77.78'],
    ['at the end', '77.77', at(30), '77.77'],
    ['minutes in: 1 % of the period is the least counted', '1', at(0.001), '100.00'],
    ['exact thirds', '1', at(20), '1.50'],
  ])('%s', (_name, spent, now, expected) => {
    expect(forecast(spent, start, end, now)).toBe(expected);
  });
});

describe('scopeMatches', () => {
  const event = {
    tenant_id: 'acme',
    api_key_id: 'key_1',
    provider: 'openai',
    model: 'gpt-4o',
    dims: { team: 'search', env: 'prod' },
  };
  it.each([
    [{}, true],
    [{ tenant: 'acme' }, true],
    [{ tenant: 'other' }, false],
    [{ key_id: 'key_1', provider: 'openai' }, true],
    [{ key_id: 'key_1', provider: 'anthropic' }, false],
    [{ model: 'gpt-4o' }, true],
    [{ model: 'gpt-4o-mini' }, false],
    [{ dims: { team: 'search' } }, true],
    [{ dims: { team: 'search', env: 'prod' } }, true],
    [{ dims: { team: 'search', env: 'dev' } }, false],
    [{ dims: { region: 'eu' } }, false],
    [{ dims: {} }, true],
    [{ tenant: 'acme', key_id: 'key_1', provider: 'openai', model: 'gpt-4o', dims: { env: 'prod' } }, true],
  ])('%j → %s', (scope, expected) => expect(scopeMatches(scope, event)).toBe(expected));

  it('an event without dims matches no dimension scope', () => {
    expect(scopeMatches({ dims: { team: 'x' } }, { ...event, dims: null })).toBe(false);
    expect(scopeMatches({ dims: { toString: 'x' } }, { ...event, dims: {} })).toBe(false);
  });
});

describe('ids', () => {
  it('bud_ + 16 hex, stable from a name, stream budget:{id}', () => {
    const id = newBudgetId();
    expect(isBudgetId(id)).toBe(true);
    expect(newBudgetId()).not.toBe(id);
    expect(budgetIdFromName('search')).toBe(budgetIdFromName('search'));
    expect(budgetIdFromName('search')).not.toBe(budgetIdFromName('Search'));
    expect(isBudgetId(budgetIdFromName('x'))).toBe(true);
    expect(isBudgetId('bud_ABCDEF0123456789')).toBe(false);
    expect(budgetStreamId(id)).toBe(`budget:${id}`);
  });
});
