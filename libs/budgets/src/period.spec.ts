import type { BudgetSpec } from '@spendops/contracts';
import { periodAt, type PeriodSpec } from './period';

type Row = [string, PeriodSpec, string, string | null, string | null];

const utc = (period: BudgetSpec['period'], extra: Partial<PeriodSpec> = {}): PeriodSpec => ({
  period,
  time_zone: 'UTC',
  ...extra,
});
const zone = (time_zone: string, period: BudgetSpec['period'], extra: Partial<PeriodSpec> = {}) => ({
  period,
  time_zone,
  ...extra,
});

// [case, spec, instant, expected start, expected end]
const cases: Row[] = [
  ['UTC day', utc('day'), '2026-12-02T13:45:00Z', '2026-12-02T00:00:00.000Z', '2026-12-03T00:00:00.000Z'],
  [
    'UTC day at its first instant',
    utc('day'),
    '2026-12-02T00:00:00Z',
    '2026-12-02T00:00:00.000Z',
    '2026-12-03T00:00:00.000Z',
  ],
  [
    'UTC day at its last ms',
    utc('day'),
    '2026-12-02T23:59:59.999Z',
    '2026-12-02T00:00:00.000Z',
    '2026-12-03T00:00:00.000Z',
  ],
  [
    'UTC day across a year end',
    utc('day'),
    '2026-12-31T23:00:00Z',
    '2026-12-31T00:00:00.000Z',
    '2027-01-01T00:00:00.000Z',
  ],
  ['leap day', utc('day'), '2028-02-29T08:00:00Z', '2028-02-29T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
  [
    'New York day (EST)',
    zone('America/New_York', 'day'),
    '2026-01-15T03:00:00Z',
    '2026-01-14T05:00:00.000Z',
    '2026-01-15T05:00:00.000Z',
  ],
  [
    'New York DST start: 23 h day',
    zone('America/New_York', 'day'),
    '2026-03-08T12:00:00Z',
    '2026-03-08T05:00:00.000Z',
    '2026-03-09T04:00:00.000Z',
  ],
  [
    'New York DST end: 25 h day',
    zone('America/New_York', 'day'),
    '2026-11-01T12:00:00Z',
    '2026-11-01T04:00:00.000Z',
    '2026-11-02T05:00:00.000Z',
  ],
  [
    'New York DST end, in the repeated hour',
    zone('America/New_York', 'day'),
    '2026-11-01T06:30:00Z',
    '2026-11-01T04:00:00.000Z',
    '2026-11-02T05:00:00.000Z',
  ],
  [
    'Paris DST start: 23 h day',
    zone('Europe/Paris', 'day'),
    '2026-03-29T10:00:00Z',
    '2026-03-28T23:00:00.000Z',
    '2026-03-29T22:00:00.000Z',
  ],
  [
    'Paris DST end: 25 h day',
    zone('Europe/Paris', 'day'),
    '2026-10-25T10:00:00Z',
    '2026-10-24T22:00:00.000Z',
    '2026-10-25T23:00:00.000Z',
  ],
  // Chile moves its clocks at midnight: 2026-09-06 has no 00:00, the day starts at 01:00 (-03).
  [
    'Santiago: no local midnight',
    zone('America/Santiago', 'day'),
    '2026-09-06T12:00:00Z',
    '2026-09-06T04:00:00.000Z',
    '2026-09-07T03:00:00.000Z',
  ],
  [
    'Santiago: midnight repeated',
    zone('America/Santiago', 'day'),
    '2026-04-04T12:00:00Z',
    '2026-04-04T03:00:00.000Z',
    '2026-04-05T04:00:00.000Z',
  ],
  [
    'UTC week from Monday (default)',
    utc('week', { start_day: 1 }),
    '2026-12-02T12:00:00Z',
    '2026-11-30T00:00:00.000Z',
    '2026-12-07T00:00:00.000Z',
  ],
  [
    'UTC week, Monday itself',
    utc('week', { start_day: 1 }),
    '2026-11-30T00:00:00Z',
    '2026-11-30T00:00:00.000Z',
    '2026-12-07T00:00:00.000Z',
  ],
  [
    'UTC week, Sunday of a Monday week',
    utc('week', { start_day: 1 }),
    '2026-12-06T23:59:59Z',
    '2026-11-30T00:00:00.000Z',
    '2026-12-07T00:00:00.000Z',
  ],
  [
    'UTC week from Sunday',
    utc('week', { start_day: 7 }),
    '2026-12-02T12:00:00Z',
    '2026-11-29T00:00:00.000Z',
    '2026-12-06T00:00:00.000Z',
  ],
  [
    'week without start_day is Monday',
    utc('week'),
    '2026-12-02T12:00:00Z',
    '2026-11-30T00:00:00.000Z',
    '2026-12-07T00:00:00.000Z',
  ],
  [
    'week across a year end',
    utc('week', { start_day: 1 }),
    '2027-01-01T12:00:00Z',
    '2026-12-28T00:00:00.000Z',
    '2027-01-04T00:00:00.000Z',
  ],
  [
    'New York week over the DST start (167 h)',
    zone('America/New_York', 'week', { start_day: 1 }),
    '2026-03-10T12:00:00Z',
    '2026-03-09T04:00:00.000Z',
    '2026-03-16T04:00:00.000Z',
  ],
  [
    'New York week containing DST start',
    zone('America/New_York', 'week', { start_day: 1 }),
    '2026-03-08T12:00:00Z',
    '2026-03-02T05:00:00.000Z',
    '2026-03-09T04:00:00.000Z',
  ],
  ['UTC month', utc('month'), '2026-12-02T12:00:00Z', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
  [
    'UTC month, last instant',
    utc('month'),
    '2026-04-30T23:59:59.999Z',
    '2026-04-01T00:00:00.000Z',
    '2026-05-01T00:00:00.000Z',
  ],
  [
    'February of a leap year',
    utc('month'),
    '2028-02-29T23:00:00Z',
    '2028-02-01T00:00:00.000Z',
    '2028-03-01T00:00:00.000Z',
  ],
  [
    'February of a common year',
    utc('month'),
    '2026-02-28T23:00:00Z',
    '2026-02-01T00:00:00.000Z',
    '2026-03-01T00:00:00.000Z',
  ],
  [
    'Tokyo month: UTC Jan 31 is local Feb 1',
    zone('Asia/Tokyo', 'month'),
    '2026-01-31T16:00:00Z',
    '2026-01-31T15:00:00.000Z',
    '2026-02-28T15:00:00.000Z',
  ],
  [
    'Paris month over the DST start',
    zone('Europe/Paris', 'month'),
    '2026-03-15T12:00:00Z',
    '2026-02-28T23:00:00.000Z',
    '2026-03-31T22:00:00.000Z',
  ],
  [
    'New York month over the DST end',
    zone('America/New_York', 'month'),
    '2026-11-20T12:00:00Z',
    '2026-11-01T04:00:00.000Z',
    '2026-12-01T05:00:00.000Z',
  ],
  [
    'New York month: UTC Dec 1 01:00 is still November',
    zone('America/New_York', 'month'),
    '2026-12-01T01:00:00Z',
    '2026-11-01T04:00:00.000Z',
    '2026-12-01T05:00:00.000Z',
  ],
  [
    'fiscal month from the 15th, after it',
    utc('fiscal_month', { start_day: 15 }),
    '2026-06-20T00:00:00Z',
    '2026-06-15T00:00:00.000Z',
    '2026-07-15T00:00:00.000Z',
  ],
  [
    'fiscal month from the 15th, before it (previous month)',
    utc('fiscal_month', { start_day: 15 }),
    '2026-06-14T23:59:59Z',
    '2026-05-15T00:00:00.000Z',
    '2026-06-15T00:00:00.000Z',
  ],
  [
    'fiscal month across a year start',
    utc('fiscal_month', { start_day: 15 }),
    '2026-01-10T12:00:00Z',
    '2025-12-15T00:00:00.000Z',
    '2026-01-15T00:00:00.000Z',
  ],
  [
    'fiscal month from the 28th in February',
    utc('fiscal_month', { start_day: 28 }),
    '2026-03-01T00:00:00Z',
    '2026-02-28T00:00:00.000Z',
    '2026-03-28T00:00:00.000Z',
  ],
  [
    'fiscal month from the 28th, leap February 29',
    utc('fiscal_month', { start_day: 28 }),
    '2028-02-29T12:00:00Z',
    '2028-02-28T00:00:00.000Z',
    '2028-03-28T00:00:00.000Z',
  ],
  [
    'fiscal month from the 1st is the month',
    utc('fiscal_month', { start_day: 1 }),
    '2026-12-02T12:00:00Z',
    '2026-12-01T00:00:00.000Z',
    '2027-01-01T00:00:00.000Z',
  ],
  [
    'fiscal month in New York',
    zone('America/New_York', 'fiscal_month', { start_day: 10 }),
    '2026-03-10T03:00:00Z',
    '2026-02-10T05:00:00.000Z',
    '2026-03-10T04:00:00.000Z',
  ],
];

const custom: PeriodSpec = {
  period: 'custom',
  time_zone: 'UTC',
  from: '2026-12-01T00:00:00.000Z',
  to: '2026-12-15T12:00:00.000Z',
};
cases.push(
  ['custom: inside', custom, '2026-12-10T00:00:00Z', '2026-12-01T00:00:00.000Z', '2026-12-15T12:00:00.000Z'],
  [
    'custom: from is inclusive',
    custom,
    '2026-12-01T00:00:00Z',
    '2026-12-01T00:00:00.000Z',
    '2026-12-15T12:00:00.000Z',
  ],
  ['custom: to is exclusive', custom, '2026-12-15T12:00:00Z', null, null],
  ['custom: before', custom, '2026-11-30T23:59:59Z', null, null],
);

describe('periodAt', () => {
  it.each(cases)('%s', (_name, spec, instant, start, end) => {
    const p = periodAt(spec, new Date(instant));
    if (start === null) {
      expect(p).toBeNull();
      return;
    }
    expect(p && { start: p.start.toISOString(), end: p.end.toISOString() }).toEqual({ start, end });
  });

  it('every instant of a year in New York lies in its day, and days tile without gaps', () => {
    const spec = zone('America/New_York', 'day');
    let p = periodAt(spec, new Date('2026-01-01T05:00:00Z'))!;
    const lengths = new Set<number>();
    for (let i = 0; i < 366; i++) {
      const next = periodAt(spec, p.end)!;
      expect(next.start.getTime()).toBe(p.end.getTime());
      lengths.add((p.end.getTime() - p.start.getTime()) / 3600_000);
      const mid = new Date((p.start.getTime() + p.end.getTime()) / 2);
      expect(periodAt(spec, mid)).toEqual(p);
      p = next;
    }
    expect([...lengths].sort()).toEqual([23, 24, 25]);
  });
});

describe('the UTC shortcut', () => {
  it('agrees with the Intl path (Etc/UTC) for every period kind', () => {
    const kinds: PeriodSpec[] = [
      { period: 'day', time_zone: 'UTC' },
      { period: 'week', time_zone: 'UTC', start_day: 3 },
      { period: 'month', time_zone: 'UTC' },
      { period: 'fiscal_month', time_zone: 'UTC', start_day: 17 },
    ];
    for (const spec of kinds)
      for (let t = Date.UTC(2027, 11, 25); t < Date.UTC(2028, 2, 5); t += 7 * 3600_000 + 13_000) {
        const at = new Date(t);
        expect(periodAt(spec, at)).toEqual(periodAt({ ...spec, time_zone: 'Etc/UTC' }, at));
      }
  });
});
