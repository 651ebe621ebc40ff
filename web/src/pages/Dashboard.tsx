/** Requests, errors, tokens and latency over time, and per model and provider. */
import { useMemo, useState } from 'react';
import { Chart, type Series } from '../components/Chart';
import { api } from '../lib/api';
import { int, ms } from '../lib/format';
import { useInterval, useLoad } from '../lib/hooks';
import type { Stats, StatsFigures } from '../lib/types';

const RANGES: Array<[string, number]> = [
  ['1 h', 3_600_000],
  ['6 h', 6 * 3_600_000],
  ['24 h', 86_400_000],
  ['7 d', 7 * 86_400_000],
  ['30 d', 30 * 86_400_000],
];

const COLORS = {
  requests: '#3b82f6',
  errors: '#ef4444',
  prompt: '#8b5cf6',
  completion: '#10b981',
  p50: '#0ea5e9',
  p95: '#f59e0b',
};

interface ChartData {
  x: number[];
  requests: Series[];
  tokens: Series[];
  latency: Series[];
}

/** One point per bucket across the whole range (empty buckets count zero requests, no latency). */
function chartData(s: Stats): ChartData {
  const step = s.bucket_s * 1000;
  const start = Math.floor(Date.parse(s.since) / step) * step;
  const end = Date.parse(s.until);
  const byStart = new Map(s.buckets.map((b) => [Date.parse(b.start), b]));
  const x: number[] = [];
  const col = (f: (b: StatsFigures | undefined) => number | null): Array<number | null> => {
    const out: Array<number | null> = [];
    for (let t = start; t < end; t += step) out.push(f(byStart.get(t)));
    return out;
  };
  for (let t = start; t < end; t += step) x.push(t / 1000);
  return {
    x,
    requests: [
      { label: 'Requests', values: col((b) => b?.requests ?? 0), color: COLORS.requests, bars: true },
      { label: 'Errors', values: col((b) => b?.errors ?? 0), color: COLORS.errors, bars: true },
    ],
    tokens: [
      { label: 'Prompt', values: col((b) => b?.prompt_tokens ?? 0), color: COLORS.prompt },
      { label: 'Completion', values: col((b) => b?.completion_tokens ?? 0), color: COLORS.completion },
    ],
    latency: [
      { label: 'p50', values: col((b) => b?.latency_p50_ms ?? null), color: COLORS.p50 },
      { label: 'p95', values: col((b) => b?.latency_p95_ms ?? null), color: COLORS.p95 },
    ],
  };
}

function Breakdown({ title, rows }: { title: string; rows: Array<StatsFigures & { name: string }> }) {
  const max = Math.max(1, ...rows.map((r) => r.requests));
  return (
    <section className="card breakdown">
      <h2>{title}</h2>
      {rows.length === 0 ? (
        <p className="muted">No calls in this range.</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th>Name</th>
                <th className="num">Requests</th>
                <th className="num">Errors</th>
                <th className="num">Tokens</th>
                <th className="num">p50</th>
                <th className="num">p95</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.name}>
                  <td>
                    <div className="name-cell">{r.name}</div>
                    <span className="bar" style={{ width: `${(r.requests / max) * 100}%` }} />
                  </td>
                  <td className="num">{int(r.requests)}</td>
                  <td className={`num ${r.errors ? 'err-text' : ''}`}>{int(r.errors)}</td>
                  <td className="num">{int(r.total_tokens)}</td>
                  <td className="num">{ms(r.latency_p50_ms)}</td>
                  <td className="num">{ms(r.latency_p95_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function DashboardPage() {
  const [range, setRange] = useState(86_400_000);
  const [tick, setTick] = useState(0);
  const stats = useLoad(() => {
    const until = Date.now() + 1000;
    return api.stats(new Date(until - range).toISOString(), new Date(until).toISOString());
  }, [range, tick]);
  useInterval(async () => setTick((t) => t + 1), 10_000);
  const s = stats.data;
  const charts = useMemo(() => (s ? chartData(s) : null), [s]);
  const t = s?.totals;
  const errorRate = t && t.requests ? (t.errors / t.requests) * 100 : 0;

  return (
    <div className="page dashboard">
      <div className="page-head">
        <h1>Dashboard</h1>
        <div className="segmented" role="group" aria-label="Time range">
          {RANGES.map(([label, v]) => (
            <button
              key={label}
              type="button"
              className={v === range ? 'active' : ''}
              aria-pressed={v === range}
              onClick={() => setRange(v)}
            >
              {label}
            </button>
          ))}
        </div>
      </div>
      {stats.error && <p className="error">Could not load figures: {stats.error}</p>}
      <div className="stat-cards" data-testid="totals">
        <div className="stat">
          <span className="stat-label">Requests</span>
          <span className="stat-value" data-testid="total-requests">
            {t ? int(t.requests) : '…'}
          </span>
        </div>
        <div className="stat">
          <span className="stat-label">Errors</span>
          <span className="stat-value">
            {t ? int(t.errors) : '…'} <small className="muted">{t ? `${errorRate.toFixed(1)}%` : ''}</small>
          </span>
        </div>
        <div className="stat">
          <span className="stat-label">Tokens</span>
          <span className="stat-value">{t ? int(t.total_tokens) : '…'}</span>
        </div>
        <div className="stat">
          <span className="stat-label">Latency p50</span>
          <span className="stat-value">{t ? ms(t.latency_p50_ms) : '…'}</span>
        </div>
        <div className="stat">
          <span className="stat-label">Latency p95</span>
          <span className="stat-value">{t ? ms(t.latency_p95_ms) : '…'}</span>
        </div>
      </div>
      {charts && (
        <div className="charts">
          <Chart title="Requests and errors" x={charts.x} series={charts.requests} />
          <Chart title="Tokens" x={charts.x} series={charts.tokens} />
          <Chart title="Latency" x={charts.x} series={charts.latency} unit=" ms" />
        </div>
      )}
      {s && (
        <div className="breakdowns">
          <Breakdown title="By model" rows={s.by_model.map((m) => ({ ...m, name: m.model ?? '(none)' }))} />
          <Breakdown
            title="By provider"
            rows={s.by_provider.map((p) => ({ ...p, name: p.provider ?? '(none)' }))}
          />
        </div>
      )}
    </div>
  );
}
