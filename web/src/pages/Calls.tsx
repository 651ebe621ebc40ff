/** The live call list: newest first, filters and search, paged by cursor and virtualized. */
import { useCallback, useEffect, useMemo, useRef, useState, type MouseEvent } from 'react';
import { StatusBadge } from '../components/Messages';
import { VirtualList } from '../components/VirtualList';
import { api, type RecordFilters } from '../lib/api';
import { int, ms, shortId, time } from '../lib/format';
import { useInterval, useMedia } from '../lib/hooks';
import { href, navigate, useLocation } from '../lib/router';
import type { ClientKey, TraceRecord } from '../lib/types';

const FILTER_KEYS = ['model', 'provider', 'status', 'key_id', 'session_id', 'since', 'until', 'q'] as const;
type FilterKey = (typeof FILTER_KEYS)[number];
const PAGE = 200;
const LIVE_MS = 1000;

function filtersOf(search: URLSearchParams): RecordFilters {
  const f: RecordFilters = {};
  for (const k of FILTER_KEYS) {
    const v = search.get(k);
    if (v) f[k] = v;
  }
  return f;
}

/** `datetime-local` value (local time) ↔ ISO string for the API. */
function toLocalInput(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const off = d.getTimezoneOffset() * 60_000;
  return new Date(d.getTime() - off).toISOString().slice(0, 16);
}

function fromLocalInput(v: string): string {
  return v ? new Date(v).toISOString() : '';
}

function setFilter(search: URLSearchParams, k: FilterKey, v: string): void {
  const next = new URLSearchParams(search);
  if (v) next.set(k, v);
  else next.delete(k);
  const s = next.toString();
  navigate(`/${s ? `?${s}` : ''}`, { replace: true });
}

function matchesClientSide(r: TraceRecord, f: RecordFilters): boolean {
  return !f.provider || r.provider === f.provider;
}

function Row({ r, fresh, compact }: { r: TraceRecord; fresh: boolean; compact: boolean }) {
  const link = href(`/records/${encodeURIComponent(r.id)}`);
  const open = (e: MouseEvent): void => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    navigate(`/records/${encodeURIComponent(r.id)}`);
  };
  if (compact) {
    return (
      <a
        className={`call-card ${fresh ? 'fresh' : ''}`}
        href={link}
        onClick={open}
        data-testid="call-row"
        data-id={r.id}
      >
        <div className="call-card-top">
          <StatusBadge status={r.status} http={r.http_status} />
          <span className="call-model">{r.model ?? '–'}</span>
          <span className="muted right">{time(r.created_at)}</span>
        </div>
        <div className="call-card-bottom muted">
          <span>{r.provider ?? '–'}</span>
          <span>{int(r.usage.total_tokens)} tok</span>
          <span>{ms(r.latency_ms)}</span>
          <span>turn {r.turn}</span>
          {r.replay_of && <span className="tag">replay</span>}
        </div>
      </a>
    );
  }
  return (
    <a
      className={`call-row ${fresh ? 'fresh' : ''}`}
      href={link}
      onClick={open}
      data-testid="call-row"
      data-id={r.id}
    >
      <span className="c-time">{time(r.created_at)}</span>
      <span className="c-status">
        <StatusBadge status={r.status} http={r.http_status} />
      </span>
      <span className="c-model" title={r.upstream_model ? `upstream: ${r.upstream_model}` : undefined}>
        {r.model ?? '–'}
      </span>
      <span className="c-provider">{r.provider ?? '–'}</span>
      <span className="c-num">{int(r.usage.total_tokens)}</span>
      <span className="c-num">{ms(r.latency_ms)}</span>
      <span className="c-num">{r.ttft_ms === null ? '–' : ms(r.ttft_ms)}</span>
      <span className="c-session" title={r.session_id}>
        {shortId(r.session_id)} · {r.turn}
      </span>
      <span className="c-flags">
        {r.stream && <span className="tag">stream</span>}
        {r.flags.tools && <span className="tag">tools</span>}
        {r.flags.multimodal && <span className="tag">image</span>}
        {r.replay_of && <span className="tag">replay</span>}
      </span>
    </a>
  );
}

