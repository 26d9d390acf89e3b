// Query-string rules shared by the admin routes: no empty names, no parameter given twice, RFC 3339 times.
import { badParam } from './api-error';

/** The query with one string per parameter; a repeated parameter is a 400 naming it. */
export function singleValued(query: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (name === '') throw badParam('', 'empty parameter name');
    if (Array.isArray(value)) throw badParam(name, 'given more than once');
    out[name] = String(value);
  }
  return out;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 time; an unescaped "+01:00" offset arrives as " 01:00" and is taken as meant. */
export function rfc3339(param: string, value: string): { text: string; ms: number } {
  const text = value.replace(/ /g, '+');
  const ms = Date.parse(text);
  if (!RFC3339.test(text) || Number.isNaN(ms))
    throw badParam(param, 'want an RFC 3339 time such as 2026-01-02T15:04:05Z');
  return { text, ms };
}

/** from < to when both are given. */
export function timeRange(from?: string, to?: string): { from?: string; to?: string } {
  const f = from !== undefined ? rfc3339('from', from) : undefined;
  const t = to !== undefined ? rfc3339('to', to) : undefined;
  if (f && t && f.ms >= t.ms) throw badParam('to', 'must be after from');
  return { from: f?.text, to: t?.text };
}
