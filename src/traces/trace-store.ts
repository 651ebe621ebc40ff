/**
 * Trace storage over the shared TypeORM DataSource (SQLite or PostgreSQL). Lists and filters
 * read only the indexed `traces` table; bodies live in `trace_bodies` and are read for one
 * record or one session at a time.
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { TraceDraft } from './trace-builder';
import { sessionName } from './threading';

export interface TraceFilters {
  model?: string;
  status?: string;
  key_id?: string;
  session_id?: string;
  since?: number;
  until?: number;
  q?: string;
}

type Row = Record<string, unknown>;

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

const LIST_COLUMNS =
  'id, created_at, session_id, turn, endpoint, key_id, model, provider, upstream_model, stream, status, http_status, error, latency_ms, ttft_ms, overhead_ms, prompt_tokens, completion_tokens, total_tokens, cached_tokens, reasoning_tokens, usage_source, multimodal, tools, attempts, metadata, replay_of';

function parseJson(v: unknown): unknown {
  if (typeof v !== 'string') return v ?? null;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v ?? 0);
}

function toView(r: Row): TraceView {
  return {
    id: String(r.id),
    created_at: new Date(num(r.created_at)).toISOString(),
    session_id: String(r.session_id),
    turn: num(r.turn),
    endpoint: String(r.endpoint),
    key_id: (r.key_id as string | null) ?? null,
    model: (r.model as string | null) ?? null,
    provider: (r.provider as string | null) ?? null,
    upstream_model: (r.upstream_model as string | null) ?? null,
    stream: r.stream === true || r.stream === 1,
    status: String(r.status),
    http_status: num(r.http_status),
    error: (r.error as string | null) ?? null,
    latency_ms: num(r.latency_ms),
    ttft_ms: r.ttft_ms === null || r.ttft_ms === undefined ? null : num(r.ttft_ms),
    overhead_ms: num(r.overhead_ms),
    usage: {
      prompt_tokens: num(r.prompt_tokens),
      completion_tokens: num(r.completion_tokens),
      total_tokens: num(r.total_tokens),
      cached_tokens: num(r.cached_tokens),
      reasoning_tokens: num(r.reasoning_tokens),
      source: (r.usage_source as string | null) ?? null,
    },
    attempts: parseJson(r.attempts),
    flags: { multimodal: r.multimodal === true || r.multimodal === 1, tools: r.tools === true || r.tools === 1 },
    metadata: parseJson(r.metadata),
    replay_of: (r.replay_of as string | null) ?? null,
  };
}

export function encodeCursor(createdAt: number, id: string): string {
  return Buffer.from(`${createdAt}:${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: number; id: string } | null {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  const i = raw.indexOf(':');
  const createdAt = Number(raw.slice(0, i));
  if (i < 1 || !Number.isFinite(createdAt)) return null;
  return { createdAt, id: raw.slice(i + 1) };
}

export class TraceStore {
  private readonly pg: boolean;

  constructor(private readonly ds: DataSource) {
    this.pg = ds.options.type === 'postgres';
  }

  /** `?` placeholders, numbered for PostgreSQL. */
  private sql(text: string): string {
    if (!this.pg) return text;
    let n = 0;
    return text.replace(/\?/g, () => `$${++n}`);
  }

  private bool(v: boolean): boolean | number {
    return this.pg ? v : v ? 1 : 0;
  }

  private async query(m: EntityManager | DataSource, text: string, params: unknown[] = []): Promise<Row[]> {
    return m.query<Row[]>(this.sql(text), params);
  }

  /** Inserts a batch in one transaction, threading each trace into its session. */
  async insertBatch(drafts: readonly TraceDraft[], storeBodies: boolean): Promise<Array<{ id: string; session_id: string; turn: number }>> {
    return this.ds.transaction(async (m) => {
      const byReply = new Map<string, { session: string; turn: number }>();
      const turns = new Map<string, number>();
      const out: Array<{ id: string; session_id: string; turn: number }> = [];
      for (const d of drafts) {
        let session: string;
        let turn: number;
        if (d.sessionHeader) {
          session = d.sessionHeader;
          let current = turns.get(session);
          if (current === undefined) {
            const rows = await this.query(m, 'SELECT turns FROM sessions WHERE id = ?', [session]);
            current = rows[0] ? num(rows[0].turns) : 0;
          }
          turn = current + 1;
        } else {
          let parent = d.parentHash ? byReply.get(d.parentHash) : undefined;
          if (!parent && d.parentHash) {
            const rows = await this.query(m, 'SELECT session_id, turn FROM traces WHERE reply_hash = ? ORDER BY created_at DESC LIMIT 1', [d.parentHash]);
            if (rows[0]) parent = { session: String(rows[0].session_id), turn: num(rows[0].turn) };
          }
          session = parent ? parent.session : d.id;
          turn = parent ? parent.turn + 1 : 1;
        }
        turns.set(session, Math.max(turns.get(session) ?? 0, turn));
        if (d.replyHash) byReply.set(d.replyHash, { session, turn });
        const u = d.usage;
        await this.query(
          m,
          `INSERT INTO traces (${LIST_COLUMNS}, reply_hash) VALUES (${new Array(28).fill('?').join(', ')})`,
          [
            d.id, d.createdAt, session, turn, d.endpoint, d.keyId, d.model, d.provider, d.upstreamModel, this.bool(d.stream),
            d.status, d.httpStatus, d.error, d.latencyMs, d.ttftMs, d.overheadMs,
            u?.prompt_tokens ?? 0, u?.completion_tokens ?? 0, u?.total_tokens ?? 0, u?.cached_tokens ?? 0, u?.reasoning_tokens ?? 0, u?.source ?? null,
            this.bool(d.multimodal), this.bool(d.tools), JSON.stringify(d.attempts), d.metadata ? JSON.stringify(d.metadata) : null, d.replayOf, d.replyHash,
          ],
        );
        if (storeBodies) {
          await this.query(m, 'INSERT INTO trace_bodies (trace_id, request, upstream_request, response) VALUES (?, ?, ?, ?)', [
            d.id,
            JSON.stringify(d.request ?? null),
            JSON.stringify(d.upstreamRequest ?? null),
            JSON.stringify(d.response ?? null),
          ]);
        }
        const existing = await this.query(m, 'SELECT models FROM sessions WHERE id = ?', [session]);
        const model = d.model ?? '';
        if (existing[0]) {
          const models = new Set<string>((parseJson(existing[0].models) as string[] | null) ?? []);
          if (model) models.add(model);
          await this.query(
            m,
            `UPDATE sessions SET last_at = CASE WHEN last_at > ? THEN last_at ELSE ? END, turns = CASE WHEN turns > ? THEN turns ELSE ? END, models = ?, total_tokens = total_tokens + ? WHERE id = ?`,
            [d.createdAt, d.createdAt, turn, turn, JSON.stringify([...models]), u?.total_tokens ?? 0, session],
          );
        } else {
          await this.query(m, 'INSERT INTO sessions (id, name, first_at, last_at, turns, models, total_tokens) VALUES (?, ?, ?, ?, ?, ?, ?)', [
            session,
            sessionName(d.messages as never[]),
            d.createdAt,
            d.createdAt,
            turn,
            JSON.stringify(model ? [model] : []),
            u?.total_tokens ?? 0,
          ]);
        }
        out.push({ id: d.id, session_id: session, turn });
      }
      return out;
    });
  }

  async list(filters: TraceFilters, limit: number, cursor: string | null): Promise<{ data: TraceView[]; next_cursor: string | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const eq = (col: string, v: string | undefined): void => {
      if (v !== undefined && v !== '') {
        where.push(`t.${col} = ?`);
        params.push(v);
      }
    };
    eq('model', filters.model);
    eq('status', filters.status);
    eq('key_id', filters.key_id);
    eq('session_id', filters.session_id);
    if (filters.since !== undefined) {
      where.push('t.created_at >= ?');
      params.push(filters.since);
    }
    if (filters.until !== undefined) {
      where.push('t.created_at < ?');
      params.push(filters.until);
    }
    if (filters.q) {
      where.push(`EXISTS (SELECT 1 FROM trace_bodies b WHERE b.trace_id = t.id AND (b.request ${this.pg ? 'ILIKE' : 'LIKE'} ? OR b.response ${this.pg ? 'ILIKE' : 'LIKE'} ?))`);
      const like = `%${filters.q.replace(/[%_]/g, '')}%`;
      params.push(like, like);
    }
    const c = cursor ? decodeCursor(cursor) : null;
    if (c) {
      where.push('(t.created_at < ? OR (t.created_at = ? AND t.id < ?))');
      params.push(c.createdAt, c.createdAt, c.id);
    }
    const cols = LIST_COLUMNS.split(', ').map((x) => `t.${x}`).join(', ');
    const rows = await this.query(
      this.ds,
      `SELECT ${cols} FROM traces t ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY t.created_at DESC, t.id DESC LIMIT ?`,
      [...params, limit + 1],
    );
    const page = rows.slice(0, limit).map(toView);
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return { data: page, next_cursor: last ? encodeCursor(num(last.created_at), String(last.id)) : null };
  }

  async get(id: string): Promise<TraceView | null> {
    const rows = await this.query(
      this.ds,
      `SELECT ${LIST_COLUMNS.split(', ').map((x) => `t.${x}`).join(', ')}, b.request, b.upstream_request, b.response FROM traces t LEFT JOIN trace_bodies b ON b.trace_id = t.id WHERE t.id = ?`,
      [id],
    );
    const r = rows[0];
    if (!r) return null;
    return { ...toView(r), request: parseJson(r.request), upstream_request: parseJson(r.upstream_request), response: parseJson(r.response) };
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.query(this.ds, 'SELECT id FROM traces WHERE id = ?', [id]);
    if (!rows[0]) return false;
    await this.ds.transaction(async (m) => {
      await this.query(m, 'DELETE FROM trace_bodies WHERE trace_id = ?', [id]);
      await this.query(m, 'DELETE FROM traces WHERE id = ?', [id]);
    });
    return true;
  }

  async sessions(limit: number, cursor: string | null): Promise<{ data: Row[]; next_cursor: string | null }> {
    const c = cursor ? decodeCursor(cursor) : null;
    const rows = await this.query(
      this.ds,
      `SELECT id, name, first_at, last_at, turns, models, total_tokens FROM sessions ${c ? 'WHERE (last_at < ? OR (last_at = ? AND id < ?))' : ''} ORDER BY last_at DESC, id DESC LIMIT ?`,
      c ? [c.createdAt, c.createdAt, c.id, limit + 1] : [limit + 1],
    );
    const data = rows.slice(0, limit).map((r) => ({
      id: r.id,
      name: r.name,
      first_at: new Date(num(r.first_at)).toISOString(),
      last_at: new Date(num(r.last_at)).toISOString(),
      turns: num(r.turns),
      models: parseJson(r.models),
      total_tokens: num(r.total_tokens),
    }));
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return { data, next_cursor: last ? encodeCursor(num(last.last_at), String(last.id)) : null };
  }

  async sessionRecords(id: string): Promise<TraceView[]> {
    const rows = await this.query(
      this.ds,
      `SELECT ${LIST_COLUMNS.split(', ').map((x) => `t.${x}`).join(', ')}, b.request, b.upstream_request, b.response FROM traces t LEFT JOIN trace_bodies b ON b.trace_id = t.id WHERE t.session_id = ? ORDER BY t.turn ASC, t.created_at ASC LIMIT 1000`,
      [id],
    );
    return rows.map((r) => ({ ...toView(r), request: parseJson(r.request), upstream_request: parseJson(r.upstream_request), response: parseJson(r.response) }));
  }

  async deleteOlderThan(cutoff: number): Promise<void> {
    await this.query(this.ds, 'DELETE FROM trace_bodies WHERE trace_id IN (SELECT id FROM traces WHERE created_at < ?)', [cutoff]);
    await this.query(this.ds, 'DELETE FROM traces WHERE created_at < ?', [cutoff]);
  }
}
