/** A session as a chat thread, turn by turn, with tokens and latency per turn. */
import { JsonView } from '../components/JsonView';
import { MessageBubble, StatusBadge } from '../components/Messages';
import { api } from '../lib/api';
import { errorMessage, requestMessages, responseMessage, type ChatMessage } from '../lib/chat';
import { dateTime, int, ms } from '../lib/format';
import { useInterval, useLoad } from '../lib/hooks';
import { href, navigate } from '../lib/router';
import type { TraceRecord } from '../lib/types';

interface Turn {
  r: TraceRecord;
  /** Messages this turn added to the conversation (all of them for the first turn). */
  added: ChatMessage[];
  /** Earlier messages repeated by this request, when it does not simply extend the last turn. */
  rewritten: boolean;
  reply: ChatMessage | null;
}

function sameMessage(a: ChatMessage | undefined, b: ChatMessage | undefined): boolean {
  return a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b);
}

/** Shows each turn's new messages only, when the request extends the previous turn's conversation. */
export function turnsOf(records: TraceRecord[]): Turn[] {
  let history: ChatMessage[] = [];
  return records.map((r) => {
    const msgs = requestMessages(r.request);
    const reply = responseMessage(r.response);
    const extends_ =
      history.length > 0 &&
      msgs.length > history.length &&
      history.every((m, i) => sameMessage(m, msgs[i]) || m.role === msgs[i]?.role);
    const added = extends_ ? msgs.slice(history.length) : msgs;
    history = reply ? [...msgs, reply] : msgs;
    return { r, added, rewritten: history.length > 0 && !extends_ && r.turn > 1, reply };
  });
}

export function SessionPage({ id }: { id: string }) {
  const recs = useLoad(() => api.sessionRecords(id), [id]);
  useInterval(
    async () => {
      const p = await api.sessionRecords(id);
      if (p.data.length !== (recs.data?.data.length ?? 0)) recs.reload();
    },
    2000,
    recs.data !== null,
  );
  if (recs.error && !recs.data)
    return <div className="page error">Could not load the session: {recs.error}</div>;
  if (!recs.data) return <div className="page muted">Loading…</div>;
  const turns = turnsOf(recs.data.data);
  const total = recs.data.data.reduce((s, r) => s + r.usage.total_tokens, 0);
  return (
    <div className="page session-page">
      <div className="page-head">
        <div>
          <div className="crumbs">
            <a href={href('/sessions')} onClick={(e) => (e.preventDefault(), navigate('/sessions'))}>
              Sessions
            </a>{' '}
            /
          </div>
          <h1>Session</h1>
          <p className="muted mono small">{id}</p>
        </div>
        <div className="session-sum muted">
          {turns.length} turn{turns.length === 1 ? '' : 's'} · {int(total)} tokens ·{' '}
          <a
            href={href(`/?session_id=${encodeURIComponent(id)}`)}
            onClick={(e) => (e.preventDefault(), navigate(`/?session_id=${encodeURIComponent(id)}`))}
          >
            as calls
          </a>
        </div>
      </div>
      {turns.length === 0 && <p className="empty">This session has no calls.</p>}
      <ol className="turns">
        {turns.map(({ r, added, reply, rewritten }) => {
          const err = errorMessage(r.response) ?? r.error;
          return (
            <li key={r.id} className="turn" data-testid="turn">
              <div className="turn-head">
                <span className="turn-no">Turn {r.turn}</span>
                <StatusBadge status={r.status} http={r.http_status} />
                <span className="muted">{r.model}</span>
                <span className="turn-stats muted">
                  <span title="prompt → completion tokens">
                    {int(r.usage.prompt_tokens)} → {int(r.usage.completion_tokens)} tok
                  </span>
                  <span>{ms(r.latency_ms)}</span>
                  <span>{dateTime(r.created_at)}</span>
                </span>
                <a
                  className="turn-open"
                  href={href(`/records/${encodeURIComponent(r.id)}`)}
                  onClick={(e) => (e.preventDefault(), navigate(`/records/${encodeURIComponent(r.id)}`))}
                >
                  Details
                </a>
              </div>
              {rewritten && (
                <p className="muted small">
                  This request rewrote the earlier history; all its messages are shown.
                </p>
              )}
              <div className="thread">
                {added.map((m, i) => (
                  <MessageBubble key={i} m={m} />
                ))}
                {reply ? (
                  <MessageBubble m={reply} />
                ) : err ? (
                  <div className="msg msg-error">{err}</div>
                ) : null}
                {added.length === 0 && !reply && !err && r.request === undefined && <JsonView value={null} />}
              </div>
            </li>
          );
        })}
      </ol>
    </div>
  );
}
