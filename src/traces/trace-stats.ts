/**
 * Dashboard figures over a time range: requests, errors, tokens and latency p50/p95, in total,
 * per model, per provider and per time bucket. A range with few traces is read exactly from the
 * metadata table (a page at a time, yielding between pages). A larger one is read from the
 * rollup (src/traces/trace-rollup.ts): per model and provider from hourly rows inside the range
 * and per-minute rows at its ends, time buckets from per-minute rows over all models — a few rows
 * per period whatever the traffic; exact counts and tokens, percentiles within one latency bucket
 * (~9%). Only the partial minutes at the range's ends are read from the traces.
 */
import type { DataSource } from 'typeorm';
import { bucketLatency, HOUR_MS, latencyBucket, MINUTE_MS, type RollupTable } from './trace-rollup';
import { columnText, num, Sql,
  type SqlReader, type Row } from './trace-sql';

export interface StatsFigures {
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
}

export interface Stats {
  since: string;
  until: string;
  bucket_s: number;
  totals: StatsFigures;
  by_model: Array<StatsFigures & { model: string | null }>;
  by_provider: Array<StatsFigures & { provider: string | null }>;
  buckets: Array<StatsFigures & { start: string }>;
  /** `exact` (few traces in range) or `histogram` (read from the rollup, ~9% wide buckets). */
  latency_percentiles: 'exact' | 'histogram';
}

class Acc {
  requests = 0;
  errors = 0;
  prompt = 0;
  completion = 0;
  total = 0;
  readonly latencies: number[] = [];
  /** Latency bucket → count, when read from the rollup. */
  private hist: Map<number, number> | null = null;

  add(status: string, latency: number, prompt: number, completion: number, total: number): void {
    this.requests++;
    if (status === 'error') this.errors++;
    this.prompt += prompt;
    this.completion += completion;
    this.total += total;
    this.latencies.push(latency);
  }

  addBucket(bucket: number, requests: number, errors: number, prompt: number, completion: number, total: number): void {
    this.requests += requests;
    this.errors += errors;
    this.prompt += prompt;
    this.completion += completion;
    this.total += total;
    this.hist ??= new Map();
    this.hist.set(bucket, (this.hist.get(bucket) ?? 0) + requests);
  }

  private percentiles(): [number | null, number | null] {
    if (!this.hist) {
      const sorted = Float64Array.from(this.latencies).sort();
      return [percentile(sorted, 0.5), percentile(sorted, 0.95)];
    }
    const hist = new Map(this.hist);
    for (const l of this.latencies) {
      const b = latencyBucket(l);
      hist.set(b, (hist.get(b) ?? 0) + 1);
    }
    const keys = [...hist.keys()].sort((a, b) => a - b);
    const n = keys.reduce((sum, k) => sum + Math.max(0, hist.get(k) ?? 0), 0);
    const at = (p: number): number | null => {
      if (n === 0) return null;
      const rank = Math.max(1, Math.ceil(p * n));
      let seen = 0;
      for (const k of keys) {
        seen += Math.max(0, hist.get(k) ?? 0);
        if (seen >= rank) return bucketLatency(k);
      }
      return null;
    };
    return [at(0.5), at(0.95)];
  }

  figures(): StatsFigures {
    const [p50, p95] = this.percentiles();
    return {
      requests: this.requests,
      errors: this.errors,
      prompt_tokens: this.prompt,
      completion_tokens: this.completion,
      total_tokens: this.total,
      latency_p50_ms: p50,
      latency_p95_ms: p95,
    };
  }
}

/** Nearest-rank percentile of sorted values; null when there are none. */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1] ?? null;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `30s`, `5m`, `1h`, `1d` or a number of seconds; null when unreadable. */
export function parseBucket(v: string): number | null {
  const m = /^(\d+)([smhd]?)$/.exec(v.trim());
  if (!m?.[1]) return null;
  const n = Number(m[1]) * (UNITS[m[2] || 's'] ?? 1);
  return n > 0 ? n : null;
}

/** A bucket giving at most ~100 points over the range. */
export function defaultBucket(rangeMs: number): number {
  for (const s of [60, 300, 900, 3600, 21600, 86400]) if (rangeMs / 1000 / s <= 100) return s;
  return 604800;
}

const SUMS =
  'SUM(requests) AS requests, SUM(errors) AS errors, SUM(prompt_tokens) AS prompt, SUM(completion_tokens) AS completion, SUM(total_tokens) AS total';

function figuresOf(r: Row): [number, number, number, number, number, number] {
  return [num(r.lat_bucket), num(r.requests), num(r.errors), num(r.prompt), num(r.completion), num(r.total)];
}

/** Which rollup level covers which part of [from, to) (whole minutes): hours inside, minutes at the ends. */
function rollupPieces(from: number, to: number): Array<{ table: RollupTable; from: number; to: number }> {
  const firstHour = Math.ceil(from / HOUR_MS) * HOUR_MS;
  const lastHour = Math.floor(to / HOUR_MS) * HOUR_MS;
  if (lastHour <= firstHour) return [{ table: 'trace_rollup', from, to }];
  const pieces: Array<{ table: RollupTable; from: number; to: number }> = [
    { table: 'trace_rollup', from, to: firstHour },
    { table: 'trace_rollup_hour', from: firstHour, to: lastHour },
    { table: 'trace_rollup', from: lastHour, to },
  ];
  return pieces.filter((p) => p.to > p.from);
}

