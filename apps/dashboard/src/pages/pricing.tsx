// Pricing: the catalog with expense tiers, models seen without a price, and tenant overrides.
import { useState } from 'preact/hooks';
import type { AdminApi, PriceOverride, PricingModels, UnpricedModel } from '../api';
import { count } from '../format';
import { dateTime, Empty, ErrorMessage, Loaded, messageOf, useLoad } from '../ui';

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
  const set = (k: keyof typeof form) => (e: Event) =>
    setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
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
        <label>
          Tenant
          <input required value={form.tenant_id} onInput={set('tenant_id')} />
        </label>
        <label>
          Provider
          <input value={form.provider} onInput={set('provider')} />
        </label>
        <label>
          Model
          <input required value={form.model} onInput={set('model')} />
        </label>
        <label>
          Markup %
          <input inputMode="decimal" value={form.markup_pct} onInput={set('markup_pct')} />
        </label>
        <label>
          Note
          <input value={form.note} onInput={set('note')} />
        </label>
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

export function PricingPage({ api }: { api: AdminApi }) {
  return (
    <>
      <h1 tabIndex={-1}>Pricing</h1>
      <Unpriced api={api} />
      <Overrides api={api} />
      <Catalog api={api} />
    </>
  );
}
