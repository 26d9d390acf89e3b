// Requests: the usage events, newest first, filtered and paged by the API's cursor; each links to its detail.
import { useState } from 'preact/hooks';
import type { AdminApi, UsageEvent } from '../api';
import { count, dayRange, usdExact } from '../format';
import { Link } from '../router';
import { dateTime, Empty, ErrorMessage, Loaded, messageOf, useLoad } from '../ui';
import { dimParams, FilterForm, type Field } from './filters';

const FIELDS: Field[] = [
  { name: 'request_id', label: 'Request id' },
  { name: 'provider', label: 'Provider' },
  { name: 'model', label: 'Model' },
  { name: 'key_id', label: 'Key id' },
  { name: 'tenant_id', label: 'Tenant' },
  { name: 'dims', label: 'Dimensions', placeholder: 'team=backend' },
  { name: 'from', label: 'From', type: 'date' },
  { name: 'to', label: 'To', type: 'date' },
];

type Page = { events: UsageEvent[]; next: string | null };

function query(search: URLSearchParams): Record<string, string> {
  const q: Record<string, string> = {};
  for (const k of ['request_id', 'provider', 'model', 'key_id', 'tenant_id']) {
    const v = search.get(k);
    if (v) q[k] = v;
  }
  const from = search.get('from');
  const to = search.get('to');
  if (from || to) {
    const r = dayRange(from || '2000-01-01', to || new Date().toISOString().slice(0, 10));
    if (from) q.from = r.from;
    if (to) q.to = r.to;
  }
  return { ...q, ...dimParams(search.get('dims')), limit: '50' };
}

export function RequestsPage({ api, search }: { api: AdminApi; search: URLSearchParams }) {
  const key = search.toString();
  const [load, reload] = useLoad(() => api.get<Page>('/api/v1/events', query(search)), [api, key]);
  const [more, setMore] = useState<{ key: string; events: UsageEvent[]; next: string | null } | null>(null);
  const [moreError, setMoreError] = useState('');
  const extra = more?.key === key ? more : null;
  return (
    <>
      <h1 tabIndex={-1}>Requests</h1>
      <FilterForm key={key} path="/requests" fields={FIELDS} values={search} />
      <Loaded load={load} retry={reload} what="requests">
        {(page) => {
          const events = [...page.events, ...(extra?.events ?? [])];
          const next = extra ? extra.next : page.next;
          if (events.length === 0) return <Empty>No requests match these filters.</Empty>;
          const loadMore = async () => {
            try {
              const p = await api.get<Page>('/api/v1/events', { ...query(search), next: next ?? undefined });
              setMore({ key, events: [...(extra?.events ?? []), ...p.events], next: p.next });
            } catch (err) {
              setMoreError(messageOf(err));
            }
          };
          return (
            <>
              <table data-testid="requests-table">
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Request</th>
                    <th scope="col">Provider</th>
                    <th scope="col">Model</th>
                    <th scope="col">Outcome</th>
                    <th scope="col" class="num">
                      Tokens in
                    </th>
                    <th scope="col" class="num">
                      Tokens out
                    </th>
                    <th scope="col" class="num">
                      Cost
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {events.map((e) => (
                    <tr key={e.request_id}>
                      <td>{dateTime(e.ts)}</td>
                      <td>
                        <Link href={`/requests/${encodeURIComponent(e.request_id)}`} class="mono">
                          {e.request_id.slice(0, 8)}
                        </Link>
                      </td>
                      <td>{e.provider}</td>
                      <td>{e.model ?? '—'}</td>
                      <td>{e.outcome}</td>
                      <td class="num">{count(e.prompt_tokens)}</td>
                      <td class="num">{count(e.completion_tokens)}</td>
                      <td class="num">{usdExact(e.total_cost_usd)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {moreError && <ErrorMessage message={moreError} />}
              {next && (
                <button type="button" onClick={loadMore}>
                  Load more
                </button>
              )}
            </>
          );
        }}
      </Loaded>
    </>
  );
}
