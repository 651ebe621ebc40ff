/** Sessions, most recent first. */
import { useCallback, useEffect, useState } from 'react';
import { api } from '../lib/api';
import { ago, int } from '../lib/format';
import { href, navigate } from '../lib/router';
import type { SessionSummary } from '../lib/types';

function modelsOf(v: unknown): string {
  return Array.isArray(v) ? v.filter((m) => typeof m === 'string').join(', ') : '';
}

export function SessionsPage() {
  const [rows, setRows] = useState<SessionSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback((c: string | null) => {
    setLoading(true);
    api.sessions(100, c).then(
      (p) => {
        setRows((prev) => (c ? [...prev, ...p.data] : p.data));
        setCursor(p.next_cursor);
        setLoading(false);
      },
      (err: unknown) => {
        setError(err instanceof Error ? err.message : String(err));
        setLoading(false);
      },
    );
  }, []);

  useEffect(() => load(null), [load]);

  return (
    <div className="page">
      <div className="page-head">
        <h1>Sessions</h1>
      </div>
      {error && <p className="error">Could not load sessions: {error}</p>}
      {!loading && rows.length === 0 && !error && <p className="empty">No sessions yet.</p>}
      <ul className="session-list">
        {rows.map((s) => (
          <li key={s.id}>
            <a
              href={href(`/sessions/${encodeURIComponent(s.id)}`)}
              onClick={(e) => {
                e.preventDefault();
                navigate(`/sessions/${encodeURIComponent(s.id)}`);
              }}
            >
              <span className="s-name">{s.name || s.id}</span>
              <span className="s-meta muted">
                <span>
                  {s.turns} turn{s.turns === 1 ? '' : 's'}
                </span>
                <span>{int(s.total_tokens)} tokens</span>
                <span>{modelsOf(s.models)}</span>
                <span>{ago(s.last_at)}</span>
              </span>
            </a>
          </li>
        ))}
      </ul>
      {cursor && (
        <button type="button" className="btn" disabled={loading} onClick={() => load(cursor)}>
          {loading ? 'Loading…' : 'Load more'}
        </button>
      )}
    </div>
  );
}
