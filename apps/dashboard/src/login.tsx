// Signed out: one password field for the admin token; Enter signs in.
import { useState } from 'preact/hooks';
import { verifyToken } from './api';
import { ErrorMessage, messageOf } from './ui';

export function Login({ onSignedIn, notice }: { onSignedIn: (token: string) => void; notice?: string }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return setError('Enter the admin token.');
    setBusy(true);
    setError('');
    try {
      await verifyToken(t);
      onSignedIn(t);
    } catch (err) {
      setError(messageOf(err).replace('Sign in again.', 'Check it and try again.'));
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form onSubmit={submit} aria-label="Sign in">
        <h1>SpendOps</h1>
        <p>Sign in with the admin token (printed once at the first start, or set as SPENDOPS_ADMIN_TOKEN).</p>
        {notice && <p class="hint">{notice}</p>}
        <label>
          Admin token
          <input
            type="password"
            name="token"
            autoComplete="current-password"
            autoFocus
            value={token}
            onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error && <ErrorMessage message={error} />}
      </form>
    </main>
  );
}
