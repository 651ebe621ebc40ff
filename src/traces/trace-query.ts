/**
 * Trace reads. Lists and filters touch only the indexed `traces` table (newest first, keyset
 * paging); bodies are read for one record, one session, or one export page at a time. Text
 * search goes through the FTS5 table (SQLite, newest stored first) or the tsvector index
 * (PostgreSQL).
 */
import type { DataSource } from 'typeorm';
import {
  decodeCursor,
  encodeCursor,
  ftsQuery,
  num,
  parseJson,
  Sql,
  type SqlReader,
  T_COLUMNS,
  toView,
  withBodies,
  type Cursor,
  type Row,
  type TraceView,
} from './trace-sql';

export interface TraceFilters {
  model?: string;
  provider?: string;
  status?: string;
  key_id?: string;
  session_id?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  q?: string;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface SessionView {
  id: string;
  name: string;
  first_at: string;
  last_at: string;
  turns: number;
  models: unknown;
  total_tokens: number;
}

const BODY_COLUMNS = 'b.request, b.upstream_request, b.response';

export class TraceQuery {
  private readonly sql: Sql;

  /** `reader`: where reads run instead of the DataSource (SQLite: a thread of their own). */
  constructor(ds: DataSource, reader: SqlReader | null = null) {
    this.sql = new Sql(ds, reader);
  }

  private where(filters: TraceFilters): { clauses: string[]; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    for (const col of ['model', 'provider', 'status', 'key_id', 'session_id'] as const) {
      const v = filters[col];
      if (v !== undefined && v !== '') {
        clauses.push(`t.${col} = ?`);
        params.push(v);
      }
    }
    if (filters.since !== undefined) {
      clauses.push('t.created_at >= ?');
      params.push(filters.since);
    }
    if (filters.until !== undefined) {
      clauses.push('t.created_at < ?');
      params.push(filters.until);
    }
    return { clauses, params };
  }

  /** One page of list rows (no bodies), newest first. */
  async list(filters: TraceFilters, limit: number, cursor: string | null): Promise<Page<TraceView>> {
    const c = cursor ? decodeCursor(cursor) : null;
    const q = filters.q?.trim() ? filters.q.trim() : null;
    if (q !== null && !this.sql.pg) return this.searchSqlite(filters, q, limit, c);
    const { clauses, params } = this.where(filters);
    if (q !== null) {
      clauses.push("t.id IN (SELECT trace_id FROM trace_search WHERE tsv @@ plainto_tsquery('simple', ?))");
      params.push(q);
    }
    if (c?.kind === 'time') {
      clauses.push('(t.created_at < ? OR (t.created_at = ? AND t.id < ?))');
      params.push(c.at, c.at, c.id);
    }
    const rows = await this.sql.query(
      `SELECT ${T_COLUMNS} FROM traces t ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''}
       ORDER BY t.created_at DESC, t.id DESC LIMIT ?`,
      [...params, limit + 1],
    );
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return {
      data: rows.slice(0, limit).map(toView),
      next_cursor: last ? encodeCursor({ kind: 'time', at: num(last.created_at), id: String(last.id) }) : null,
    };
  }

  /** FTS5 drives the loop (CROSS JOIN keeps it outer), walking rowids newest first and stopping at the page end. */
  private async searchSqlite(filters: TraceFilters, q: string, limit: number, c: Cursor | null): Promise<Page<TraceView>> {
    const match = ftsQuery(q);
    if (match === null) return { data: [], next_cursor: null };
    const { clauses, params } = this.where(filters);
    clauses.unshift('f.body MATCH ?');
    params.unshift(match);
    if (c?.kind === 'seq') {
      clauses.push('f.rowid < ?');
      params.push(c.seq);
    }
    const rows = await this.sql.query(
      `SELECT ${T_COLUMNS}, f.rowid AS seq FROM trace_fts f CROSS JOIN traces t ON t.rowid = f.rowid
       WHERE ${clauses.join(' AND ')} ORDER BY f.rowid DESC LIMIT ?`,
      [...params, limit + 1],
    );
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return {
      data: rows.slice(0, limit).map(toView),
      next_cursor: last ? encodeCursor({ kind: 'seq', seq: num(last.seq) }) : null,
    };
  }

  async get(id: string): Promise<TraceView | null> {
    const rows = await this.sql.query(
      `SELECT ${T_COLUMNS}, ${BODY_COLUMNS} FROM traces t LEFT JOIN trace_bodies b ON b.trace_id = t.id WHERE t.id = ?`,
      [id],
    );
    const r = rows[0];
    return r ? withBodies(toView(r), r) : null;
  }

  /** Bodies of the given traces, by id. */
  async bodies(ids: readonly string[]): Promise<Map<string, Row>> {
    if (ids.length === 0) return new Map();
    const rows = await this.sql.query(
      `SELECT trace_id, request, upstream_request, response FROM trace_bodies WHERE trace_id IN (${ids.map(() => '?').join(', ')})`,
      [...ids],
    );
    return new Map(rows.map((r) => [String(r.trace_id), r]));
  }

  /** Every matching trace with its bodies, newest first, a page at a time. */
  async *export(filters: TraceFilters, pageSize = 200): AsyncGenerator<TraceView> {
    let cursor: string | null = null;
    do {
      const page = await this.list(filters, pageSize, cursor);
      const bodies = await this.bodies(page.data.map((t) => t.id));
      for (const t of page.data) yield withBodies(t, bodies.get(t.id));
      cursor = page.next_cursor;
    } while (cursor !== null);
  }

  async sessions(limit: number, cursor: string | null): Promise<Page<SessionView>> {
    const c = cursor ? decodeCursor(cursor) : null;
    const after = c?.kind === 'time';
    const rows = await this.sql.query(
      `SELECT id, name, first_at, last_at, turns, models, total_tokens FROM sessions
       ${after ? 'WHERE (last_at < ? OR (last_at = ? AND id < ?))' : ''} ORDER BY last_at DESC, id DESC LIMIT ?`,
      c?.kind === 'time' ? [c.at, c.at, c.id, limit + 1] : [limit + 1],
    );
    const data = rows.slice(0, limit).map((r) => ({
      id: String(r.id),
      name: String(r.name),
      first_at: new Date(num(r.first_at)).toISOString(),
      last_at: new Date(num(r.last_at)).toISOString(),
      turns: num(r.turns),
      models: parseJson(r.models),
      total_tokens: num(r.total_tokens),
    }));
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return {
      data,
      next_cursor: last ? encodeCursor({ kind: 'time', at: num(last.last_at), id: String(last.id) }) : null,
    };
  }

  /** A session's traces with bodies, by turn. */
  async sessionRecords(id: string, limit = 1000): Promise<TraceView[]> {
    const rows = await this.sql.query(
      `SELECT ${T_COLUMNS}, ${BODY_COLUMNS} FROM traces t LEFT JOIN trace_bodies b ON b.trace_id = t.id
       WHERE t.session_id = ? ORDER BY t.turn ASC, t.created_at ASC LIMIT ?`,
      [id, limit],
    );
    return rows.map((r) => withBodies(toView(r), r));
  }
}
