/** Replay a call: edit the request (or keep it and pick another model), send, compare with the original. */
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { TextDiff } from '../components/Diff';
import { MessageBubble, StatusBadge } from '../components/Messages';
import { api, ApiError } from '../lib/api';
import { errorMessage, requestModel, responseMessage, textOf } from '../lib/chat';
import { int, ms, pretty } from '../lib/format';
import { useLoad } from '../lib/hooks';
import { waitForRecord } from '../lib/record';
import { href, navigate } from '../lib/router';
import type { TraceRecord } from '../lib/types';

interface Parsed {
  value: Record<string, unknown> | null;
  error: string | null;
}

/** Parses the editor text; errors name the line and column. */
function parseRequest(text: string, endpoint: string): Parsed {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const pos = /position (\d+)/.exec(msg);
    if (pos?.[1]) {
      const before = text.slice(0, Number(pos[1]));
      const line = before.split('\n').length;
      const col = before.length - before.lastIndexOf('\n');
      return { value: null, error: `Invalid JSON at line ${line}, column ${col}: ${msg}` };
    }
    return { value: null, error: `Invalid JSON: ${msg}` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return { value: null, error: 'The request must be a JSON object.' };
  const o = v as Record<string, unknown>;
  if (typeof o.model !== 'string' || o.model === '')
    return { value: null, error: '`model` must be a non-empty string.' };
  if (endpoint.endsWith('/chat/completions')) {
    if (!Array.isArray(o.messages) || o.messages.length === 0)
      return { value: null, error: '`messages` must be a non-empty array.' };
    const bad = o.messages.findIndex(
      (m) => typeof m !== 'object' || m === null || typeof (m as { role?: unknown }).role !== 'string',
    );
    if (bad >= 0) return { value: null, error: `messages[${bad}] needs a string \`role\`.` };
  }
  return { value: o, error: null };
}

function toolCallsText(response: unknown): string {
  const m = responseMessage(response);
  if (!m || m.toolCalls.length === 0) return '';
  return m.toolCalls
    .map((c) => {
      let args = c.arguments;
      try {
        args = JSON.stringify(JSON.parse(c.arguments), null, 2);
      } catch {
        // keep the raw text
      }
      return `${c.name}(${args})`;
    })
    .join('\n');
}

function delta(a: number | null, b: number | null, unit: (n: number) => string): ReactNode {
  if (a === null || b === null) return null;
  const d = b - a;
  if (d === 0 || unit(Math.abs(d)) === unit(0)) return <span className="muted">±0</span>;
  return <span className={d > 0 ? 'up' : 'down'}>{`${d > 0 ? '+' : '−'}${unit(Math.abs(d))}`}</span>;
}

function Side({ title, r, response }: { title: ReactNode; r: TraceRecord | null; response: unknown }) {
  const reply = responseMessage(response);
  const err = errorMessage(response) ?? r?.error ?? null;
  return (
    <section className="side">
      <h3>{title}</h3>
      {r && (
        <p className="muted side-meta">
          {r.model} → {r.provider ?? '–'}/{r.upstream_model ?? '–'} ·{' '}
          <StatusBadge status={r.status} http={r.http_status} />
        </p>
      )}
      {reply ? <MessageBubble m={reply} /> : <div className="msg msg-error">{err ?? 'No reply.'}</div>}
    </section>
  );
}

export function ReplayPage({ id }: { id: string }) {
  const orig = useLoad(() => api.record(id), [id]);
  const [text, setText] = useState('');
  const [models, setModels] = useState<string[]>([]);
  const [sending, setSending] = useState(false);
  const [sendError, setSendError] = useState<string | null>(null);
  const [result, setResult] = useState<{ id: string; response: unknown; record: TraceRecord | null } | null>(
    null,
  );
  const r = orig.data;

  useEffect(() => {
    if (r) setText(pretty(r.request ?? {}));
  }, [r]);

  useEffect(() => {
    const now = Date.now();
    Promise.all([
      api.models(),
      api
        .stats(new Date(now - 30 * 86_400_000).toISOString(), new Date(now + 60_000).toISOString(), '1d')
        .then(
          (s) => s.by_model.map((m) => m.model ?? ''),
          () => [] as string[],
        ),
    ]).then(
      ([a, b]) => setModels([...new Set([...a, ...b].filter(Boolean))].sort()),
      () => setModels([]),
    );
  }, []);

  const parsed = useMemo(
    () => parseRequest(text, r?.endpoint ?? '/v1/chat/completions'),
    [text, r?.endpoint],
  );
  const model = parsed.value ? requestModel(parsed.value) : '';

  if (orig.error && !r) return <div className="page error">Could not load the call: {orig.error}</div>;
  if (!r) return <div className="page muted">Loading…</div>;

  const setModel = (m: string): void => {
    if (!parsed.value) return;
    setText(pretty({ ...parsed.value, model: m }));
  };

  const send = (): void => {
    if (!parsed.value) return;
    setSending(true);
    setSendError(null);
    setResult(null);
    const unchanged = JSON.stringify(parsed.value) === JSON.stringify(r.request);
    api.replay(r.id, unchanged ? {} : { request: parsed.value }).then(
      (res) => {
        setResult({ id: res.record_id, response: res.response, record: null });
        waitForRecord(api.record, res.record_id).then(
          (rec) => {
            setResult({ id: res.record_id, response: res.response, record: rec });
            setSending(false);
          },
          () => setSending(false),
        );
      },
      (err: unknown) => {
        setSending(false);
        setSendError(err instanceof ApiError ? `${err.status}: ${err.message}` : String(err));
      },
    );
  };

  const newRec = result?.record ?? null;
  const origText = textOf(responseMessage(r.response));
  const newText = result ? textOf(responseMessage(result.response)) : '';

  return (
    <div className="page replay-page">
      <div className="page-head">
        <div>
          <div className="crumbs">
            <a href={href('/')} onClick={(e) => (e.preventDefault(), navigate('/'))}>
              Calls
            </a>{' '}
            /{' '}
            <a
              href={href(`/records/${r.id}`)}
              onClick={(e) => (e.preventDefault(), navigate(`/records/${encodeURIComponent(r.id)}`))}
            >
              {r.model}
            </a>{' '}
            /
          </div>
          <h1>Replay</h1>
        </div>
      </div>
      <div className="replay-controls">
        <label>
          Model or route
          <input
            list="replay-models"
            value={model}
            onChange={(e) => setModel(e.target.value)}
            disabled={!parsed.value}
            aria-label="Model"
          />
          <datalist id="replay-models">
            {models.map((m) => (
              <option key={m} value={m} />
            ))}
          </datalist>
        </label>
        <button type="button" className="btn" onClick={() => setText(pretty(r.request ?? {}))}>
          Reset
        </button>
        <button type="button" className="btn primary" disabled={!parsed.value || sending} onClick={send}>
          {sending ? 'Sending…' : 'Send'}
        </button>
      </div>
      <label className="editor-label" htmlFor="replay-editor">
        Request (JSON)
      </label>
      <textarea
        id="replay-editor"
        className={`editor ${parsed.error ? 'invalid' : ''}`}
        spellCheck={false}
        value={text}
        onChange={(e) => setText(e.target.value)}
        rows={Math.min(24, Math.max(8, text.split('\n').length + 1))}
        aria-invalid={parsed.error !== null}
        aria-describedby="editor-status"
      />
      <p id="editor-status" className={parsed.error ? 'error' : 'ok-note'} role="status">
        {parsed.error ?? 'Valid request.'}
      </p>
      {sendError && (
        <p className="error" role="alert">
          Replay failed: {sendError}
        </p>
      )}
      {result && (
        <div className="compare" data-testid="compare">
          <div className="compare-head">
            <h2>Original and replay</h2>
            <a
              href={href(`/records/${result.id}`)}
              onClick={(e) => (e.preventDefault(), navigate(`/records/${encodeURIComponent(result.id)}`))}
              data-testid="new-record-link"
            >
              Open the new record →
            </a>
          </div>
          <div className="sides">
            <Side title="Original" r={r} response={r.response} />
            <Side title="Replay" r={newRec} response={result.response} />
          </div>
          <div className="table-wrap">
            <table className="table metrics">
              <thead>
                <tr>
                  <th />
                  <th className="num">Original</th>
                  <th className="num">Replay</th>
                  <th className="num">Change</th>
                </tr>
              </thead>
              <tbody>
                {(
                  [
                    ['Prompt tokens', r.usage.prompt_tokens, newRec?.usage.prompt_tokens ?? null, int],
                    [
                      'Completion tokens',
                      r.usage.completion_tokens,
                      newRec?.usage.completion_tokens ?? null,
                      int,
                    ],
                    ['Total tokens', r.usage.total_tokens, newRec?.usage.total_tokens ?? null, int],
                    ['Latency', r.latency_ms, newRec?.latency_ms ?? null, ms],
                    ['TTFT', r.ttft_ms, newRec?.ttft_ms ?? null, ms],
                  ] as Array<[string, number | null, number | null, (n: number) => string]>
                ).map(([label, a, b, f]) => (
                  <tr key={label}>
                    <th>{label}</th>
                    <td className="num">{a === null ? '–' : f(a)}</td>
                    <td className="num">{b === null ? (newRec ? '–' : '…') : f(b)}</td>
                    <td className="num">{delta(a, b, f)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <h3>Content diff</h3>
          <TextDiff before={origText} after={newText} />
          {(toolCallsText(r.response) || toolCallsText(result.response)) && (
            <>
              <h3>Tool calls diff</h3>
              <TextDiff
                before={toolCallsText(r.response)}
                after={toolCallsText(result.response)}
                mode="lines"
              />
            </>
          )}
        </div>
      )}
    </div>
  );
}