export class TraceStats {
  private readonly sql: Sql;

  /** `reader`: where reads run instead of the DataSource (SQLite: a thread of their own). */
  constructor(ds: DataSource, reader: SqlReader | null = null) {
    this.sql = new Sql(ds, reader);
  }

  /**
   * Figures over [since, until). Ranges holding more than `exactLimit` traces (and buckets of whole
   * minutes) are read from the rollup.
   */
  async compute(since: number, until: number, bucketS: number, pageSize = 5000, exactLimit = 20_000): Promise<Stats> {
    const totals = new Acc();
    const models = new Map<string | null, Acc>();
    const providers = new Map<string | null, Acc>();
    const buckets = new Map<number, Acc>();
    const bucketMs = bucketS * 1000;
    const get = <K>(m: Map<K, Acc>, k: K): Acc => {
      let a = m.get(k);
      if (!a) m.set(k, (a = new Acc()));
      return a;
    };
    const scan = async (from: number, to: number): Promise<void> => {
      let after: { at: number; id: string } | null = null;
      for (;;) {
        const rows = await this.sql.query(
          `SELECT id, created_at, model, provider, status, latency_ms, prompt_tokens, completion_tokens, total_tokens
           FROM traces WHERE created_at >= ? AND created_at < ? ${after ? 'AND (created_at > ? OR (created_at = ? AND id > ?))' : ''}
           ORDER BY created_at, id LIMIT ?`,
          after ? [from, to, after.at, after.at, after.id, pageSize] : [from, to, pageSize],
        );
        for (const r of rows) {
          const at = num(r.created_at);
          const status = String(r.status);
          const args = [status, num(r.latency_ms), num(r.prompt_tokens), num(r.completion_tokens), num(r.total_tokens)] as const;
          totals.add(...args);
          get(models, columnText(r.model)).add(...args);
          get(providers, columnText(r.provider)).add(...args);
          get(buckets, Math.floor(at / bucketMs) * bucketMs).add(...args);
        }
        const last = rows[rows.length - 1];
        if (rows.length < pageSize || !last) break;
        after = { at: num(last.created_at), id: String(last.id) };
        await new Promise((r) => setImmediate(r));
      }
    };
    const firstMinute = Math.ceil(since / MINUTE_MS) * MINUTE_MS;
    const lastMinute = Math.floor(until / MINUTE_MS) * MINUTE_MS;
    let rollup = false;
    if (bucketMs % MINUTE_MS === 0 && lastMinute > firstMinute) {
      const pieces = rollupPieces(firstMinute, lastMinute);
      // Per model and provider first (a few rows per model): it also tells how many traces there are.
      const byKey: Row[] = [];
      for (const p of pieces) {
        byKey.push(
          ...(await this.sql.query(
            `SELECT model, provider, lat_bucket, ${SUMS} FROM ${p.table} WHERE minute >= ? AND minute < ? GROUP BY model, provider, lat_bucket`,
            [p.from, p.to],
          )),
        );
      }
      rollup = byKey.reduce((n, r) => n + num(r.requests), 0) > exactLimit;
      if (rollup) {
        for (const r of byKey) {
          const args = figuresOf(r);
          if (args[1] === 0) continue;
          totals.addBucket(...args);
          get(models, r.model === '' ? null : columnText(r.model)).addBucket(...args);
          get(providers, r.provider === '' ? null : columnText(r.provider)).addBucket(...args);
        }
        const rows = await this.sql.query(
          `SELECT (minute / CAST(? AS BIGINT)) * CAST(? AS BIGINT) AS b, lat_bucket, ${SUMS}
           FROM trace_rollup_all WHERE minute >= ? AND minute < ? GROUP BY 1, 2`,
          [bucketMs, bucketMs, firstMinute, lastMinute],
        );
        for (const r of rows) {
          const args = figuresOf(r);
          if (args[1] !== 0) get(buckets, num(r.b)).addBucket(...args);
        }
        // The partial minutes at both ends, exactly.
        await scan(since, firstMinute);
        await scan(lastMinute, until);
      }
    }
    if (!rollup) await scan(since, until);
    const nonEmpty = <K>(m: Map<K, Acc>): Array<[K, Acc]> => [...m].filter(([, a]) => a.requests > 0);
    return {
      since: new Date(since).toISOString(),
      until: new Date(until).toISOString(),
      bucket_s: bucketS,
      totals: totals.figures(),
      by_model: nonEmpty(models)
        .map(([model, a]) => ({ model, ...a.figures() }))
        .sort((x, y) => y.requests - x.requests),
      by_provider: nonEmpty(providers)
        .map(([provider, a]) => ({ provider, ...a.figures() }))
        .sort((x, y) => y.requests - x.requests),
      buckets: nonEmpty(buckets)
        .sort((x, y) => x[0] - y[0])
        .map(([start, a]) => ({ start: new Date(start).toISOString(), ...a.figures() })),
      latency_percentiles: rollup ? 'histogram' : 'exact',
    };
  }

}
