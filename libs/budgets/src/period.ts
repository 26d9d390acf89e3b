// Period boundaries of a budget, computed in the budget's time zone: [start, end), start inclusive.
//   day           local midnight to the next local midnight (23 or 25 hours on a DST change)
//   week          from the last local midnight starting the ISO weekday `start_day` (1 = Monday, default)
//   month         the 1st of the local month to the 1st of the next
//   fiscal_month  day `start_day` (1..28) of the local month to the same day of the next month
//   custom        exactly [from, to); null for an instant outside it
import type { BudgetSpec } from '@spendops/contracts';
import { localDateOf, startOfLocalDay } from './zoned-time';

export interface Period {
  start: Date;
  end: Date;
}

export type PeriodSpec = Pick<BudgetSpec, 'period' | 'time_zone' | 'start_day' | 'from' | 'to'>;

export function periodAt(spec: PeriodSpec, instant: Date): Period | null {
  const zone = spec.time_zone || 'UTC';
  if (spec.period === 'custom') {
    if (!spec.from || !spec.to) return null;
    const start = new Date(spec.from);
    const end = new Date(spec.to);
    const t = instant.getTime();
    return t >= start.getTime() && t < end.getTime() ? { start, end } : null;
  }
  const { year, month, day, weekday } = localDateOf(zone, instant);
  const at = (y: number, m: number, d: number) => startOfLocalDay(zone, y, m, d);
  switch (spec.period) {
    case 'day':
      return { start: at(year, month, day), end: at(year, month, day + 1) };
    case 'week': {
      const back = (weekday - (spec.start_day ?? 1) + 7) % 7;
      return { start: at(year, month, day - back), end: at(year, month, day - back + 7) };
    }
    case 'month':
      return { start: at(year, month, 1), end: at(year, month + 1, 1) };
    case 'fiscal_month': {
      const startDay = spec.start_day ?? 1;
      const m = day >= startDay ? month : month - 1;
      return { start: at(year, m, startDay), end: at(year, m + 1, startDay) };
    }
    default:
      return null;
  }
}
