import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../lib/api';
import { storeKey } from '../lib/auth';

export function SignIn({ onSignedIn, notice }: { onSignedIn: () => void; notice: string | null }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    const k = key.trim();
    if (!k) {
      setError('Enter the master key.');
      return;
    }
    setBusy(true);
    setError(null);
    api.checkKey(k).then(
      (ok) => {
        setBusy(false);
        if (!ok) {
          setError(
            'That is not the master key of this gateway. Check GATEWAY_MASTER_KEY or data/master.key.',
          );
          return;
        }
        storeKey(k);
        onSignedIn();
      },
      (err: unknown) => {
        setBusy(false);
        setError(
          err instanceof ApiError
            ? `The gateway answered ${err.status}: ${err.message}`
            : 'The gateway could not be reached.',
        );
      },
    );
  };

  return (
    <div className="signin">
      <form className="signin-card" onSubmit={submit}>
        <h1>
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>{' '}
          Trace Gateway
        </h1>
        <p className="muted">Sign in with the gateway's master key. It is kept for this tab only.</p>
        {notice && <p className="notice">{notice}</p>}
        <label htmlFor="master-key">Master key</label>
        <input
          id="master-key"
          name="master-key"
          type="password"
          autoComplete="current-password"
          autoFocus
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-invalid={error !== null}
          aria-describedby={error ? 'signin-error' : undefined}
        />
        {error && (
          <p id="signin-error" className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="btn primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
