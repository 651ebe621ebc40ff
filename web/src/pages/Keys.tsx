/** Client keys: create (secret shown once), list, edit limits and models, rotate, revoke, usage. */
import { useEffect, useState, type FormEvent } from 'react';
import { CopyButton } from '../components/CopyButton';
import { api, ApiError } from '../lib/api';
import { dateTime, int } from '../lib/format';
import { href, navigate } from '../lib/router';
import type { ClientKey, ClientKeyWithSecret } from '../lib/types';

interface LimitsForm {
  name: string;
  models: string;
  rpm: string;
  tpm: string;
  max_tokens_total: string;
  expires_at: string;
}

const EMPTY: LimitsForm = { name: '', models: '', rpm: '', tpm: '', max_tokens_total: '', expires_at: '' };

function formOf(k: ClientKey): LimitsForm {
  const exp = k.expires_at ? new Date(k.expires_at) : null;
  return {
    name: k.name,
    models: (k.models ?? []).join(', '),
    rpm: k.rpm === null ? '' : String(k.rpm),
    tpm: k.tpm === null ? '' : String(k.tpm),
    max_tokens_total: k.max_tokens_total === null ? '' : String(k.max_tokens_total),
    expires_at: exp
      ? new Date(exp.getTime() - exp.getTimezoneOffset() * 60_000).toISOString().slice(0, 16)
      : '',
  };
}

