/**
 * Trace storage at scale, on SQLite: fills TRACES_N (default 1,000,000) traces with bodies and
 * search rows by direct batched inserts into a temp file, then measures the list API's queries
 * (filters, deep cursor pages, full-text `q`) and /api/stats over a day, as p50/p95 over many
 * runs, and the writer's throughput (traces/s, through its worker thread) and the main thread's
 * event-loop delay while it drains.
 *
 *   node -r ts-node/register/transpile-only bench/traces-scale.ts
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Database } from 'better-sqlite3';
import { createDataSource } from '../src/database/data-source';
import { ENTITIES, MIGRATIONS } from '../src/database/schema';
import type { CallRecord } from '../src/gateway/call-record';
import { TraceQuery, type TraceFilters } from '../src/traces/trace-query';
import { rollupBackfillSql } from '../src/traces/trace-rollup';
import { TraceStats } from '../src/traces/trace-stats';
import { workerLink } from '../src/traces/trace-worker-link';
import { TraceWriter } from '../src/traces/trace-writer';

const N = Number(process.env.TRACES_N ?? 1_000_000);
const RUNS = Number(process.env.TRACES_RUNS ?? 100);
const WRITES = Number(process.env.TRACES_WRITES ?? 20_000);
const FILL_BATCH = 10_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = rng(42);
const VOCAB = Array.from({ length: 20_000 }, (_, i) => `w${i.toString(36)}`);
/** Zipf-like: low word numbers are common, high ones rare. */
const word = (): string => VOCAB[Math.floor(VOCAB.length * rand() ** 3)]!;
const sentence = (n: number): string => Array.from({ length: n }, word).join(' ');
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const MODELS = Array.from({ length: 20 }, (_, i) => `model-${i}`);
const STATUSES = [
  'success',
  'success',
  'success',
  'success',
  'success',
  'success',
  'success',
  'success',
  'error',
  'cancelled',
];
const KEYS = Array.from({ length: 500 }, (_, i) => `key_${i}`);

function fill(db: Database): void {
  const cols =
    'id, created_at, session_id, turn, endpoint, key_id, model, provider, upstream_model, stream, status, http_status, error, latency_ms, ttft_ms, overhead_ms, prompt_tokens, completion_tokens, total_tokens, cached_tokens, reasoning_tokens, usage_source, multimodal, tools, attempts, metadata, replay_of, reply_hash';
  const insTrace = db.prepare(
    `INSERT INTO traces (${cols}) VALUES (${cols
      .split(',')
      .map(() => '?')
      .join(',')})`,
  );
  const insBody = db.prepare(
    'INSERT INTO trace_bodies (trace_id, request, upstream_request, response) VALUES (?, ?, ?, ?)',
  );
  const insFts = db.prepare('INSERT INTO trace_fts (rowid, body) VALUES (?, ?)');
  const insSession = db.prepare(
    'INSERT INTO sessions (id, name, first_at, last_at, turns, models, total_tokens) VALUES (?, ?, ?, ?, 1, ?, ?)',
  );
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const id = randomUUID();
      const model = pick(MODELS);
      const status = pick(STATUSES);
      const question = sentence(12);
      const answer = sentence(20);
      const req = JSON.stringify({ model, messages: [{ role: 'user', content: question }] });
      const res = JSON.stringify({
        choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }],
      });
      const info = insTrace.run(
        id,
        T0 + i * 50,
        id,
        1,
        '/v1/chat/completions',
        pick(KEYS),
        model,
        'up',
        model,
        0,
        status,
        status === 'error' ? 502 : status === 'cancelled' ? 499 : 200,
        null,
        100 + rand() * 900,
        null,
        1,
        30,
        40,
        70,
        0,
        0,
        'provider',
        0,
        0,
        '[]',
        null,
        null,
        null,
      );
      insBody.run(id, req, req, res);
      insFts.run(info.lastInsertRowid, `${question}\n${answer}`);
      insSession.run(id, question.slice(0, 60), T0 + i * 50, T0 + i * 50, JSON.stringify([model]), 70);
    }
  });
  for (let i = 0; i < N; i += FILL_BATCH) batch(i, Math.min(N, i + FILL_BATCH));
}

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

function callRecord(i: number): CallRecord {
  const q = sentence(12);
  const a = sentence(20);
  const sse = i % 2 === 0;
  const chunk = (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  return {
    id: randomUUID(),
    startedAt: Date.now(),
    endpoint: '/v1/chat/completions',
    model: pick(MODELS),
    provider: 'up',
    upstreamModel: 'm',
    stream: sse,
    keyId: pick(KEYS),
    sessionId: null,
    metadata: null,
    request: { model: 'm', messages: [{ role: 'user', content: q }] },
    requestBytes: null,
    upstreamRequest: { model: 'm', messages: [{ role: 'user', content: q }] },
    response: sse
      ? {
          kind: 'sse',
          chunks: [
            Buffer.from(chunk({ role: 'assistant', content: a.slice(0, 40) }, null)),
            Buffer.from(chunk({ content: a.slice(40) }, null) + chunk({}, 'stop') + 'data: [DONE]\n\n'),
          ],
        }
      : {
          kind: 'json',
          body: {
            choices: [{ index: 0, message: { role: 'assistant', content: a }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 30, completion_tokens: 40, total_tokens: 70 },
          },
        },
    status: 'success',
    httpStatus: 200,
    error: null,
    latencyMs: 200,
    ttftMs: null,
    overheadMs: 1,
    attempts: [{ provider: 'up', model: 'm', status: 200, error: null, latency_ms: 199 }],
    usage: null,
    replayOf: null,
    sessionOf: null,
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-trace-scale-'));
  const url = `sqlite:${join(dir, 'gateway.db')}`;
  const ds = createDataSource(url, ENTITIES, MIGRATIONS);
  await ds.initialize();
  await ds.runMigrations();
  const db = (ds.driver as unknown as { databaseConnection: Database }).databaseConnection;
  let t = performance.now();
  fill(db);
  db.exec(rollupBackfillSql(false));
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
