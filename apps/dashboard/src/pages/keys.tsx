// API keys: create (the secret is shown once, here), rotate, revoke, re-activate.
import { useState } from 'preact/hooks';
import type { AdminApi, ApiKey } from '../api';
import { dateTime, Empty, ErrorMessage, Loaded, messageOf, TextField, useLoad } from '../ui';

const list = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function Secret({
  title,
  id,
  secret,
  onDone,
}: {
  title: string;
  id: string;
  secret: string;
  onDone: () => void;
}) {
  const [copied, setCopied] = useState(false);
  return (
    <section class="secret" role="alert" aria-label={title}>
      <h2>{title}</h2>
      <p>
        Copy the key for <span class="mono">{id}</span> now: it is shown once and cannot be read again.
      </p>
      <code data-testid="new-key-secret">{secret}</code>
      <div class="row">
        <button
          type="button"
          onClick={() =>
            navigator.clipboard?.writeText(secret).then(
              () => setCopied(true),
              () => setCopied(false),
            )
          }
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
        <button type="button" class="secondary" onClick={onDone}>
          I have stored it
        </button>
      </div>
    </section>
  );
}

function CreateKey({ api, onCreated }: { api: AdminApi; onCreated: (k: ApiKey & { key: string }) => void }) {
  const [name, setName] = useState('');
  const [tenant, setTenant] = useState('');
  const [models, setModels] = useState('');
  const [providers, setProviders] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const policy: Record<string, string[]> = {};
      if (models.trim()) policy.models = list(models);
      if (providers.trim()) policy.providers = list(providers);
      const created = await api.post<ApiKey & { key: string }>('/api/v1/keys', {
        name: name.trim(),
        ...(tenant.trim() ? { tenant: tenant.trim() } : {}),
        ...(Object.keys(policy).length ? { policy } : {}),
      });
      setName('');
      onCreated(created);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="filters" onSubmit={submit} aria-label="Create a key">
      <TextField label="Name" name="name" required value={name} onValue={setName} />
      <TextField label="Tenant" name="tenant" placeholder="default" value={tenant} onValue={setTenant} />
      <TextField
        label="Providers allowed"
        name="providers"
        placeholder="all"
        value={providers}
        onValue={setProviders}
      />
      <TextField
        label="Models allowed"
        name="models"
        placeholder="* (all)"
        value={models}
        onValue={setModels}
      />
      <button type="submit" disabled={busy}>
        {busy ? 'Creating…' : 'Create key'}
      </button>
      {error && <ErrorMessage message={error} />}
    </form>
  );
}

function policyText(k: ApiKey): string {
  const parts: string[] = [];
  if (k.policy.providers?.length) parts.push(`providers: ${k.policy.providers.join(', ')}`);
  if (k.policy.models?.length) parts.push(`models: ${k.policy.models.join(', ')}`);
  if (k.policy.dims_required) parts.push('dimensions required');
  return parts.join('; ') || 'any provider and model';
}

export function KeysPage({ api }: { api: AdminApi }) {
  const [load, reload] = useLoad(() => api.get<{ keys: ApiKey[] }>('/api/v1/keys'), [api]);
  const [shown, setShown] = useState<{ title: string; id: string; secret: string } | null>(null);
  const [error, setError] = useState('');
  const act = async (what: () => Promise<unknown>) => {
    setError('');
    try {
      await what();
    } catch (err) {
      setError(messageOf(err));
    }
    reload();
  };
  const revoke = (k: ApiKey) =>
    confirm(`Revoke ${k.name} (${k.id})? Requests with it are refused at once.`) &&
    act(() => api.delete(`/api/v1/keys/${encodeURIComponent(k.id)}`));
  const rotate = (k: ApiKey) =>
    confirm(`Rotate ${k.name}? The current secret stops working at once.`) &&
    act(async () => {
      const r = await api.post<{ id: string; key: string }>(
        `/api/v1/keys/${encodeURIComponent(k.id)}/rotate`,
        {},
      );
      setShown({ title: 'New secret', id: r.id, secret: r.key });
    });
  const activate = (k: ApiKey) => act(() => api.post(`/api/v1/keys/${encodeURIComponent(k.id)}/activate`));
  return (
    <>
      <h1 tabIndex={-1}>API keys</h1>
      {shown && <Secret {...shown} onDone={() => setShown(null)} />}
      <CreateKey
        api={api}
        onCreated={(k) => {
          setShown({ title: 'Key created', id: k.id, secret: k.key });
          reload();
        }}
      />
      {error && <ErrorMessage message={error} />}
      <Loaded load={load} retry={reload} what="keys">
        {({ keys }) =>
          keys.length === 0 ? (
            <Empty>No keys yet. Create one above.</Empty>
          ) : (
            <table data-testid="keys-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Id</th>
                  <th scope="col">Tenant</th>
                  <th scope="col">Status</th>
                  <th scope="col">Policy</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {keys.map((k) => (
                  <tr key={k.id} data-key-id={k.id}>
                    <td>{k.name}</td>
                    <td class="mono">{k.id}</td>
                    <td>{k.tenant}</td>
                    <td>
                      <span class={`badge ${k.status}`}>{k.status}</span>
                    </td>
                    <td>{policyText(k)}</td>
                    <td>{dateTime(k.last_used_at)}</td>
                    <td class="row">
                      {k.status === 'active' ? (
                        <>
                          <button type="button" class="secondary" onClick={() => rotate(k)}>
                            Rotate
                          </button>
                          <button
                            type="button"
                            class="danger"
                            onClick={() => revoke(k)}
                            aria-label={`Revoke ${k.name}`}
                          >
                            Revoke
                          </button>
                        </>
                      ) : (
                        <button type="button" class="secondary" onClick={() => activate(k)}>
                          Activate
                        </button>
                      )}
                    </td>
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
