/** What the trace tables look like to the code: dialect helpers, row → API view, cursors. */
import { jsonOrText } from '../common/json-text';
import type { DataSource, EntityManager } from 'typeorm';

export type Row = Record<string, unknown>;

export interface TraceView {
  id: string;
  created_at: string;
  session_id: string;
  turn: number;
  endpoint: string;
  key_id: string | null;
  model: string | null;
  provider: string | null;
  upstream_model: string | null;
  stream: boolean;
  status: string;
  http_status: number;
  error: string | null;
  latency_ms: number;
  ttft_ms: number | null;
  overhead_ms: number;
  usage: {
    prompt_tokens: number;
    completion_tokens: number;
    total_tokens: number;
    cached_tokens: number;
    reasoning_tokens: number;
    source: string | null;
  };
  attempts: unknown;
  flags: { multimodal: boolean; tools: boolean };
  metadata: unknown;
  replay_of: string | null;
  request?: unknown;
  upstream_request?: unknown;
  response?: unknown;
}

export const TRACE_COLUMNS = [
  'id',
  'created_at',
  'session_id',
  'turn',
  'endpoint',
  'key_id',
  'model',
  'provider',
  'upstream_model',
  'stream',
  'status',
  'http_status',
  'error',
  'latency_ms',
  'ttft_ms',
  'overhead_ms',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'cached_tokens',
  'reasoning_tokens',
  'usage_source',
  'multimodal',
  'tools',
  'attempts',
  'metadata',
  'replay_of',
] as const;

/** `t.id, t.created_at, …` */
export const T_COLUMNS = TRACE_COLUMNS.map((c) => `t.${c}`).join(', ');

/** Runs a read query elsewhere than on the DataSource (SQLite: the reader thread). */
export type SqlReader = (sql: string, params: unknown[]) => Promise<Row[]>;

/** Runs SQL written with `?` placeholders on either driver. */
export class Sql {
  readonly pg: boolean;

  /** With `reader`, queries not given an EntityManager go to it: only read-only code passes one. */
  constructor(
    readonly ds: DataSource,
    private readonly reader: SqlReader | null = null,
  ) {
    this.pg = ds.options.type === 'postgres';
  }

  text(sql: string): string {
    if (!this.pg) return sql;
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  }

  bool(v: boolean): boolean | number {
    return this.pg ? v : v ? 1 : 0;
  }

  query(sql: string, params: unknown[] = [], m: EntityManager | DataSource = this.ds): Promise<Row[]> {
    if (this.reader && m === this.ds) return this.reader(this.text(sql), params);
    return m.query<Row[]>(this.text(sql), params);
  }
}

export function placeholders(rows: number, cols: number): string {
  const one = `(${new Array<string>(cols).fill('?').join(', ')})`;
  return new Array<string>(rows).fill(one).join(', ');
}

export function parseJson(v: unknown): unknown {
  if (typeof v !== 'string') return v ?? null;
  return jsonOrText(v).value;
}

export function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v ?? 0);
}

function str(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function flag(v: unknown): boolean {
  return v === true || v === 1 || v === '1';
}

export { str as columnText };

export function toView(r: Row): TraceView {
  return {
    id: String(r.id),
    created_at: new Date(num(r.created_at)).toISOString(),
    session_id: String(r.session_id),
    turn: num(r.turn),
    endpoint: String(r.endpoint),
    key_id: str(r.key_id),
    model: str(r.model),
    provider: str(r.provider),
    upstream_model: str(r.upstream_model),
    stream: flag(r.stream),
    status: String(r.status),
    http_status: num(r.http_status),
    error: str(r.error),
    latency_ms: num(r.latency_ms),
    ttft_ms: r.ttft_ms === null || r.ttft_ms === undefined ? null : num(r.ttft_ms),
    overhead_ms: num(r.overhead_ms),
    usage: {
      prompt_tokens: num(r.prompt_tokens),
      completion_tokens: num(r.completion_tokens),
      total_tokens: num(r.total_tokens),
      cached_tokens: num(r.cached_tokens),
      reasoning_tokens: num(r.reasoning_tokens),
      source: str(r.usage_source),
    },
    attempts: parseJson(r.attempts),
    flags: { multimodal: flag(r.multimodal), tools: flag(r.tools) },
    metadata: parseJson(r.metadata),
    replay_of: str(r.replay_of),
  };
}

/** A view with its bodies (`request`, `upstream_request`, `response` columns of `r`). */
export function withBodies(view: TraceView, r: Row | undefined): TraceView {
  return {
    ...view,
    request: parseJson(r?.request),
    upstream_request: parseJson(r?.upstream_request),
    response: parseJson(r?.response),
  };
}

/** Keyset position: `(created_at, id)` for time order, or the storage sequence for text search. */
export type Cursor = { kind: 'time'; at: number; id: string } | { kind: 'seq'; seq: number };

export function encodeCursor(c: Cursor): string {
  const raw = c.kind === 'time' ? `t:${c.at}:${c.id}` : `s:${c.seq}`;
  return Buffer.from(raw).toString('base64url');
}

export function decodeCursor(cursor: string): Cursor | null {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^t:(\d+):(.+)$/s.exec(raw);
  if (m?.[1] !== undefined && m[2] !== undefined) return { kind: 'time', at: Number(m[1]), id: m[2] };
  const s = /^s:(\d+)$/.exec(raw);
  if (s?.[1] !== undefined) return { kind: 'seq', seq: Number(s[1]) };
  return null;
}

/** FTS5 query from free text: every word must occur (each quoted, so no operator syntax leaks). */
export function ftsQuery(q: string): string | null {
  const words = q
    .split(/\s+/)
    .map((w) => w.trim())
    .filter((w) => /[\p{L}\p{N}]/u.test(w));
  if (words.length === 0) return null;
  return words.map((w) => `"${w.replace(/"/g, '""')}"`).join(' ');
}
