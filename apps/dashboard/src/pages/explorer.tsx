// Explorer: spend over any date range, grouped by tenant, key, provider, model or one dimension, optionally for
// one tenant; a stacked chart over time, a table of the groups, and the matching events as CSV.
import { useState } from 'preact/hooks';
import type { AdminApi, Analytics } from '../api';
import { StackedBars } from '../chart';
import {
  addDays,
  bucketStarts,
  count,
  dayRange,
  groupLabel,
  isoDay,
  stackSeries,
  usd,
  utcDay,
  usdShort,
} from '../format';
import { navigate } from '../router';
import { Empty, ErrorMessage, Loaded, messageOf, useLoad } from '../ui';

const GROUPS = [
  ['', 'Nothing (totals)'],
  ['provider', 'Provider'],
  ['model', 'Model'],
  ['tenant_id', 'Tenant'],
  ['api_key_id', 'API key'],
  ['dim', 'A dimension…'],
] as const;

interface ExplorerQuery {
  group: string;
  dim: string;
  tenant: string;
  from: string;
  to: string;
  interval: 'hour' | 'day';
}

function readQuery(search: URLSearchParams): ExplorerQuery {
  const now = new Date();
  return {
    group: search.get('group') ?? 'provider',
    dim: search.get('dim') ?? 'team',
    tenant: search.get('tenant') ?? '',
    from: search.get('from') ?? isoDay(addDays(utcDay(now), -29)),
    to: search.get('to') ?? isoDay(now),
    interval: search.get('interval') === 'hour' ? 'hour' : 'day',
  };
}

const groupBy = (q: ExplorerQuery) => (q.group === 'dim' ? `dim:${q.dim}` : q.group);

function Controls({ initial }: { initial: ExplorerQuery }) {
  const [q, setQ] = useState(initial);
  const set = (k: keyof ExplorerQuery) => (e: Event) =>
    setQ({ ...q, [k]: (e.target as HTMLInputElement | HTMLSelectElement).value });
  const submit = (e: Event) => {
    e.preventDefault();
    const s = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v && (k !== 'dim' || q.group === 'dim')) s.set(k, v);
    navigate(`/explorer?${s.toString()}`);
  };
  return (
    <form class="filters" onSubmit={submit} aria-label="Explorer query">
      <label>
        Group by
        <select name="group" value={q.group} onChange={set('group')}>
          {GROUPS.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </select>
      </label>
      {q.group === 'dim' && (
        <label>
          Dimension key
          <input name="dim" value={q.dim} onInput={set('dim')} required />
        </label>
      )}
      <label>
        Tenant
        <input name="tenant" placeholder="all" value={q.tenant} onInput={set('tenant')} />
      </label>
      <label>
        From
        <input name="from" type="date" value={q.from} onInput={set('from')} required />
      </label>
      <label>
        To
        <input name="to" type="date" value={q.to} onInput={set('to')} required />
      </label>
      <label>
        Interval
        <select name="interval" value={q.interval} onChange={set('interval')}>
          <option value="day">Day</option>
          <option value="hour">Hour</option>
        </select>
      </label>
      <button type="submit">Apply</button>
    </form>
  );
}

function CsvExport({ api, q }: { api: AdminApi; q: ExplorerQuery }) {
  const [state, setState] = useState<'idle' | 'busy' | string>('idle');
  const run = async () => {
    setState('busy');
    try {
      const range = dayRange(q.from, q.to);
      const blob = await api.blob('/api/v1/events', { ...range, tenant_id: q.tenant, format: 'csv' });
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `spendops-events-${q.from}-${q.to}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      setState('idle');
    } catch (err) {
      setState(messageOf(err));
    }
  };
  return (
    <div class="row">
      <button type="button" class="secondary" onClick={run} disabled={state === 'busy'}>
        {state === 'busy' ? 'Exporting…' : 'Export these events as CSV'}
      </button>
      {state !== 'idle' && state !== 'busy' && <ErrorMessage message={state} />}
    </div>
  );
}

export function ExplorerPage({ api, search }: { api: AdminApi; search: URLSearchParams }) {
  const q = readQuery(search);
  const key = search.toString();
  const [load, reload] = useLoad(async () => {
    const range = dayRange(q.from, q.to);
    const data = await api.get<Analytics>('/api/v1/analytics', {
      ...range,
      interval: q.interval,
      group_by: groupBy(q),
      tenant_id: q.tenant,
    });
    return { data, range };
  }, [api, key]);
  return (
    <>
      <h1 tabIndex={-1}>Explorer</h1>
      <Controls key={key} initial={q} />
      <Loaded load={load} retry={reload} what="analytics">
        {({ data, range }) => {
          const keys = data.group_by;
          if (data.totals.requests === 0)
            return <Empty>No requests in this range{q.tenant && ` for tenant ${q.tenant}`}.</Empty>;
          return (
            <>
              <p class="summary" data-testid="explorer-total">
                {usd(data.totals.cost_usd)} over {count(data.totals.requests)} requests,{' '}
                {count(data.totals.total_tokens)} tokens
              </p>
              <StackedBars
                data={stackSeries(data.series, keys, bucketStarts(range, data.interval))}
                title="Spend over time"
              />
              <table data-testid="explorer-table">
                <thead>
                  <tr>
                    <th scope="col">{keys.length ? keys.join(' · ') : 'Group'}</th>
                    <th scope="col" class="num">
                      Requests
                    </th>
                    <th scope="col" class="num">
                      Input tokens
                    </th>
                    <th scope="col" class="num">
                      Output tokens
                    </th>
                    <th scope="col" class="num">
                      Unpriced
                    </th>
                    <th scope="col" class="num">
                      Spend
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {(keys.length ? data.groups : [{ group: {}, ...data.totals }]).map((g) => (
                    <tr key={JSON.stringify(g.group)}>
                      <td>{groupLabel(g.group, keys)}</td>
                      <td class="num">{count(g.requests)}</td>
                      <td class="num">{count(g.prompt_tokens)}</td>
                      <td class="num">{count(g.completion_tokens)}</td>
                      <td class="num">{count(g.unpriced_requests)}</td>
                      <td class="num">{usdShort(g.cost_usd)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <CsvExport api={api} q={q} />
            </>
          );
        }}
      </Loaded>
    </>
  );
}
