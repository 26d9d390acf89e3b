// Pricing: the catalog with expense tiers, models seen without a price, tenant overrides and re-pricing runs.
import { useEffect, useState } from 'preact/hooks';
import type { AdminApi, PriceOverride, PricingModels, UnpricedModel } from '../api';
import { count, dayRange, usdExact } from '../format';
import { dateTime, Empty, ErrorMessage, Loaded, messageOf, TextField, useLoad } from '../ui';

const rate = (v: string | undefined) => (v === undefined ? '—' : `$${v}`);

function Catalog({ api }: { api: AdminApi }) {
  const [load, reload] = useLoad(() => api.get<PricingModels>('/api/v1/pricing/models'), [api]);
  const [filter, setFilter] = useState('');
  return (
    <section class="panel" aria-label="Catalog">
      <h2>Catalog</h2>
      <Loaded load={load} retry={reload} what="prices">
        {(d) => {
          const f = filter.toLowerCase();
          const rows = d.models.filter((m) => !f || `${m.provider}/${m.model}`.toLowerCase().includes(f));
          return (
            <>
              <p class="hint">
                Catalog version {d.version}, overrides version {d.overrides_version}. Rates in USD per 1M
                tokens.
              </p>
              <label class="inline">
                Find a model{' '}
                <input
                  type="search"
                  value={filter}
                  onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
                />
              </label>
              {rows.length === 0 ? (
                <Empty>No model matches.</Empty>
              ) : (
                <div class="scroll">
                  <table data-testid="catalog-table">
                    <thead>
                      <tr>
                        <th scope="col">Provider</th>
                        <th scope="col">Model</th>
                        <th scope="col">Tier</th>
                        <th scope="col" class="num">
                          Input
                        </th>
                        <th scope="col" class="num">
                          Cached input
                        </th>
                        <th scope="col" class="num">
                          Output
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {rows.slice(0, 300).map((m) => (
                        <tr key={`${m.provider}/${m.model}`}>
                          <td>{m.provider}</td>
                          <td>{m.model}</td>
                          <td>
                            {m.expense?.tier ?? '—'}
                            {m.expense?.warn ? ' ⚠' : ''}
                          </td>
                          <td class="num">{rate(m.current.rates.input)}</td>
                          <td class="num">{rate(m.current.rates.cache_read)}</td>
                          <td class="num">{rate(m.current.rates.output)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              {rows.length > 300 && <p class="hint">Showing 300 of {rows.length}; narrow the search.</p>}
            </>
          );
        }}
      </Loaded>
    </section>
  );
}

function Unpriced({ api }: { api: AdminApi }) {
  const [load, reload] = useLoad(
    () => api.get<{ models: UnpricedModel[] }>('/api/v1/pricing/unpriced'),
    [api],
  );
  return (
    <section class="panel" aria-label="Unpriced models">
      <h2>Models without a price</h2>
      <Loaded load={load} retry={reload} what="unpriced models">
        {({ models }) =>
          models.length === 0 ? (
            <Empty>Every model seen has a price.</Empty>
          ) : (
            <table data-testid="unpriced-table">
              <thead>
                <tr>
                  <th scope="col">Provider</th>
                  <th scope="col">Model</th>
                  <th scope="col" class="num">
                    Requests
                  </th>
                  <th scope="col">Last seen</th>
                </tr>
              </thead>
              <tbody>
                {models.map((m) => (
                  <tr key={`${m.provider}/${m.model}`}>
                    <td>{m.provider}</td>
                    <td>{m.model}</td>
                    <td class="num">{count(m.events)}</td>
                    <td>{dateTime(m.last_seen)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </section>
  );
}

function Overrides({ api }: { api: AdminApi }) {
  const [load, reload] = useLoad(
    () => api.get<{ version: number; overrides: PriceOverride[] }>('/api/v1/pricing/overrides'),
    [api],
  );
  const [form, setForm] = useState({ tenant_id: '', provider: '', model: '', markup_pct: '', note: '' });
  const [error, setError] = useState('');
  const set = (k: keyof typeof form) => (value: string) => setForm({ ...form, [k]: value });
  const add = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      const body = Object.fromEntries(Object.entries(form).filter(([, v]) => v.trim() !== ''));
      await api.post('/api/v1/pricing/overrides', body);
      setForm({ tenant_id: '', provider: '', model: '', markup_pct: '', note: '' });
      reload();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  const remove = async (o: PriceOverride) => {
    if (!confirm(`Retire the override for ${o.tenant_id} / ${o.model}?`)) return;
    try {
      await api.delete(`/api/v1/pricing/overrides/${o.id}`);
    } catch (err) {
      setError(messageOf(err));
    }
    reload();
  };
  return (
    <section class="panel" aria-label="Overrides">
      <h2>Tenant overrides</h2>
      <form class="filters" onSubmit={add} aria-label="Add an override">
        <TextField label="Tenant" required value={form.tenant_id} onValue={set('tenant_id')} />
        <TextField label="Provider" value={form.provider} onValue={set('provider')} />
        <TextField label="Model" required value={form.model} onValue={set('model')} />
        <TextField label="Markup %" inputMode="decimal" value={form.markup_pct} onValue={set('markup_pct')} />
        <TextField label="Note" value={form.note} onValue={set('note')} />
        <button type="submit">Add override</button>
      </form>
      {error && <ErrorMessage message={error} />}
      <Loaded load={load} retry={reload} what="overrides">
        {({ overrides }) =>
          overrides.length === 0 ? (
            <Empty>No overrides: every tenant pays catalog prices.</Empty>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Tenant</th>
                  <th scope="col">Model</th>
                  <th scope="col">Rates / markup</th>
                  <th scope="col">Note</th>
                  <th scope="col">Since</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {overrides.map((o) => (
                  <tr key={o.id}>
                    <td>{o.tenant_id}</td>
                    <td>{o.provider ? `${o.provider}/${o.model}` : o.model}</td>
                    <td>
                      {o.markup_pct ? `markup ${o.markup_pct}% ` : ''}
                      {Object.entries(o.rates ?? {})
                        .map(([k, v]) => `${k} $${v}`)
                        .join(', ')}
                    </td>
                    <td>{o.note ?? ''}</td>
                    <td>{dateTime(o.created_at)}</td>
                    <td>
                      <button type="button" class="danger" onClick={() => remove(o)}>
                        Retire
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </section>
  );
}

/** A re-pricing run (GET /api/v1/pricing/reprice-runs/{id}). */
interface RepriceRun {
  id: string;
  status: 'running' | 'succeeded' | 'failed';
  trigger: string;
  actor: string;
  selection: { unpriced_only: boolean; from?: string; to?: string; model?: string; provider?: string };
  started_at: string;
  finished_at: string | null;
  examined: number;
  changed: number;
  before_usd: string;
  after_usd: string;
  error: string | null;
}

const selectionText = (s: RepriceRun['selection']) =>
  [
    s.unpriced_only ? 'unpriced only' : '',
    s.from || s.to ? `${s.from?.slice(0, 10) ?? '…'} → ${s.to?.slice(0, 10) ?? '…'}` : '',
    s.provider ?? '',
    s.model ?? '',
  ]
    .filter(Boolean)
    .join(', ') || 'everything';

/**
 * Re-pricing after a price correction: the API answers 202 with the run at once and the run goes on in the
 * pricing service, so this polls the run every second until it ends (leaving the page does not stop it).
 */
function Repricing({ api }: { api: AdminApi }) {
  const [load, reload] = useLoad(
    () => api.get<{ runs: RepriceRun[] }>('/api/v1/pricing/reprice-runs', { limit: '10' }),
    [api],
  );
  const [form, setForm] = useState({ from: '', to: '', provider: '', model: '', unpriced_only: false });
  const [watching, setWatching] = useState<RepriceRun | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    if (watching?.status !== 'running') return;
    const timer = setTimeout(async () => {
      try {
        setWatching(await api.get<RepriceRun>(`/api/v1/pricing/reprice-runs/${watching.id}`));
      } catch (err) {
        setError(messageOf(err));
      }
    }, 1000);
    return () => clearTimeout(timer);
  }, [api, watching]);
  useEffect(() => {
    if (watching && watching.status !== 'running') reload();
  }, [watching?.status]);
  const set = (k: 'from' | 'to' | 'provider' | 'model') => (value: string) =>
    setForm({ ...form, [k]: value });
  const start = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      const range = form.from || form.to ? dayRange(form.from, form.to) : {};
      const body = {
        ...range,
        ...(form.provider.trim() ? { provider: form.provider.trim() } : {}),
        ...(form.model.trim() ? { model: form.model.trim() } : {}),
        ...(form.unpriced_only ? { unpriced_only: true } : {}),
      };
      setWatching(await api.post<RepriceRun>('/api/v1/pricing/reprice?wait=0', body));
      reload(); // the new run in the list, running
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <section class="panel" aria-label="Re-pricing">
      <h2>Re-pricing</h2>
      <p class="hint">
        Prices stored events again with the prices in force now; each changed event gets an audited
        re-pricing. Dates are whole UTC days, both included.
      </p>
      <form class="filters" onSubmit={start} aria-label="Re-price stored events">
        {/* The API needs a start unless only unpriced events are selected: say so before the round trip. */}
        <TextField
          label="From"
          type="date"
          required={!form.unpriced_only}
          value={form.from}
          onValue={set('from')}
        />
        <TextField label="To" type="date" value={form.to} onValue={set('to')} />
        <TextField label="Provider" value={form.provider} onValue={set('provider')} />
        <TextField label="Model" value={form.model} onValue={set('model')} />
        <label>
          <input
            type="checkbox"
            checked={form.unpriced_only}
            onChange={(e) => setForm({ ...form, unpriced_only: (e.target as HTMLInputElement).checked })}
          />{' '}
          Unpriced only
        </label>
        <button type="submit" disabled={watching?.status === 'running'}>
          Re-price
        </button>
      </form>
      {error && <ErrorMessage message={error} />}
      {watching && (
        <p role="status" data-testid="reprice-status">
          Run {watching.id}: {watching.status} — {count(watching.changed)} of {count(watching.examined)}{' '}
          events changed{watching.status === 'running' ? ' so far' : ''}
          {watching.error ? ` (${watching.error})` : ''}
        </p>
      )}
      <Loaded load={load} retry={reload} what="re-pricing runs">
        {({ runs }) =>
          runs.length === 0 ? (
            <Empty>No re-pricing yet.</Empty>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Status</th>
                  <th scope="col">Why / who</th>
                  <th scope="col">Selection</th>
                  <th scope="col" class="num">
                    Changed / examined
                  </th>
                  <th scope="col" class="num">
                    Before → after
                  </th>
                  <th scope="col">Started</th>
                </tr>
              </thead>
              <tbody>
                {runs.map((r) => (
                  <tr key={r.id}>
                    <td>{r.id}</td>
                    <td title={r.error ?? undefined}>
                      {r.status}
                      {r.error ? ` ⚠` : ''}
                    </td>
                    <td>
                      {r.trigger} / {r.actor}
                    </td>
                    <td>{selectionText(r.selection)}</td>
                    <td class="num">
                      {count(r.changed)} / {count(r.examined)}
                    </td>
                    <td class="num">
                      {usdExact(r.before_usd)} → {usdExact(r.after_usd)}
                    </td>
                    <td>{dateTime(r.started_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </section>
  );
}

export function PricingPage({ api }: { api: AdminApi }) {
  return (
    <>
      <h1 tabIndex={-1}>Pricing</h1>
      <Unpriced api={api} />
      <Overrides api={api} />
      <Repricing api={api} />
      <Catalog api={api} />
    </>
  );
}
