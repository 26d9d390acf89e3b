// The query string of /events and /denials as a read-model filter.
import type { EventFilter } from '@spendops/contracts';
import { badParam } from '../common/api-error';
import { singleValued, timeRange } from '../common/query';
import { validateAs } from '../common/validation';
import { EventQueryDto } from './event-query.dto';

export type ExportFormat = 'json' | 'ndjson' | 'csv';

export interface EventRequest {
  filter: EventFilter;
  format: ExportFormat;
  /** Exports: the total row cap (`limit`); 0 = every matching row. */
  maxTotal: number;
}

export function parseEventQuery(query: unknown): EventRequest {
  const raw = singleValued(query);
  const dims: Record<string, string> = {};
  const rest: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (name.startsWith('dim.')) {
      if (name === 'dim.') throw badParam('dim.', 'empty dimension key');
      dims[name.slice(4)] = value;
    } else rest[name] = value;
  }
  const q = validateAs(EventQueryDto, rest);
  const format = q.format ?? 'json';
  const limit = q.limit !== undefined ? Number(q.limit) : undefined;
  const filter: EventFilter = {
    request_id: q.request_id || undefined,
    provider: q.provider || undefined,
    model: q.model || undefined,
    key_id: q.key_id || undefined,
    tenant_id: q.tenant_id || undefined,
    ...timeRange(q.from || undefined, q.to || undefined),
    dims: Object.keys(dims).length > 0 ? dims : undefined,
    order: q.order,
    next: q.next || undefined,
  };
  if (format === 'json') filter.limit = limit;
  return { filter, format, maxTotal: format === 'json' ? 0 : (limit ?? 0) };
}
