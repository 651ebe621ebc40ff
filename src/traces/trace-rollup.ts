/**
 * Per-minute pre-aggregation of traces for /api/stats: one row per (minute, model, provider,
 * latency bucket) with request, error and token counts. Latency buckets are logarithmic, 8 per
 * doubling (each ~9% wide), so percentiles read from them are within that width of the exact
 * value. The writer adds to it in the same transaction as the traces; deletes subtract.
 */

export const MINUTE_MS = 60_000;
const STEPS = 8;
const FLOOR_MS = 0.01;

export function latencyBucket(ms: number): number {
  return Math.floor(STEPS * Math.log2(Math.max(ms, FLOOR_MS) / FLOOR_MS));
}

/** A representative latency of a bucket: its geometric middle. */
export function bucketLatency(b: number): number {
  return Math.round(FLOOR_MS * 2 ** ((b + 0.5) / STEPS) * 100) / 100;
}

/** The same bucket in SQL (SQLite 3.35+ math functions, PostgreSQL). */
export function latencyBucketSql(pg: boolean, col: string): string {
  return pg
    ? `CAST(floor(${STEPS} * log(2, (GREATEST(${col}, ${FLOOR_MS}) / ${FLOOR_MS})::numeric)) AS INTEGER)`
    : `CAST(floor(${STEPS} * log2(MAX(${col}, ${FLOOR_MS}) / ${FLOOR_MS})) AS INTEGER)`;
}

export const ROLLUP_COLUMNS =
  'minute, model, provider, lat_bucket, requests, errors, prompt_tokens, completion_tokens, total_tokens';

const ROLLUP_CONFLICT = `ON CONFLICT (minute, model, provider, lat_bucket) DO UPDATE SET
  requests = trace_rollup.requests + excluded.requests,
  errors = trace_rollup.errors + excluded.errors,
  prompt_tokens = trace_rollup.prompt_tokens + excluded.prompt_tokens,
  completion_tokens = trace_rollup.completion_tokens + excluded.completion_tokens,
  total_tokens = trace_rollup.total_tokens + excluded.total_tokens`;

/** Upsert of one row with `?` placeholders. */
export const ROLLUP_UPSERT = `INSERT INTO trace_rollup (${ROLLUP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ${ROLLUP_CONFLICT}`;

/** Upsert of `n` rows (keys must be distinct). */
export function rollupUpsertMany(n: number): string {
  const one = '(?, ?, ?, ?, ?, ?, ?, ?, ?)';
  return `INSERT INTO trace_rollup (${ROLLUP_COLUMNS}) VALUES ${new Array<string>(n).fill(one).join(', ')} ${ROLLUP_CONFLICT}`;
}

export interface RollupSource {
  createdAt: number;
  model: string | null;
  provider: string | null;
  latencyMs: number;
  status: string;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

type RollupRow = [string, string, string, number, number, number, number, number, number] | unknown[];

/** Adds one trace (or, with sign -1, removes it) to a batch's rollup rows. */
export function addRollup(acc: Map<string, unknown[]>, t: RollupSource, sign = 1): void {
  const minute = Math.floor(t.createdAt / MINUTE_MS) * MINUTE_MS;
  const model = t.model ?? '';
  const provider = t.provider ?? '';
  const b = latencyBucket(t.latencyMs);
  const key = `${minute}\u0000${model}\u0000${provider}\u0000${b}`;
  let row = acc.get(key) as number[] | undefined;
  if (!row) {
    row = [minute, model, provider, b, 0, 0, 0, 0, 0] as unknown as number[];
    acc.set(key, row);
  }
  row[4]! += sign;
  if (t.status === 'error') row[5]! += sign;
  row[6]! += sign * (t.usage?.prompt_tokens ?? 0);
  row[7]! += sign * (t.usage?.completion_tokens ?? 0);
  row[8]! += sign * (t.usage?.total_tokens ?? 0);
}

export function rollupRows(acc: Map<string, unknown[]>): RollupRow[] {
  return [...acc.values()];
}

/** Fills the rollup from the traces already stored (migration; bulk loads). */
export function rollupBackfillSql(pg: boolean): string {
  // Integer division on both databases (created_at is a BIGINT of epoch ms).
  return `INSERT INTO trace_rollup (${ROLLUP_COLUMNS})
    SELECT (created_at / ${MINUTE_MS}) * ${MINUTE_MS}, COALESCE(model, ''), COALESCE(provider, ''), ${latencyBucketSql(pg, 'latency_ms')},
      COUNT(*), SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END), SUM(prompt_tokens), SUM(completion_tokens), SUM(total_tokens)
    FROM traces GROUP BY 1, 2, 3, 4`;
}
