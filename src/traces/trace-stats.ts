/**
 * Dashboard figures over a time range: requests, errors, tokens and latency p50/p95, in total,
 * per model, per provider and per time bucket. Reads only the metadata table, a page at a time
 * (yielding between pages), so a long range never stalls the event loop.
 */
import type { DataSource } from 'typeorm';
import { columnText, num, Sql } from './trace-sql';

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
}

class Acc {
  requests = 0;
  errors = 0;
  prompt = 0;
  completion = 0;
  total = 0;
  readonly latencies: number[] = [];

  add(status: string, latency: number, prompt: number, completion: number, total: number): void {
    this.requests++;
    if (status === 'error') this.errors++;
    this.prompt += prompt;
    this.completion += completion;
    this.total += total;
    this.latencies.push(latency);
  }

  figures(): StatsFigures {
    const sorted = Float64Array.from(this.latencies).sort();
    return {
      requests: this.requests,
      errors: this.errors,
      prompt_tokens: this.prompt,
      completion_tokens: this.completion,
      total_tokens: this.total,
      latency_p50_ms: percentile(sorted, 0.5),
      latency_p95_ms: percentile(sorted, 0.95),
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

export class TraceStats {
  private readonly sql: Sql;

  constructor(ds: DataSource) {
    this.sql = new Sql(ds);
  }

  async compute(since: number, until: number, bucketS: number, pageSize = 5000): Promise<Stats> {
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
    let after: { at: number; id: string } | null = null;
    for (;;) {
      const rows = await this.sql.query(
        `SELECT id, created_at, model, provider, status, latency_ms, prompt_tokens, completion_tokens, total_tokens
         FROM traces WHERE created_at >= ? AND created_at < ? ${after ? 'AND (created_at > ? OR (created_at = ? AND id > ?))' : ''}
         ORDER BY created_at, id LIMIT ?`,
        after ? [since, until, after.at, after.at, after.id, pageSize] : [since, until, pageSize],
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
    return {
      since: new Date(since).toISOString(),
      until: new Date(until).toISOString(),
      bucket_s: bucketS,
      totals: totals.figures(),
      by_model: [...models].map(([model, a]) => ({ model, ...a.figures() })).sort((x, y) => y.requests - x.requests),
      by_provider: [...providers]
        .map(([provider, a]) => ({ provider, ...a.figures() }))
        .sort((x, y) => y.requests - x.requests),
      buckets: [...buckets]
        .sort((x, y) => x[0] - y[0])
        .map(([start, a]) => ({ start: new Date(start).toISOString(), ...a.figures() })),
    };
  }
}
