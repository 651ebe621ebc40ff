/**
 * Pre-aggregation of traces for /api/stats: one row per (minute — and, in a second table, per
 * hour —, model, provider, latency bucket) with request, error and token counts. Latency buckets are logarithmic, 8 per
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

export const HOUR_MS = 3_600_000;

/**
 * The levels (column `minute` holds the period start): per minute and per hour by model and
 * provider (totals and per-model figures; hours for the inside of long ranges), and per minute
 * over all models (time buckets: a few rows per minute whatever the number of models).
 */
export const ROLLUP_LEVELS = [
  { table: 'trace_rollup', unitMs: MINUTE_MS, perModel: true },
  { table: 'trace_rollup_hour', unitMs: HOUR_MS, perModel: true },
  { table: 'trace_rollup_all', unitMs: MINUTE_MS, perModel: false },
] as const;

export type RollupTable = (typeof ROLLUP_LEVELS)[number]['table'];

function conflict(table: RollupTable): string {
  return `ON CONFLICT (minute, model, provider, lat_bucket) DO UPDATE SET
  requests = ${table}.requests + excluded.requests,
  errors = ${table}.errors + excluded.errors,
  prompt_tokens = ${table}.prompt_tokens + excluded.prompt_tokens,
  completion_tokens = ${table}.completion_tokens + excluded.completion_tokens,
  total_tokens = ${table}.total_tokens + excluded.total_tokens`;
}

/** Upsert of `n` rows (keys must be distinct) with `?` placeholders. */
export function rollupUpsert(table: RollupTable, n = 1): string {
  const one = '(?, ?, ?, ?, ?, ?, ?, ?, ?)';
  return `INSERT INTO ${table} (${ROLLUP_COLUMNS}) VALUES ${new Array<string>(n).fill(one).join(', ')} ${conflict(table)}`;
}

export interface RollupSource {
  createdAt: number;
  model: string | null;
  provider: string | null;
  latencyMs: number;
  status: string;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

/** What a batch of traces adds to (or, with sign -1, removes from) both rollup levels. */
export class RollupDelta {
  private readonly rowsByTable = new Map<RollupTable, Map<string, number[]>>(
    ROLLUP_LEVELS.map((l) => [l.table, new Map<string, number[]>()]),
  );
  private readonly keys = new Map<string, [string, string]>();

  add(t: RollupSource, sign = 1): void {
    const b = latencyBucket(t.latencyMs);
    for (const { table, unitMs, perModel } of ROLLUP_LEVELS) {
      const model = perModel ? (t.model ?? '') : '';
      const provider = perModel ? (t.provider ?? '') : '';
      const start = Math.floor(t.createdAt / unitMs) * unitMs;
      const key = `${start}\u0000${model}\u0000${provider}\u0000${b}`;
      const acc = this.rowsByTable.get(table)!;
      let row = acc.get(key);
      if (!row) {
        row = [start, b, 0, 0, 0, 0, 0];
        acc.set(key, row);
        this.keys.set(key, [model, provider]);
      }
      row[2]! += sign;
      if (t.status === 'error') row[3]! += sign;
      row[4]! += sign * (t.usage?.prompt_tokens ?? 0);
      row[5]! += sign * (t.usage?.completion_tokens ?? 0);
      row[6]! += sign * (t.usage?.total_tokens ?? 0);
    }
  }

  /** Rows for `table` in ROLLUP_COLUMNS order. */
  rows(table: RollupTable): unknown[][] {
    return [...this.rowsByTable.get(table)!].map(([key, r]) => {
      const [model, provider] = this.keys.get(key)!;
      return [r[0], model, provider, r[1], r[2], r[3], r[4], r[5], r[6]];
    });
  }
}

/** The table of one rollup level. */
export function rollupTableDdl(table: RollupTable): string {
  return `CREATE TABLE ${table} (
    minute BIGINT NOT NULL,
    model VARCHAR(200) NOT NULL,
    provider VARCHAR(200) NOT NULL,
    lat_bucket INTEGER NOT NULL,
    requests BIGINT NOT NULL,
    errors BIGINT NOT NULL,
    prompt_tokens BIGINT NOT NULL,
    completion_tokens BIGINT NOT NULL,
    total_tokens BIGINT NOT NULL,
    PRIMARY KEY (minute, model, provider, lat_bucket)
  )`;
}

/** Fills a rollup level from the traces already stored (migrations; bulk loads). */
export function rollupBackfillSql(pg: boolean, table: RollupTable = 'trace_rollup'): string {
  const level = ROLLUP_LEVELS.find((l) => l.table === table)!;
  const unit = level.unitMs;
  const keys = level.perModel ? "COALESCE(model, ''), COALESCE(provider, '')" : "'', ''";
  // Integer division on both databases (created_at is a BIGINT of epoch ms).
  return `INSERT INTO ${table} (${ROLLUP_COLUMNS})
    SELECT (created_at / ${unit}) * ${unit}, ${keys}, ${latencyBucketSql(pg, 'latency_ms')},
      COUNT(*), SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END), SUM(prompt_tokens), SUM(completion_tokens), SUM(total_tokens)
    FROM traces GROUP BY 1, 2, 3, 4`;
}
