// The shell: sign-in state (the token lives in this tab's sessionStorage only), navigation, the page for the path.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { AdminApi } from './api';
import { Login } from './login';
import { BudgetsPage } from './pages/budgets';
import { DenialsPage } from './pages/denials';
import { ExplorerPage } from './pages/explorer';
import { KeysPage } from './pages/keys';
import { OverviewPage } from './pages/overview';
import { PricingPage } from './pages/pricing';
import { RequestDetailPage } from './pages/request-detail';
import { RequestsPage } from './pages/requests';
import { Link, navigate, useLocation } from './router';

const TOKEN_KEY = 'spendops.adminToken';

const NAV = [
  ['/overview', 'Overview'],
  ['/explorer', 'Explorer'],
  ['/requests', 'Requests'],
  ['/denials', 'Denials'],
  ['/keys', 'Keys'],
  ['/pricing', 'Pricing'],
  ['/budgets', 'Budgets'],
] as const;

function Page({ api, path, search }: { api: AdminApi; path: string; search: URLSearchParams }) {
  const detail = /^\/requests\/([^/]+)$/.exec(path);
  if (detail) return <RequestDetailPage api={api} id={decodeURIComponent(detail[1])} />;
  switch (path) {
    case '/explorer':
      return <ExplorerPage api={api} search={search} />;
    case '/requests':
      return <RequestsPage api={api} search={search} />;
    case '/denials':
      return <DenialsPage api={api} search={search} />;
    case '/keys':
      return <KeysPage api={api} />;
    case '/pricing':
      return <PricingPage api={api} />;
    case '/budgets':
      return <BudgetsPage api={api} />;
    default:
      return <OverviewPage api={api} />;
  }
}

export function App() {
  const [token, setToken] = useState(() => sessionStorage.getItem(TOKEN_KEY));
  const [notice, setNotice] = useState('');
  const { path, search } = useLocation();
  const main = useRef<HTMLElement>(null);
  const signOut = (why = '') => {
    sessionStorage.removeItem(TOKEN_KEY);
    setNotice(why);
    setToken(null);
  };
  const api = useMemo(
    () => (token ? new AdminApi(token, () => signOut('The admin token was refused; sign in again.')) : null),
    [token],
  );
  useEffect(() => {
    if (path === '/') navigate('/overview', true);
  }, [path]);
  // After navigating, move focus to the new page's heading so keyboard and screen-reader users start there.
  useEffect(() => {
    main.current?.querySelector<HTMLElement>('h1')?.focus();
    const label = NAV.find(([href]) => path.startsWith(href))?.[1];
    document.title = label ? `${label} · SpendOps` : 'SpendOps';
  }, [path]);
  if (!api) {
    return (
      <Login
        notice={notice}
        onSignedIn={(t) => {
          sessionStorage.setItem(TOKEN_KEY, t);
          setNotice('');
          setToken(t);
        }}
      />
    );
  }
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <span class="brand">SpendOps</span>
        <nav aria-label="Pages">
          <ul>
            {NAV.map(([href, label]) => (
              <li key={href}>
                <Link href={href} aria-current={path.startsWith(href) ? 'page' : undefined}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" class="secondary" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" ref={main}>
        <Page key={path} api={api} path={path} search={search} />
      </main>
    </div>
  );
}
