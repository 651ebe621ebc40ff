/** The shell: sign-in gate, navigation, and the page for the current path. */
import { lazy, Suspense, useEffect, useState } from 'react';
import { onUnauthorized } from './lib/api';
import { forgetKey, storedKey } from './lib/auth';
import { href, match, navigate, useLocation } from './lib/router';
import { CallsPage } from './pages/Calls';
import { KeysPage } from './pages/Keys';
import { RecordPage } from './pages/Record';
import { ReplayPage } from './pages/Replay';
import { SessionPage } from './pages/Session';
import { SessionsPage } from './pages/Sessions';
import { SignIn } from './pages/SignIn';

// The dashboard brings the chart library: loaded only when opened.
const DashboardPage = lazy(() => import('./pages/Dashboard').then((m) => ({ default: m.DashboardPage })));

const NAV = [
  { path: '/', label: 'Calls', active: (p: string) => p === '/' || p.startsWith('/records') },
  { path: '/sessions', label: 'Sessions', active: (p: string) => p.startsWith('/sessions') },
  { path: '/keys', label: 'Keys', active: (p: string) => p.startsWith('/keys') },
  { path: '/dashboard', label: 'Dashboard', active: (p: string) => p.startsWith('/dashboard') },
];

function Page({ path }: { path: string }) {
  let m: Record<string, string> | null;
  if (path === '/') return <CallsPage />;
  if ((m = match('/records/:id/replay', path))) return <ReplayPage id={m.id ?? ''} />;
  if ((m = match('/records/:id', path))) return <RecordPage id={m.id ?? ''} />;
  if (path === '/sessions') return <SessionsPage />;
  if ((m = match('/sessions/:id', path))) return <SessionPage id={m.id ?? ''} />;
  if (path === '/keys') return <KeysPage />;
  if (path === '/dashboard') return <DashboardPage />;
  return (
    <div className="page">
      <h1>Not found</h1>
      <p>
        There is no page at this address. <a href={href('/')}>Back to the calls</a>.
      </p>
    </div>
  );
}

export function App() {
  const loc = useLocation();
  const [signedIn, setSignedIn] = useState(() => storedKey() !== null);
  const [expired, setExpired] = useState(false);
  const [menu, setMenu] = useState(false);

  useEffect(
    () =>
      onUnauthorized(() => {
        setExpired(true);
        setSignedIn(false);
      }),
    [],
  );
  useEffect(() => setMenu(false), [loc.path]);

  if (!signedIn) {
    return (
      <SignIn
        notice={expired ? 'The gateway no longer accepts that master key. Sign in again.' : null}
        onSignedIn={() => {
          setExpired(false);
          setSignedIn(true);
        }}
      />
    );
  }

  return (
    <div className="shell">
      <header className="topbar">
        <a
          className="brand"
          href={href('/')}
          onClick={(e) => {
            e.preventDefault();
            navigate('/');
          }}
        >
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>
          Trace Gateway
        </a>
        <button
          type="button"
          className="menu-toggle"
          aria-label="Menu"
          aria-expanded={menu}
          onClick={() => setMenu(!menu)}
        >
          ☰
        </button>
        <nav className={`nav ${menu ? 'open' : ''}`} aria-label="Main">
          {NAV.map((n) => (
            <a
              key={n.path}
              href={href(n.path)}
              className={n.active(loc.path) ? 'active' : ''}
              aria-current={n.active(loc.path) ? 'page' : undefined}
              onClick={(e) => {
                e.preventDefault();
                navigate(n.path);
              }}
            >
              {n.label}
            </a>
          ))}
          <button
            type="button"
            className="nav-signout"
            onClick={() => {
              forgetKey();
              setSignedIn(false);
            }}
          >
            Sign out
          </button>
        </nav>
      </header>
      <main className="main">
        <Suspense fallback={<div className="page muted">Loading…</div>}>
          <Page path={loc.path} />
        </Suspense>
      </main>
    </div>
  );
}
