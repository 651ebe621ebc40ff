/**
 * Synthetic traces for the trace benches: a deterministic vocabulary (Zipf-like word use), a
 * bulk filler writing traces, bodies, search rows, sessions and the stats rollup straight into a
 * migrated SQLite file, and CallRecords as the gateway hands them to the recorder.
 */
import type { Database } from 'better-sqlite3';
import { newTraceId } from '../src/common/trace-id';
import type { CallRecord } from '../src/gateway/call-record';
import { rollupBackfillSql } from '../src/traces/trace-rollup';

const FILL_BATCH = 10_000;
export const T0 = Date.parse('2026-01-01T00:00:00Z');

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

export const rand = rng(42);
export const VOCAB = Array.from({ length: 20_000 }, (_, i) => `w${i.toString(36)}`);
/** Zipf-like: low word numbers are common, high ones rare. */
const word = (): string => VOCAB[Math.floor(VOCAB.length * rand() ** 3)]!;
const sentence = (n: number): string => Array.from({ length: n }, word).join(' ');
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

export const MODELS = Array.from({ length: 20 }, (_, i) => `model-${i}`);
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
export const KEYS = Array.from({ length: 500 }, (_, i) => `key_${i}`);

/** Writes `n` traces (one every 50 ms from T0) with bodies, search rows, sessions and rollup. */
export function fill(db: Database, n: number): void {
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
      const id = newTraceId(T0 + i * 50);
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
  for (let i = 0; i < n; i += FILL_BATCH) batch(i, Math.min(n, i + FILL_BATCH));
  db.exec(rollupBackfillSql(false, 'trace_rollup'));
  db.exec(rollupBackfillSql(false, 'trace_rollup_hour'));
  db.exec(rollupBackfillSql(false, 'trace_rollup_all'));
}

/** A finished call as the gateway records it: request bytes, even ones raw SSE (no usage: estimated), odd ones raw JSON. */
export function callRecord(i: number): CallRecord {
  const q = sentence(12);
  const a = sentence(20);
  const sse = i % 2 === 0;
  const chunk = (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const request = { model: 'm', messages: [{ role: 'user', content: q }], ...(sse ? { stream: true } : {}) };
  const upstreamRequest = sse ? { ...request, stream_options: { include_usage: true } } : request;
  const reply = {
    id: 'c',
    object: 'chat.completion',
    created: 1,
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content: a }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 30, completion_tokens: 40, total_tokens: 70 },
  };
  return {
    id: newTraceId(),
    startedAt: Date.now(),
    endpoint: '/v1/chat/completions',
    model: pick(MODELS),
    provider: 'up',
    upstreamModel: 'm',
    stream: sse,
    keyId: pick(KEYS),
    sessionId: null,
    metadata: null,
    request,
    requestBytes: Buffer.from(JSON.stringify(request)),
    upstreamRequest,
    response: sse
      ? {
          kind: 'sse',
          chunks: [
            Buffer.from(chunk({ role: 'assistant', content: a.slice(0, 40) }, null)),
            Buffer.from(chunk({ content: a.slice(40) }, null) + chunk({}, 'stop') + 'data: [DONE]\n\n'),
          ],
        }
      : { kind: 'raw-json', bytes: Buffer.from(JSON.stringify(reply)) },
    status: 'success',
    httpStatus: 200,
    error: null,
    latencyMs: 100 + (i % 50) * 10,
    ttftMs: sse ? 50 : null,
    overheadMs: 1,
    attempts: [{ provider: 'up', model: 'm', status: 200, error: null, latency_ms: 199 }],
    usage: null,
    replayOf: null,
    sessionOf: null,
  };
}
