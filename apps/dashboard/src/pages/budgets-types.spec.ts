import { barScale, periodName, scopeText, type Budget } from './budgets-types';

describe('budget display helpers', () => {
  it('scales the bar to 100 % or the highest threshold or the spend, whichever is largest', () => {
    expect(barScale(40, [50, 75, 90, 100]).at(50)).toBe(50);
    const over = barScale(40, [50, 100, 125]);
    expect(over.max).toBe(125);
    expect(over.at(100)).toBe(80);
    const spent = barScale(200, [50, 100]);
    expect([spent.at(200), spent.at(100)]).toEqual([100, 50]);
    expect(barScale(Number.NaN, [50]).at(50)).toBe(50);
  });

  it('says the scope and period in words', () => {
    expect(scopeText({})).toBe('All spend');
    expect(scopeText({ tenant: 'acme', model: 'gpt-4o', dims: { team: 'search' } })).toBe(
      'tenant acme · model gpt-4o · team=search',
    );
    expect(periodName({ period: 'fiscal_month', start_day: 15 } as Budget)).toBe('Fiscal month from day 15');
    expect(periodName({ period: 'month' } as Budget)).toBe('Monthly');
  });
});
