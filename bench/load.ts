/** A closed-loop load generator: N workers, each sending requests back to back for a duration. */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

export interface LoadResult {
  requests: number;
  errors: number;
  /** Open loop: starts skipped because `maxInFlight` requests were already waiting. */
  skipped?: number;
  rps: number;
  p50: number;
  p99: number;
  ttfbP50: number;
  overheadP50: number | null;
  overheadP99: number | null;
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export async function runLoad(
  url: string,
  body: string,
  concurrency: number,
  durationMs: number,
  headers: Record<string, string> = {},
): Promise<LoadResult> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const lat: number[] = [];
  const ttfb: number[] = [];
  const overhead: number[] = [];
  let errors = 0;
  const reqHeaders = { 'content-type': 'application/json', ...headers };
  // Warm the connections.
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const r = await pool.request({ path: target.pathname, method: 'POST', headers: reqHeaders, body });
      await r.body.dump();
    }),
  );
  const start = performance.now();
  const end = start + durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const t = performance.now();
      try {
        const r = await pool.request({ path: target.pathname, method: 'POST', headers: reqHeaders, body });
        const t1 = performance.now();
        for await (const _ of r.body) {
          // drain
        }
        const t2 = performance.now();
        if (r.statusCode !== 200) errors++;
        lat.push(t2 - t);
        ttfb.push(t1 - t);
        const o = r.headers['x-gateway-overhead-ms'];
        if (typeof o === 'string') overhead.push(Number(o));
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = performance.now() - start;
  await pool.close();
  return summary(lat, errors, elapsed, ttfb, overhead);
}

/** Latencies of one run as a LoadResult (ttfb and overhead when they were measured). */
function summary(
  lat: number[],
  errors: number,
  elapsedMs: number,
  ttfb: number[] = [],
  overhead: number[] = [],
): LoadResult {
  const sl = Float64Array.from(lat).sort();
  const so = Float64Array.from(overhead).sort();
  return {
    requests: lat.length,
    errors,
    rps: (lat.length / elapsedMs) * 1000,
    p50: percentile(sl, 50),
    p99: percentile(sl, 99),
    ttfbP50: ttfb.length ? percentile(Float64Array.from(ttfb).sort(), 50) : NaN,
    overheadP50: so.length ? percentile(so, 50) : null,
    overheadP99: so.length ? percentile(so, 99) : null,
  };
}

/**
 * An open-loop load: requests start at a fixed rate (whatever the answers' latency), at most
 * `maxInFlight` at once (a start that finds them all busy is skipped and counted apart). The pool's
 * connections are opened before the clock starts, as a closed loop's are.
 */
export async function runPaced(
  url: string,
  body: string,
  rate: number,
  durationMs: number,
  maxInFlight = 200,
): Promise<LoadResult> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: maxInFlight, pipelining: 1, keepAliveTimeout: 30_000 });
  const headers = { 'content-type': 'application/json' };
  const lat: number[] = [];
  let errors = 0;
  let skipped = 0;
  let inFlight = 0;
  const pending: Promise<void>[] = [];
  await Promise.all(
    Array.from({ length: Math.min(maxInFlight, 50) }, async () => {
      const r = await pool.request({ path: target.pathname, method: 'POST', headers, body });
      await r.body.dump();
    }),
  );
  const one = async (): Promise<void> => {
    inFlight++;
    const t = performance.now();
    try {
      const r = await pool.request({ path: target.pathname, method: 'POST', headers, body });
      await r.body.dump();
      if (r.statusCode !== 200) errors++;
      lat.push(performance.now() - t);
    } catch {
      errors++;
    } finally {
      inFlight--;
    }
  };
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < durationMs) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    for (; sent < due; sent++) {
      if (inFlight >= maxInFlight) skipped++;
      else pending.push(one());
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  const elapsed = performance.now() - start;
  await pool.close();
  return { ...summary(lat, errors, elapsed), skipped };
}