export function CallsPage() {
  const loc = useLocation();
  const filters = useMemo(() => filtersOf(loc.search), [loc.search]);
  const filterKey = JSON.stringify(filters);
  const compact = useMedia('(max-width: 760px)');
  const [rows, setRows] = useState<TraceRecord[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState(true);
  const [fresh, setFresh] = useState<ReadonlySet<string>>(new Set());
  const [q, setQ] = useState(filters.q ?? '');
  const [showFilters, setShowFilters] = useState(false);
  const [keys, setKeys] = useState<ClientKey[]>([]);
  const [models, setModels] = useState<string[]>([]);
  const generation = useRef(0);
  const loadingMore = useRef(false);
  const rowsRef = useRef(rows);
  rowsRef.current = rows;

  // Suggestions for the model and key filters load when first needed, not with the list.
  const suggestionsLoaded = useRef(false);
  const loadSuggestions = useCallback(() => {
    if (suggestionsLoaded.current) return;
    suggestionsLoaded.current = true;
    api.keys().then(
      (p) => setKeys(p.data),
      () => setKeys([]),
    );
    const now = Date.now();
    api.stats(new Date(now - 86_400_000).toISOString(), new Date(now + 60_000).toISOString(), '1d').then(
      (s) => setModels(s.by_model.map((m) => m.model ?? '').filter(Boolean)),
      () => setModels([]),
    );
  }, []);

  useEffect(() => {
    const gen = ++generation.current;
    setLoading(true);
    setError(null);
    api.records(filters, PAGE).then(
      (p) => {
        if (gen !== generation.current) return;
        setRows(p.data.filter((r) => matchesClientSide(r, filters)));
        setCursor(p.next_cursor);
        setLoading(false);
      },
      (err: unknown) => {
        if (gen !== generation.current) return;
        setError(err instanceof Error ? err.message : String(err));
        setLoading(false);
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [filterKey]);

  // Search applies after a pause in typing.
  useEffect(() => {
    if ((filters.q ?? '') === q) return undefined;
    const t = window.setTimeout(() => setFilter(loc.search, 'q', q.trim()), 300);
    return () => window.clearTimeout(t);
  }, [q, filters.q, loc.search]);

  useInterval(
    async () => {
      const gen = generation.current;
      const p = await api.records(filters, 50);
      if (gen !== generation.current) return;
      const prev = rowsRef.current;
      const known = new Set(prev.map((r) => r.id));
      const incoming = p.data.filter((r) => !known.has(r.id) && matchesClientSide(r, filters));
      if (incoming.length === 0) return;
      setFresh(new Set(incoming.map((r) => r.id)));
      if (incoming.length === p.data.length && prev.length > 0) {
        // More arrived than one poll reads: start again from the newest page.
        setCursor(p.next_cursor);
        setRows(incoming);
      } else {
        setRows([...incoming, ...prev]);
      }
    },
    LIVE_MS,
    live && !loading && error === null,
  );

  const loadMore = useCallback(() => {
    if (!cursor || loadingMore.current) return;
    loadingMore.current = true;
    const gen = generation.current;
    api.records(filters, PAGE, cursor).then(
      (p) => {
        loadingMore.current = false;
        if (gen !== generation.current) return;
        setRows((prev) => {
          const known = new Set(prev.map((r) => r.id));
          return [...prev, ...p.data.filter((r) => !known.has(r.id) && matchesClientSide(r, filters))];
        });
        setCursor(p.next_cursor);
      },
      () => {
        loadingMore.current = false;
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [cursor, filterKey]);

  const active = FILTER_KEYS.filter((k) => k !== 'q' && filters[k]).length;

  return (
    <div className="page calls-page">
      <div className="page-head">
        <h1>Calls</h1>
        <label className="live-toggle">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} />
          <span className={`live-dot ${live ? 'on' : ''}`} aria-hidden="true" />
          Live
        </label>
      </div>
      <div className="toolbar">
        <input
          type="search"
          className="search"
          placeholder="Search request and response text…"
          aria-label="Search"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
        <button
          type="button"
          className="btn filters-toggle"
          aria-expanded={showFilters}
          onClick={() => setShowFilters(!showFilters)}
        >
          Filters{active ? ` (${active})` : ''}
        </button>
      </div>
      <div
        className={`filters ${showFilters ? 'open' : ''}`}
        onFocus={loadSuggestions}
        onPointerEnter={loadSuggestions}
      >
        <label>
          Model
          <input
            list="model-options"
            value={filters.model ?? ''}
            onChange={(e) => setFilter(loc.search, 'model', e.target.value)}
            placeholder="any"
          />
          <datalist id="model-options">
            {models.map((m) => (
              <option key={m} value={m} />
            ))}
          </datalist>
        </label>
        <label>
          Provider
          <input
            value={filters.provider ?? ''}
            onChange={(e) => setFilter(loc.search, 'provider', e.target.value)}
            placeholder="any"
          />
        </label>
        <label>
          Status
          <select
            value={filters.status ?? ''}
            onChange={(e) => setFilter(loc.search, 'status', e.target.value)}
          >
            <option value="">any</option>
            <option value="success">success</option>
            <option value="error">error</option>
            <option value="cancelled">cancelled</option>
          </select>
        </label>
        <label>
          Key
          <select
            value={filters.key_id ?? ''}
            onChange={(e) => setFilter(loc.search, 'key_id', e.target.value)}
          >
            <option value="">any</option>
            {filters.key_id && !keys.some((k) => k.id === filters.key_id) && (
              <option value={filters.key_id}>{filters.key_id}</option>
            )}
            {keys.map((k) => (
              <option key={k.id} value={k.id}>
                {k.name} (…{k.last4})
              </option>
            ))}
          </select>
        </label>
        <label>
          Session
          <input
            value={filters.session_id ?? ''}
            onChange={(e) => setFilter(loc.search, 'session_id', e.target.value.trim())}
            placeholder="session id"
          />
        </label>
        <label>
          From
          <input
            type="datetime-local"
            value={toLocalInput(filters.since)}
            onChange={(e) => setFilter(loc.search, 'since', fromLocalInput(e.target.value))}
          />
        </label>
        <label>
          To
          <input
            type="datetime-local"
            value={toLocalInput(filters.until)}
            onChange={(e) => setFilter(loc.search, 'until', fromLocalInput(e.target.value))}
          />
        </label>
        {(active > 0 || filters.q) && (
          <button
            type="button"
            className="btn small clear"
            onClick={() => {
              setQ('');
              navigate('/', { replace: true });
            }}
          >
            Clear
          </button>
        )}
      </div>
      {error && <p className="error">Could not load calls: {error}</p>}
      {!compact && (
        <div className="call-row call-head" aria-hidden="true">
          <span>Time</span>
          <span>Status</span>
          <span>Model</span>
          <span>Provider</span>
          <span className="c-num">Tokens</span>
          <span className="c-num">Latency</span>
          <span className="c-num">TTFT</span>
          <span>Session · turn</span>
          <span />
        </div>
      )}
      {!loading && rows.length === 0 && !error ? (
        <div className="empty">
          <p>No calls {active || filters.q ? 'match these filters' : 'yet'}.</p>
          <p className="muted">
            Point an OpenAI SDK at <code>{window.location.origin}/v1</code>; each call appears here within a
            second.
          </p>
        </div>
      ) : (
        <VirtualList
          className="calls-list"
          items={rows}
          rowHeight={compact ? 68 : 44}
          keyOf={(r) => r.id}
          render={(r) => <Row r={r} fresh={fresh.has(r.id)} compact={compact} />}
          onNearEnd={loadMore}
        />
      )}
      <div className="list-foot muted">
        {loading ? 'Loading…' : `${int(rows.length)} shown${cursor ? ' · scroll for more' : ''}`}
      </div>
    </div>
  );
}