/** Form → API body; throws a readable message on a bad number. `forUpdate` sends nulls to clear. */
function bodyOf(f: LimitsForm, forUpdate: boolean): Record<string, unknown> {
  const numOrNull = (label: string, v: string): number | null => {
    if (v.trim() === '') return null;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${label} must be a whole number above 0.`);
    return n;
  };
  const models = f.models
    .split(/[\s,]+/)
    .map((m) => m.trim())
    .filter(Boolean);
  const body: Record<string, unknown> = {
    name: f.name.trim(),
    models: models.length ? models : null,
    rpm: numOrNull('Requests per minute', f.rpm),
    tpm: numOrNull('Tokens per minute', f.tpm),
    max_tokens_total: numOrNull('Token budget', f.max_tokens_total),
    expires_at: f.expires_at ? new Date(f.expires_at).toISOString() : null,
  };
  if (!forUpdate) for (const k of Object.keys(body)) if (body[k] === null) delete body[k];
  return body;
}

function LimitsFields({
  f,
  set,
  idPrefix,
}: {
  f: LimitsForm;
  set: (f: LimitsForm) => void;
  idPrefix: string;
}) {
  const field = (k: keyof LimitsForm, label: string, props: Record<string, string> = {}) => (
    <label htmlFor={`${idPrefix}-${k}`}>
      {label}
      <input
        id={`${idPrefix}-${k}`}
        value={f[k]}
        onChange={(e) => set({ ...f, [k]: e.target.value })}
        {...props}
      />
    </label>
  );
  return (
    <div className="form-grid">
      {field('name', 'Name', { required: 'required', placeholder: 'e.g. billing-service' })}
      {field('models', 'Allowed models', { placeholder: 'all (or: gpt-4o, claude-*)' })}
      {field('rpm', 'Requests / min', { inputMode: 'numeric', placeholder: 'no limit' })}
      {field('tpm', 'Tokens / min', { inputMode: 'numeric', placeholder: 'no limit' })}
      {field('max_tokens_total', 'Token budget', { inputMode: 'numeric', placeholder: 'no limit' })}
      {field('expires_at', 'Expires', { type: 'datetime-local' })}
    </div>
  );
}

function SecretBox({
  secret,
  onDone,
  title,
}: {
  secret: ClientKeyWithSecret;
  onDone: () => void;
  title: string;
}) {
  return (
    <div className="secret-box" role="dialog" aria-labelledby="secret-title" data-testid="secret-box">
      <h3 id="secret-title">{title}</h3>
      <p>Copy it now: the gateway keeps only a hash and will not show it again.</p>
      <div className="secret-row">
        <code className="secret" data-testid="secret">
          {secret.key}
        </code>
        <CopyButton text={secret.key} />
      </div>
      <button type="button" className="btn" onClick={onDone}>
        I have stored it
      </button>
    </div>
  );
}

function errText(e: unknown): string {
  return e instanceof ApiError ? e.message : e instanceof Error ? e.message : String(e);
}

function KeyDetail({
  k,
  onChanged,
  onSecret,
}: {
  k: ClientKey;
  onChanged: () => void;
  onSecret: (s: ClientKeyWithSecret, title: string) => void;
}) {
  const [full, setFull] = useState<ClientKey | null>(null);
  const [f, setF] = useState<LimitsForm>(formOf(k));
  const [enabled, setEnabled] = useState(k.enabled);
  const [grace, setGrace] = useState('0');
  const [msg, setMsg] = useState<{ text: string; error: boolean } | null>(null);
  const [confirmRevoke, setConfirmRevoke] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.key(k.id).then(setFull, (e: unknown) => setMsg({ text: errText(e), error: true }));
  }, [k.id]);

  const run = (p: Promise<unknown>, ok: string): void => {
    setBusy(true);
    setMsg(null);
    p.then(
      () => {
        setBusy(false);
        setMsg({ text: ok, error: false });
        onChanged();
      },
      (e: unknown) => {
        setBusy(false);
        setMsg({ text: errText(e), error: true });
      },
    );
  };

  const save = (e: FormEvent): void => {
    e.preventDefault();
    let body: Record<string, unknown>;
    try {
      body = { ...bodyOf(f, true), enabled };
    } catch (err) {
      setMsg({ text: errText(err), error: true });
      return;
    }
    run(
      api.updateKey(k.id, body).then((u) => setFull(u)),
      'Saved.',
    );
  };

  const u = full?.usage;
  return (
    <div className="key-detail">
      <div className="usage-cards">
        <div className="stat">
          <span className="stat-label">Requests</span>
          <span className="stat-value">{u ? int(u.requests) : '…'}</span>
        </div>
        <div className="stat">
          <span className="stat-label">Prompt tokens</span>
          <span className="stat-value">{u ? int(u.prompt_tokens) : '…'}</span>
        </div>
        <div className="stat">
          <span className="stat-label">Completion tokens</span>
          <span className="stat-value">{u ? int(u.completion_tokens) : '…'}</span>
        </div>
        <div className="stat">
          <span className="stat-label">Total tokens</span>
          <span className="stat-value">
            {u ? int(u.total_tokens) : '…'}
            {k.max_tokens_total ? <small className="muted"> / {int(k.max_tokens_total)}</small> : null}
          </span>
        </div>
      </div>
      <a
        className="small"
        href={href(`/?key_id=${encodeURIComponent(k.id)}`)}
        onClick={(e) => (e.preventDefault(), navigate(`/?key_id=${encodeURIComponent(k.id)}`))}
      >
        Calls made with this key →
      </a>
      <form onSubmit={save} className="key-edit">
        <LimitsFields f={f} set={setF} idPrefix={`edit-${k.id}`} />
        <label className="check">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Enabled
        </label>
        <div className="actions">
          <button type="submit" className="btn primary" disabled={busy}>
            Save changes
          </button>
        </div>
      </form>
      <div className="key-danger">
        <div className="rotate">
          <label>
            Old secret valid for (s)
            <input inputMode="numeric" value={grace} onChange={(e) => setGrace(e.target.value)} />
          </label>
          <button
            type="button"
            className="btn"
            disabled={busy}
            onClick={() => {
              const g = Number(grace || '0');
              if (!Number.isInteger(g) || g < 0) {
                setMsg({ text: 'The grace period must be a whole number of seconds.', error: true });
                return;
              }
              setBusy(true);
              api.rotateKey(k.id, g).then(
                (s) => {
                  setBusy(false);
                  onSecret(s, `New secret for “${s.name}”`);
                  onChanged();
                },
                (e: unknown) => {
                  setBusy(false);
                  setMsg({ text: errText(e), error: true });
                },
              );
            }}
          >
            Rotate secret
          </button>
        </div>
        {confirmRevoke ? (
          <div className="confirm">
            <span>Revoke “{k.name}”? Calls with it fail at once.</span>
            <button
              type="button"
              className="btn danger"
              disabled={busy}
              onClick={() => run(api.revokeKey(k.id), 'Revoked.')}
            >
              Yes, revoke
            </button>
            <button type="button" className="btn" onClick={() => setConfirmRevoke(false)}>
              Cancel
            </button>
          </div>
        ) : (
          <button type="button" className="btn danger-ghost" onClick={() => setConfirmRevoke(true)}>
            Revoke
          </button>
        )}
      </div>
      {msg && <p className={msg.error ? 'error' : 'ok-note'}>{msg.text}</p>}
    </div>
  );
}

export function KeysPage() {
  const [keys, setKeys] = useState<ClientKey[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [form, setForm] = useState<LimitsForm>(EMPTY);
  const [formError, setFormError] = useState<string | null>(null);
  const [secret, setSecret] = useState<{ s: ClientKeyWithSecret; title: string } | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [gen, setGen] = useState(0);

  useEffect(() => {
    const all: ClientKey[] = [];
    const page = (cursor: string | null): Promise<void> =>
      api.keys(200, cursor).then((p) => {
        all.push(...p.data);
        return p.next_cursor && all.length < 5000 ? page(p.next_cursor) : undefined;
      });
    page(null).then(
      () => setKeys(all),
      (e: unknown) => setError(errText(e)),
    );
  }, [gen]);

  const create = (e: FormEvent): void => {
    e.preventDefault();
    let body: Record<string, unknown>;
    try {
      body = bodyOf(form, false);
    } catch (err) {
      setFormError(errText(err));
      return;
    }
    if (!body.name) {
      setFormError('Give the key a name.');
      return;
    }
    setFormError(null);
    api.createKey(body).then(
      (s) => {
        setSecret({ s, title: `Key “${s.name}” created` });
        setCreating(false);
        setForm(EMPTY);
        setGen((g) => g + 1);
      },
      (err: unknown) => setFormError(errText(err)),
    );
  };

  return (
    <div className="page keys-page">
      <div className="page-head">
        <h1>Keys</h1>
        {!creating && (
          <button type="button" className="btn primary" onClick={() => setCreating(true)}>
            New key
          </button>
        )}
      </div>
      {secret && <SecretBox secret={secret.s} title={secret.title} onDone={() => setSecret(null)} />}
      {creating && (
        <form className="card create-key" onSubmit={create}>
          <h2>New client key</h2>
          <LimitsFields f={form} set={setForm} idPrefix="new" />
          {formError && (
            <p className="error" role="alert">
              {formError}
            </p>
          )}
          <div className="actions">
            <button type="submit" className="btn primary">
              Create key
            </button>
            <button type="button" className="btn" onClick={() => (setCreating(false), setFormError(null))}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {error && <p className="error">Could not load keys: {error}</p>}
      {keys && keys.length === 0 && !creating && (
        <div className="empty">
          <p>No client keys yet.</p>
          <p className="muted">Keys let you give each application its own secret, limits and usage.</p>
        </div>
      )}
      <ul className="key-list">
        {(keys ?? []).map((k) => {
          const expired = k.expires_at !== null && Date.parse(k.expires_at) < Date.now();
          return (
            <li
              key={k.id}
              className={`key-item ${open === k.id ? 'open' : ''}`}
              data-testid="key-item"
              data-name={k.name}
            >
              <button
                type="button"
                className="key-summary"
                aria-expanded={open === k.id}
                onClick={() => setOpen(open === k.id ? null : k.id)}
              >
                <span className="k-name">{k.name}</span>
                <code className="k-secret">
                  {k.key_prefix}…{k.last4}
                </code>
                <span className="k-models muted">
                  {k.models?.length ? k.models.join(', ') : 'all models'}
                </span>
                <span className="k-limits muted">
                  {k.rpm ? `${int(k.rpm)} rpm` : ''} {k.tpm ? `${int(k.tpm)} tpm` : ''}
                  {!k.rpm && !k.tpm ? 'no rate limit' : ''}
                </span>
                <span className={`badge ${!k.enabled || expired ? 'badge-error' : 'badge-success'}`}>
                  {expired ? 'expired' : k.enabled ? 'active' : 'disabled'}
                </span>
                <span className="k-created muted">{dateTime(k.created_at)}</span>
              </button>
              {open === k.id && (
                <KeyDetail
                  k={k}
                  onChanged={() => setGen((g) => g + 1)}
                  onSecret={(s, title) => setSecret({ s, title })}
                />
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
