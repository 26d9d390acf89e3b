// Denials: requests SpendOps refused (bad key, policy, budget), newest first.
import type { AdminApi, Denial } from '../api';
import { dayRange } from '../format';
import { dateTime, Empty, Loaded, useLoad } from '../ui';
import { dimParams, FilterForm, type Field } from './filters';

const FIELDS: Field[] = [
  { name: 'request_id', label: 'Request id' },
  { name: 'provider', label: 'Provider' },
  { name: 'key_id', label: 'Key id' },
  { name: 'tenant_id', label: 'Tenant' },
  { name: 'dims', label: 'Dimensions', placeholder: 'team=backend' },
  { name: 'from', label: 'From', type: 'date' },
  { name: 'to', label: 'To', type: 'date' },
];

function query(search: URLSearchParams): Record<string, string> {
  const q: Record<string, string> = { limit: '100' };
  for (const k of ['request_id', 'provider', 'key_id', 'tenant_id']) {
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
  return { ...q, ...dimParams(search.get('dims')) };
}

export function DenialsPage({ api, search }: { api: AdminApi; search: URLSearchParams }) {
  const key = search.toString();
  const [load, reload] = useLoad(
    () => api.get<{ denials: Denial[]; next: string | null }>('/api/v1/denials', query(search)),
    [api, key],
  );
  return (
    <>
      <h1 tabIndex={-1}>Denials</h1>
      <FilterForm key={key} path="/denials" fields={FIELDS} values={search} />
      <Loaded load={load} retry={reload} what="denials">
        {({ denials }) =>
          denials.length === 0 ? (
            <Empty>No denied requests match. Good news.</Empty>
          ) : (
            <table data-testid="denials-table">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Type</th>
                  <th scope="col">Reason</th>
                  <th scope="col" class="num">
                    HTTP
                  </th>
                  <th scope="col">Provider</th>
                  <th scope="col">Key</th>
                  <th scope="col">Tenant</th>
                  <th scope="col">Path</th>
                </tr>
              </thead>
              <tbody>
                {denials.map((d) => (
                  <tr key={d.request_id}>
                    <td>{dateTime(d.ts)}</td>
                    <td>{d.type}</td>
                    <td>{d.reason}</td>
                    <td class="num">{d.http_status}</td>
                    <td>{d.provider || '—'}</td>
                    <td class="mono">{d.api_key_id || '—'}</td>
                    <td>{d.tenant_id || '—'}</td>
                    <td class="mono">{d.path}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </>
  );
}
