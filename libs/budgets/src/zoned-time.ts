// Wall-clock arithmetic in an IANA time zone with Intl only (no tz database dependency). A zone's offset is
// read from Intl for the instant in question, so DST changes come out right: a New York day on a DST change is
// 23 or 25 hours long.

/** A calendar date (month 1..12) and the ISO weekday (1 = Monday .. 7 = Sunday) of an instant in a zone. */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
  weekday: number;
}

interface LocalFields extends LocalDate {
  hour: number;
  minute: number;
  second: number;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether Intl knows the zone (`UTC`, `Europe/Paris`, ...). */
export function isKnownTimeZone(zone: string): boolean {
  if (!zone) return false;
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's canonical name as Intl spells it (`europe/paris` → `Europe/Paris`, `Etc/UTC` stays). */
export function canonicalTimeZone(zone: string): string {
  return formatter(zone).resolvedOptions().timeZone;
}

function localFields(zone: string, ms: number): LocalFields {
  const out: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(new Date(ms))) {
    if (part.type === 'weekday') out.weekday = WEEKDAYS[part.value];
    else if (part.type !== 'literal') out[part.type] = Number(part.value);
  }
  return out as unknown as LocalFields;
}

export function localDateOf(zone: string, instant: Date): LocalDate {
  if (zone === 'UTC') {
    const weekday = instant.getUTCDay() || 7;
    return {
      year: instant.getUTCFullYear(),
      month: instant.getUTCMonth() + 1,
      day: instant.getUTCDate(),
      weekday,
    };
  }
  const { year, month, day, weekday } = localFields(zone, instant.getTime());
  return { year, month, day, weekday };
}

/** The zone's offset from UTC at `ms`, in milliseconds (local = UTC + offset), to the second. */
function offsetAt(zone: string, ms: number): number {
  const f = localFields(zone, ms);
  const asUtc = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

function dayKey(year: number, month: number, day: number): number {
  return Date.UTC(year, month - 1, day);
}

/**
 * The first instant of a calendar day in a zone (month may overflow: month 13 is January of the next year,
 * day 0 the last day of the previous month). Usually local midnight; where the clocks jump over midnight, the
 * instant of the jump.
 */
export function startOfLocalDay(zone: string, year: number, month: number, day: number): Date {
  const target = new Date(Date.UTC(year, month - 1, day));
  if (zone === 'UTC') return target; // the common case, without Intl
  const [y, m, d] = [target.getUTCFullYear(), target.getUTCMonth() + 1, target.getUTCDate()];
  const wall = target.getTime();
  let t = wall - offsetAt(zone, wall);
  t = wall - offsetAt(zone, t);
  const f = localFields(zone, t);
  if (f.year === y && f.month === m && f.day === d && f.hour === 0 && f.minute === 0 && f.second === 0)
    return new Date(t);
  // No local midnight that day (a DST jump over it): the day starts at the first instant whose local date is it.
  const want = dayKey(y, m, d);
  const reached = (ms: number) => {
    const g = localFields(zone, ms);
    return dayKey(g.year, g.month, g.day) >= want;
  };
  let lo = t - 6 * 3600_000;
  let hi = t + 6 * 3600_000;
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000;
    if (mid <= lo || mid >= hi) break;
    if (reached(mid)) hi = mid;
    else lo = mid;
  }
  return new Date(hi);
}
