/** One call in full: summary, the conversation, request as received and as sent, response, attempts, usage. */
import { useState } from 'react';
import { JsonView } from '../components/JsonView';
import { MessageBubble, StatusBadge } from '../components/Messages';
import { api } from '../lib/api';
import { errorMessage, finishReason, requestMessages, responseMessage } from '../lib/chat';
import { dateTime, int, ms } from '../lib/format';
import { useLoad } from '../lib/hooks';
import { attemptsOf } from '../lib/record';
import { href, navigate } from '../lib/router';
import type { TraceRecord } from '../lib/types';

type Tab = 'chat' | 'request' | 'upstream' | 'response' | 'attempts' | 'usage' | 'metadata';
const TABS: Array<[Tab, string]> = [
  ['chat', 'Conversation'],
  ['request', 'Request'],
  ['upstream', 'Upstream request'],
  ['response', 'Response'],
  ['attempts', 'Attempts'],
  ['usage', 'Usage'],
  ['metadata', 'Metadata'],
];

function Link({ to, children }: { to: string; children: React.ReactNode }) {
  return (
    <a
      href={href(to)}
      onClick={(e) => {
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function Attempts({ r }: { r: TraceRecord }) {
  const list = attemptsOf(r);
  if (list.length === 0) return <p className="muted pad">No upstream attempt was made.</p>;
  const total = Math.max(1, ...list.map((a) => a.latency_ms ?? 0));
  return (
    <div className="table-wrap">
      <table className="table attempts">
        <thead>
          <tr>
            <th>#</th>
            <th>Provider</th>
            <th>Model</th>
            <th>Status</th>
            <th>Error</th>
            <th className="num">Time</th>
            <th className="bar-col" />
          </tr>
        </thead>
        <tbody>
          {list.map((a, i) => (
            <tr key={i}>
              <td>{i + 1}</td>
              <td>{a.provider ?? '–'}</td>
              <td>{a.model ?? '–'}</td>
              <td>
                <span
                  className={`badge ${a.status !== null && a.status < 400 ? 'badge-success' : 'badge-error'}`}
                >
                  {a.status ?? 'no answer'}
                </span>
              </td>
              <td className="wrap">{a.error ?? ''}</td>
              <td className="num">{ms(a.latency_ms)}</td>
              <td className="bar-col">
                <span className="bar" style={{ width: `${((a.latency_ms ?? 0) / total) * 100}%` }} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function UsageTable({ r }: { r: TraceRecord }) {
  const u = r.usage;
  const rows: Array<[string, string]> = [
    ['Prompt tokens', int(u.prompt_tokens)],
    ['Completion tokens', int(u.completion_tokens)],
    ['Total tokens', int(u.total_tokens)],
    ['Cached tokens', int(u.cached_tokens)],
    ['Reasoning tokens', int(u.reasoning_tokens)],
    [
      'Counted by',
      u.source === 'estimated' ? 'the gateway (estimate)' : u.source === 'provider' ? 'the provider' : '–',
    ],
    ['Latency', ms(r.latency_ms)],
    ['Time to first token', ms(r.ttft_ms)],
    ['Gateway overhead', ms(r.overhead_ms)],
  ];
  return (
    <table className="table kv">
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th>{k}</th>
            <td className="num">{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Conversation({ r }: { r: TraceRecord }) {
  const msgs = requestMessages(r.request);
  const reply = responseMessage(r.response);
  const err = errorMessage(r.response) ?? r.error;
  return (
    <div className="thread">
      {msgs.map((m, i) => (
        <MessageBubble key={i} m={m} />
      ))}
      {reply && <MessageBubble m={reply} />}
      {!reply && err && <div className="msg msg-error">{err}</div>}
      {msgs.length === 0 && !reply && !err && (
        <p className="muted pad">No conversation stored for this call.</p>
      )}
    </div>
  );
}

export function RecordPage({ id }: { id: string }) {
  const rec = useLoad(() => api.record(id), [id]);
  const [tab, setTab] = useState<Tab>('chat');
  const [deleting, setDeleting] = useState(false);
  const r = rec.data;
  if (rec.error && !r) {
    return (
      <div className="page">
        <h1>Call</h1>
        <p className="error">Could not load this call: {rec.error}</p>
        <Link to="/">Back to calls</Link>
      </div>
    );
  }
  if (!r) return <div className="page muted">Loading…</div>;
  const finish = finishReason(r.response);
  return (
    <div className="page record-page">
      <div className="page-head">
        <div>
          <div className="crumbs">
            <Link to="/">Calls</Link> /
          </div>
          <h1 className="record-title">
            {r.model ?? r.endpoint} <StatusBadge status={r.status} http={r.http_status} />
          </h1>
        </div>
        <div className="actions">
          <button
            type="button"
            className="btn primary"
            onClick={() => navigate(`/records/${encodeURIComponent(r.id)}/replay`)}
          >
            Replay
          </button>
          <button
            type="button"
            className="btn danger-ghost"
            disabled={deleting}
            onClick={() => {
              if (!window.confirm('Delete this trace?')) return;
              setDeleting(true);
              api.deleteRecord(r.id).then(
                () => navigate('/'),
                () => setDeleting(false),
              );
            }}
          >
            Delete
          </button>
        </div>
      </div>
      {r.replay_of && (
        <p className="notice">
          Replay of <Link to={`/records/${encodeURIComponent(r.replay_of)}`}>{r.replay_of}</Link>
        </p>
      )}
      <dl className="facts">
        <Fact label="Time">{dateTime(r.created_at)}</Fact>
        <Fact label="Endpoint">{r.endpoint}</Fact>
        <Fact label="Provider">{r.provider ?? '–'}</Fact>
        <Fact label="Upstream model">{r.upstream_model ?? '–'}</Fact>
        <Fact label="Latency">{ms(r.latency_ms)}</Fact>
        <Fact label="TTFT">{ms(r.ttft_ms)}</Fact>
        <Fact label="Overhead">{ms(r.overhead_ms)}</Fact>
        <Fact label="Tokens">
          {int(r.usage.prompt_tokens)} → {int(r.usage.completion_tokens)}
        </Fact>
        <Fact label="Session">
          <Link to={`/sessions/${encodeURIComponent(r.session_id)}`}>turn {r.turn}</Link>
        </Fact>
        <Fact label="Key">
          {r.key_id ? <Link to={`/?key_id=${encodeURIComponent(r.key_id)}`}>{r.key_id}</Link> : 'none'}
        </Fact>
        <Fact label="Stream">{r.stream ? 'yes' : 'no'}</Fact>
        <Fact label="Finish">{finish ?? '–'}</Fact>
      </dl>
      {r.error && <p className="error">{r.error}</p>}
      <div className="tabs" role="tablist">
        {TABS.map(([t, label]) => (
          <button
            key={t}
            type="button"
            role="tab"
            aria-selected={tab === t}
            className={tab === t ? 'active' : ''}
            onClick={() => setTab(t)}
          >
            {label}
          </button>
        ))}
      </div>
      <div className="tab-body" role="tabpanel">
        {tab === 'chat' && <Conversation r={r} />}
        {tab === 'request' && <JsonView title="Request as received" value={r.request} />}
        {tab === 'upstream' && (
          <JsonView title="Upstream request (after transforms, provider format)" value={r.upstream_request} />
        )}
        {tab === 'response' && <JsonView title="Response" value={r.response} />}
        {tab === 'attempts' && <Attempts r={r} />}
        {tab === 'usage' && <UsageTable r={r} />}
        {tab === 'metadata' && (
          <JsonView
            title="Metadata and flags"
            value={{
              id: r.id,
              metadata: r.metadata,
              flags: r.flags,
              key_id: r.key_id,
              session_id: r.session_id,
            }}
          />
        )}
      </div>
    </div>
  );
}
