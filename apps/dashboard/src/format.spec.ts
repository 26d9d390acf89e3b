import {
  bucketStarts,
  count,
  dayRange,
  monthForecast,
  monthToDate,
  stackSeries,
  usd,
  usdExact,
  usdShort,
} from './format';

describe('dashboard formatting', () => {
  it('formats totals as $1,234.56, rounding the exact decimal half up', () => {
    expect(usd('1234.564999999')).toBe('$1,234.56');
    expect(usd('1234.565')).toBe('$1,234.57');
    expect(usd('0.004999')).toBe('$0.00');
    expect(usd('0.005')).toBe('$0.01');
    expect(usd('999999.995')).toBe('$1,000,000.00');
    expect(usd('0')).toBe('$0.00');
    expect(usd('-12.3')).toBe('-$12.30');
    expect(usd(null)).toBe('—');
  });

  it('shows a request cost with at least 4 decimals under $1', () => {
    expect(usdExact('0.000150000')).toBe('$0.00015');
    expect(usdExact('0.000000000')).toBe('$0.0000');
    expect(usdExact('0.0123')).toBe('$0.0123');
    expect(usdExact('0.000000001')).toBe('$0.000000001');
    expect(usdExact('12.500000000')).toBe('$12.50');
    expect(usdExact('1234.5678')).toBe('$1,234.5678');
    expect(usdExact(null)).toBe('—');
  });

  it('writes a non-zero spend under half a cent as <$0.01', () => {
    expect(usdShort('0.00045')).toBe('<$0.01');
    expect(usdShort('0')).toBe('$0.00');
    expect(usdShort('0.005')).toBe('$0.01');
    expect(usdShort('12.345')).toBe('$12.35');
  });

  it('groups counts', () => {
    expect(count(1234567)).toBe('1,234,567');
    expect(count(0)).toBe('0');
    expect(count(null)).toBe('—');
  });

  it('builds UTC ranges with an exclusive end', () => {
    const now = new Date('2026-12-02T05:00:00Z');
    expect(monthToDate(now)).toEqual({ from: '2026-12-01T00:00:00.000Z', to: '2026-12-03T00:00:00.000Z' });
    expect(dayRange('2026-11-01', '2026-11-30')).toEqual({
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-12-01T00:00:00.000Z',
    });
    expect(() => dayRange('2026-11-02', '2026-11-01')).toThrow('end date');
    expect(bucketStarts(dayRange('2026-11-29', '2026-11-30'), 'day')).toEqual([
      '2026-11-29T00:00:00.000Z',
      '2026-11-30T00:00:00.000Z',
    ]);
    expect(bucketStarts(dayRange('2026-11-29', '2026-11-29'), 'hour')).toHaveLength(24);
  });

  it('forecasts the month from the part elapsed', () => {
    // 15 of 30 November days elapsed: twice the spend so far.
    expect(monthForecast('100', new Date('2026-11-16T00:00:00Z'))).toBeCloseTo(200, 6);
    expect(monthForecast('0', new Date('2026-11-16T00:00:00Z'))).toBe(0);
  });

  it('stacks the costliest groups and sums the rest as other', () => {
    const buckets = ['2026-11-01T00:00:00.000Z', '2026-11-02T00:00:00.000Z'];
    const row = (b: number, model: string, cost: string) => ({
      bucket_start: buckets[b].replace('.000Z', 'Z'),
      group: { model },
      cost_usd: cost,
      requests: 1,
    });
    const s = stackSeries(
      [row(0, 'a', '1'), row(1, 'a', '2'), row(0, 'b', '5'), row(1, 'c', '0.5'), row(1, 'd', '0.25')],
      ['model'],
      buckets,
      2,
    );
    expect(s.layers).toEqual([
      { label: 'b', values: [5, 0] },
      { label: 'a', values: [1, 2] },
      { label: 'other', values: [0, 0.75] },
    ]);
  });
});
