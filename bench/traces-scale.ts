/**
 * Trace storage at scale, on SQLite: fills TRACES_N (default 1,000,000) traces with bodies and
 * search rows by direct batched inserts into a temp file, then measures the list API's queries
 * (filters, deep cursor pages, full-text `q`) and /api/stats over a day, as p50/p95 over many
 * runs, and the writer's throughput (traces/s, through its worker thread) and the main thread's
 * event-loop delay while it drains.
 *
 *   node -r ts-node/register/transpile-only bench/traces-scale.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Database } from 'better-sqlite3';
import { createDataSource } from '../src/database/data-source';
import { ENTITIES, MIGRATIONS } from '../src/database/schema';
import { TraceQuery, type TraceFilters } from '../src/traces/trace-query';
import { TraceStats } from '../src/traces/trace-stats';
import { workerLink } from '../src/traces/trace-worker-link';
import { TraceWriter } from '../src/traces/trace-writer';
import { callRecord, fill, KEYS, MODELS, rand, T0, VOCAB } from './traces-fill';

const N = Number(process.env.TRACES_N ?? 1_000_000);
const RUNS = Number(process.env.TRACES_RUNS ?? 100);
const WRITES = Number(process.env.TRACES_WRITES ?? 20_000);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(p * s.length) - 1)] ?? NaN;
}

async function measure(name: string, run: (i: number) => Promise<number>): Promise<string[]> {
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    rows += await run(i);
    times.push(performance.now() - t);
  }
  return [name, pct(times, 0.5).toFixed(2), pct(times, 0.95).toFixed(2), (rows / RUNS).toFixed(1)];
}

function table(rows: string[][]): void {
  const head = ['query (limit 50)', 'p50 ms', 'p95 ms', 'rows/page'];
  const all = [head, ...rows];
  const w = head.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    `| ${r.map((v, c) => (c === 0 ? v.padEnd(w[c]!) : v.padStart(w[c]!))).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${w.map((n, c) => (c === 0 ? '-'.repeat(n + 2) : `${'-'.repeat(n + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}
async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-trace-scale-'));
  const url = `sqlite:${join(dir, 'gateway.db')}`;
  const ds = createDataSource(url, ENTITIES, MIGRATIONS);
  await ds.initialize();
  await ds.runMigrations();
  const db = (ds.driver as unknown as { databaseConnection: Database }).databaseConnection;
  let t = performance.now();
  fill(db, N);
  db.pragma('optimize');
  console.log(
    `filled ${N.toLocaleString('en')} traces (with bodies and search rows) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );

  const query = new TraceQuery(ds);
  const list = async (f: TraceFilters, cursor: string | null = null) =>
    (await query.list(f, 50, cursor)).data.length;
  const mid = T0 + Math.floor(N / 2) * 50;
  const deepCursors: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const at = T0 + Math.floor(rand() * N) * 50;
    deepCursors.push(Buffer.from(`t:${at}:ffffffff`).toString('base64url'));
  }
  const sessionIds = await ds.query<Array<{ session_id: string }>>(
    'SELECT session_id FROM traces ORDER BY random() LIMIT ?',
    [RUNS],
  );
  const rows = [
    await measure('newest first', () => list({})),
    await measure('deep cursor page', (i) => list({}, deepCursors[i])),
    await measure('model=', (i) => list({ model: MODELS[i % MODELS.length]! })),
    await measure('status=error', () => list({ status: 'error' })),
    await measure('key_id=', (i) => list({ key_id: KEYS[i % KEYS.length]! })),
    await measure('session_id=', (i) => list({ session_id: sessionIds[i]!.session_id })),
    await measure('model= since/until (1 h)', (i) =>
      list({ model: MODELS[i % MODELS.length]!, since: mid, until: mid + 3_600_000 }),
    ),
    await measure('q=common word', (i) => list({ q: VOCAB[i % 5]! })),
    await measure('q=mid-frequency word', (i) => list({ q: VOCAB[2000 + i]! })),
    await measure('q=rare word', (i) => list({ q: VOCAB[19_000 + i]! })),
    await measure('q=two words', (i) => list({ q: `${VOCAB[i % 5]!} ${VOCAB[100 + i]!}` })),
    await measure('q=common + model=', (i) => list({ q: VOCAB[i % 5]!, model: MODELS[i % MODELS.length]! })),
    await measure('q=absent word', () => list({ q: 'zzzzzz' })),
  ];
  const stats = new TraceStats(ds);
  const span = N * 50;
  const statRuns = async (name: string, from: number, to: number, bucketS: number): Promise<string[]> => {
    const times: number[] = [];
    let mode = '';
    for (let i = 0; i < Math.min(RUNS, 10); i++) {
      const s0 = performance.now();
      mode = (await stats.compute(from, to, bucketS)).latency_percentiles;
      times.push(performance.now() - s0);
    }
    return [`${name} (${mode})`, pct(times, 0.5).toFixed(2), pct(times, 0.95).toFixed(2), '-'];
  };
  rows.push(
    await statRuns('/api/stats whole range, 15 min buckets', T0, T0 + span, 900),
    await statRuns('/api/stats 1 h, 1 min buckets', mid, mid + 3_600_000, 60),
    await statRuns('/api/stats 5 min (exact)', mid + 7, mid + 300_007, 60),
  );
  console.log(`\nlist API on ${N.toLocaleString('en')} traces, ${RUNS} runs each (stats: 10 runs)`);
  table(rows);

  // The writer as the gateway runs it: records posted to the trace worker, which owns its own
  // connection to the same file; the event-loop delay is the main thread's.
  const writer = new TraceWriter(workerLink({ url }), {
    enabled: () => true,
    storeBodies: () => true,
    jsonl: () => undefined,
    logger: { warn: (o, m) => console.warn(m, o), error: (o, m) => console.error(m, o) },
  });
  writer.record(callRecord(0));
  await writer.flush(60_000);
  const records = Array.from({ length: WRITES }, (_, i) => callRecord(i));
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  t = performance.now();
  for (const r of records) writer.record(r);
  const enqueueMs = performance.now() - t;
  await writer.flush(120_000);
  const secs = (performance.now() - t) / 1000;
  loop.disable();
  console.log(
    `\nwriter: ${WRITES.toLocaleString('en')} traces (half raw SSE, reassembled) into a ${N.toLocaleString('en')}-trace database: ` +
      `${Math.round(WRITES / secs).toLocaleString('en')} traces/s; record() total ${enqueueMs.toFixed(1)} ms ` +
      `(${((enqueueMs * 1000) / WRITES).toFixed(2)} µs each); main event-loop delay while draining p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms`,
  );
  await writer.close();
  await ds.destroy();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
