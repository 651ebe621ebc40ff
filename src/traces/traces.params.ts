/** Query-string parsing for /api: limits, times, filters, stats ranges (400 in OpenAI shape). */
import { GatewayError } from '../common/errors';
import type { TraceFilters } from './trace-query';
import { defaultBucket, parseBucket } from './trace-stats';

export type QueryBag = Record<string, string | string[] | undefined>;

function one(q: QueryBag, name: string): string | undefined {
  const v = q[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

export function limitOf(q: QueryBag, max = 500): number {
  const v = one(q, 'limit');
  if (v === undefined || v === '') return 50;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw GatewayError.badRequest(`\`limit\` must be an integer from 1 to ${max}.`, 'limit');
  }
  return n;
}

export function cursorOf(q: QueryBag): string | null {
  const v = one(q, 'cursor');
  return v ? v : null;
}

export function timeOf(q: QueryBag, name: string): number | undefined {
  const v = one(q, name);
  if (v === undefined || v === '') return undefined;
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t)) throw GatewayError.badRequest(`\`${name}\` must be an ISO 8601 time or epoch milliseconds.`, name);
  return t;
}

export function filtersOf(q: QueryBag): TraceFilters {
  const filters: TraceFilters = {};
  for (const k of ['model', 'provider', 'status', 'key_id', 'session_id', 'q'] as const) {
    const v = one(q, k);
    if (v) filters[k] = v;
  }
  const since = timeOf(q, 'since');
  const until = timeOf(q, 'until');
  if (since !== undefined) filters.since = since;
  if (until !== undefined) filters.until = until;
  return filters;
}

export function statsRangeOf(q: QueryBag, now = Date.now()): { since: number; until: number; bucketS: number } {
  const until = timeOf(q, 'until') ?? now;
  const since = timeOf(q, 'since') ?? until - 86_400_000;
  if (since >= until) throw GatewayError.badRequest('`since` must be before `until`.', 'since');
  const raw = one(q, 'bucket');
  let bucketS = defaultBucket(until - since);
  if (raw !== undefined && raw !== '') {
    const b = parseBucket(raw);
    if (b === null) throw GatewayError.badRequest('`bucket` must be a duration such as 60s, 5m, 1h or 1d.', 'bucket');
    bucketS = b;
  }
  if ((until - since) / 1000 / bucketS > 10_000) {
    throw GatewayError.badRequest('`bucket` is too small for the range (more than 10,000 buckets).', 'bucket');
  }
  return { since, until, bucketS };
}
